import { DeviceID } from "../ids.js";
import type { DateTime } from "../time.js";
import { ballparkOffsets, timestampsInTheBallpark } from "./ballpark.js";
import { describeLoadFailure, verifyAndLoad, type CertificateLoadFailure } from "./load.js";
import type { DeviceCertificate, RevokedUserCertificate, SequesterAuthorityCertificate, UserCertificate } from "./types.js";

/**
 * Parsec's `bad_timestamp` reply content: the client's timestamp is out of the ballpark of the server's clock.
 * Offsets are in seconds (written as float 64 on the wire).
 */
export interface BadTimestamp {
  readonly kind: "bad_timestamp";
  readonly clientTimestamp: DateTime;
  readonly backendTimestamp: DateTime;
  readonly ballparkClientEarlyOffset: number;
  readonly ballparkClientLateOffset: number;
}

/** The {@link BadTimestamp} outcome for `client` judged at server time `backend`, with {@link ballparkOffsets}. */
export const badTimestamp = (client: DateTime, backend: DateTime): BadTimestamp => ({
  kind: "bad_timestamp",
  clientTimestamp: client,
  backendTimestamp: backend,
  ballparkClientEarlyOffset: ballparkOffsets.clientEarlyOffset,
  ballparkClientLateOffset: ballparkOffsets.clientLateOffset,
});

/** A certificate refused: bad signature, unreadable, wrong type or wrong author (Parsec status `invalid_certification`). */
export interface InvalidCertification {
  readonly kind: "invalid_certification";
  readonly reason: string;
}

/** Certificates that are valid one by one but inconsistent together (Parsec status `invalid_data`). */
export interface InvalidData {
  readonly kind: "invalid_data";
  readonly reason: string;
}

const invalidCertification = (reason: string): InvalidCertification => ({ kind: "invalid_certification", reason });
const invalidData = (reason: string): InvalidData => ({ kind: "invalid_data", reason });
const certificationFailure = (failure: CertificateLoadFailure): InvalidCertification =>
  invalidCertification(`Invalid certification data (${describeLoadFailure(failure)}).`);

const sameHumanHandle = (a: UserCertificate["humanHandle"], b: UserCertificate["humanHandle"]): boolean =>
  a === null || b === null ? a === b : a.email === b.email && a.label === b.label;

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** Upstream's `redacted.evolve(human_handle=full.human_handle) == full`. */
const sameUserExceptHumanHandle = (redacted: UserCertificate, full: UserCertificate): boolean =>
  redacted.author === full.author &&
  redacted.timestamp.equals(full.timestamp) &&
  redacted.userId === full.userId &&
  sameBytes(redacted.publicKey, full.publicKey) &&
  redacted.profile === full.profile;

/** Upstream's `redacted.evolve(device_label=full.device_label) == full`. */
const sameDeviceExceptLabel = (redacted: DeviceCertificate, full: DeviceCertificate): boolean =>
  redacted.author === full.author &&
  redacted.timestamp.equals(full.timestamp) &&
  redacted.deviceId === full.deviceId &&
  sameBytes(redacted.verifyKey, full.verifyKey);

/** The four certificates that create a user and its first device, exactly as received. */
export interface NewUserCertificates {
  readonly userCertificate: Uint8Array;
  readonly deviceCertificate: Uint8Array;
  readonly redactedUserCertificate: Uint8Array;
  readonly redactedDeviceCertificate: Uint8Array;
}

/** The decoded content of {@link NewUserCertificates} once they passed every check. */
export interface CheckedNewUser {
  readonly user: UserCertificate;
  readonly device: DeviceCertificate;
  readonly redactedUser: UserCertificate;
  readonly redactedDevice: DeviceCertificate;
}

const checkRedactedPair = (loaded: CheckedNewUser): InvalidData | null => {
  if (!sameUserExceptHumanHandle(loaded.redactedUser, loaded.user))
    return invalidData("Redacted User certificate differs from User certificate.");
  if (loaded.redactedUser.humanHandle !== null) return invalidData("Redacted User certificate must not contain a human_handle field.");
  return checkRedactedDevice(loaded.redactedDevice, loaded.device);
};

const checkRedactedDevice = (redacted: DeviceCertificate, full: DeviceCertificate): InvalidData | null => {
  if (!sameDeviceExceptLabel(redacted, full)) return invalidData("Redacted Device certificate differs from Device certificate.");
  if (redacted.deviceLabel !== null) return invalidData("Redacted Device certificate must not contain a device_label field.");
  return null;
};

const loadNewUser = (
  certificates: NewUserCertificates,
  authorVerifyKey: Uint8Array,
  author: DeviceID | null,
): { readonly ok: true; readonly value: CheckedNewUser } | { readonly ok: false; readonly failure: CertificateLoadFailure } => {
  const user = verifyAndLoad(certificates.userCertificate, authorVerifyKey, { type: "user_certificate", author });
  if (!user.ok) return { ok: false, failure: user };
  const device = verifyAndLoad(certificates.deviceCertificate, authorVerifyKey, { type: "device_certificate", author });
  if (!device.ok) return { ok: false, failure: device };
  const redactedUser = verifyAndLoad(certificates.redactedUserCertificate, authorVerifyKey, { type: "user_certificate", author });
  if (!redactedUser.ok) return { ok: false, failure: redactedUser };
  const redactedDevice = verifyAndLoad(certificates.redactedDeviceCertificate, authorVerifyKey, { type: "device_certificate", author });
  if (!redactedDevice.ok) return { ok: false, failure: redactedDevice };
  return {
    ok: true,
    value: {
      user: user.certificate,
      device: device.certificate,
      redactedUser: redactedUser.certificate,
      redactedDevice: redactedDevice.certificate,
    },
  };
};

/** Outcome of {@link checkOrganizationBootstrap}. */
export type OrganizationBootstrapCheck =
  | (CheckedNewUser & { readonly kind: "ok"; readonly sequesterAuthority: SequesterAuthorityCertificate | null })
  | InvalidCertification
  | InvalidData
  | BadTimestamp;

/**
 * The checks of `organization_bootstrap` (anonymous command, API v2) on the first user's certificates, in Parsec's order:
 * 1. the four certificates verify with `rootVerifyKey`, have the right types and a nil (root) author, else `invalid_certification`;
 * 2. the user's profile is ADMIN, user and device share one timestamp, and the device belongs to the user, else `invalid_data`;
 * 3. that timestamp is in the ballpark of `now`, else `bad_timestamp`;
 * 4. each redacted certificate equals its full one except for a nil `human_handle` / `device_label`, else `invalid_data`;
 * 5. when given, the sequester authority certificate verifies with the root key, has a nil author and a timestamp in the
 *    ballpark (`bad_timestamp`) and equal to the user's; any other failure is `invalid_data` (as upstream).
 *
 * Upstream replies carry no reason for this command; `reason` here is for logs.
 * @param input.now the server's clock when the request is handled.
 */
export const checkOrganizationBootstrap = (
  input: NewUserCertificates & {
    readonly rootVerifyKey: Uint8Array;
    readonly sequesterAuthorityCertificate: Uint8Array | null;
    readonly now: DateTime;
  },
): OrganizationBootstrapCheck => {
  const loaded = loadNewUser(input, input.rootVerifyKey, null);
  if (!loaded.ok) return certificationFailure(loaded.failure);
  const { user, device } = loaded.value;
  if (user.profile !== "ADMIN") return invalidData("The first user must have the ADMIN profile.");
  if (!user.timestamp.equals(device.timestamp)) return invalidData("Device and User certificates must have the same timestamp.");
  if (DeviceID.userId(device.deviceId) !== user.userId) return invalidData("Device and User must have the same user ID.");
  if (!timestampsInTheBallpark(user.timestamp, input.now)) return badTimestamp(user.timestamp, input.now);
  const redacted = checkRedactedPair(loaded.value);
  if (redacted) return redacted;

  if (input.sequesterAuthorityCertificate === null) return { kind: "ok", ...loaded.value, sequesterAuthority: null };
  const authority = verifyAndLoad(input.sequesterAuthorityCertificate, input.rootVerifyKey, {
    type: "sequester_authority_certificate",
    author: null,
  });
  if (!authority.ok) return invalidData(`Invalid sequester authority certificate (${describeLoadFailure(authority)}).`);
  if (!timestampsInTheBallpark(authority.certificate.timestamp, input.now)) return badTimestamp(authority.certificate.timestamp, input.now);
  if (!authority.certificate.timestamp.equals(user.timestamp))
    return invalidData("Sequester authority and User certificates must have the same timestamp.");
  return { kind: "ok", ...loaded.value, sequesterAuthority: authority.certificate };
};

/** Outcome of {@link checkNewUserCertificates}. */
export type NewUserCheck = (CheckedNewUser & { readonly kind: "ok" }) | InvalidCertification | InvalidData;

/**
 * The checks of `user_create` (and `pki_enrollment_accept`) on the new user's certificates, in Parsec's order:
 * all four verify with the author's key and name `author`, else `invalid_certification`; user and device share one
 * timestamp (`invalid_data`), which is in the ballpark of `now` (else `invalid_certification`, not `bad_timestamp`:
 * these commands have no such status); the device belongs to the user; each redacted certificate equals its full one
 * except for a nil `human_handle` / `device_label` (`invalid_data`). The reasons are upstream's, word for word.
 * The author's own profile (ADMIN required) is the caller's check.
 */
export const checkNewUserCertificates = (
  input: NewUserCertificates & { readonly author: DeviceID; readonly authorVerifyKey: Uint8Array; readonly now: DateTime },
): NewUserCheck => {
  const loaded = loadNewUser(input, input.authorVerifyKey, input.author);
  if (!loaded.ok) return certificationFailure(loaded.failure);
  const { user, device } = loaded.value;
  if (!user.timestamp.equals(device.timestamp)) return invalidData("Device and User certificates must have the same timestamp.");
  if (!timestampsInTheBallpark(user.timestamp, input.now)) return invalidCertification("Invalid timestamp in certificate.");
  if (DeviceID.userId(device.deviceId) !== user.userId) return invalidData("Device and User must have the same user ID.");
  return checkRedactedPair(loaded.value) ?? { kind: "ok", ...loaded.value };
};

/** Outcome of {@link checkNewDeviceCertificates}. */
export type NewDeviceCheck =
  | { readonly kind: "ok"; readonly device: DeviceCertificate; readonly redactedDevice: DeviceCertificate }
  | InvalidCertification
  | { readonly kind: "bad_user_id"; readonly reason: string }
  | InvalidData;

/**
 * The checks of `device_create` on a new device's certificates, in Parsec's order: both verify with the author's key and
 * name `author` (`invalid_certification`); the timestamp is in the ballpark of `now` (`invalid_certification`); the new
 * device belongs to the author's own user (`bad_user_id`); the redacted certificate equals the full one except for a
 * nil `device_label` (`invalid_data`). The reasons are upstream's, word for word.
 */
export const checkNewDeviceCertificates = (input: {
  readonly author: DeviceID;
  readonly authorVerifyKey: Uint8Array;
  readonly deviceCertificate: Uint8Array;
  readonly redactedDeviceCertificate: Uint8Array;
  readonly now: DateTime;
}): NewDeviceCheck => {
  const expected = { type: "device_certificate", author: input.author } as const;
  const device = verifyAndLoad(input.deviceCertificate, input.authorVerifyKey, expected);
  if (!device.ok) return certificationFailure(device);
  const redactedDevice = verifyAndLoad(input.redactedDeviceCertificate, input.authorVerifyKey, expected);
  if (!redactedDevice.ok) return certificationFailure(redactedDevice);
  if (!timestampsInTheBallpark(device.certificate.timestamp, input.now)) return invalidCertification("Invalid timestamp in certification.");
  if (DeviceID.userId(device.certificate.deviceId) !== DeviceID.userId(input.author))
    return { kind: "bad_user_id", reason: "Device must be handled by it own user." };
  return (
    checkRedactedDevice(redactedDevice.certificate, device.certificate) ?? {
      kind: "ok",
      device: device.certificate,
      redactedDevice: redactedDevice.certificate,
    }
  );
};

/** Outcome of {@link checkRevokedUserCertificate}. */
export type RevokedUserCheck =
  | { readonly kind: "ok"; readonly certificate: RevokedUserCertificate }
  | InvalidCertification
  | { readonly kind: "not_allowed"; readonly reason: string };

/**
 * The checks of `user_revoke` on the revocation certificate: it verifies with the author's key and names `author`, and
 * its timestamp is in the ballpark of `now` (both `invalid_certification`); a user cannot revoke itself (`not_allowed`).
 * The author's own profile (ADMIN required) and the target's existence are the caller's checks.
 */
export const checkRevokedUserCertificate = (input: {
  readonly author: DeviceID;
  readonly authorVerifyKey: Uint8Array;
  readonly revokedUserCertificate: Uint8Array;
  readonly now: DateTime;
}): RevokedUserCheck => {
  const loaded = verifyAndLoad(input.revokedUserCertificate, input.authorVerifyKey, {
    type: "revoked_user_certificate",
    author: input.author,
  });
  if (!loaded.ok) return certificationFailure(loaded);
  if (!timestampsInTheBallpark(loaded.certificate.timestamp, input.now)) return invalidCertification("Invalid timestamp in certification.");
  if (loaded.certificate.userId === DeviceID.userId(input.author)) return { kind: "not_allowed", reason: "Cannot revoke your own user." };
  return { kind: "ok", certificate: loaded.certificate };
};
