import type { DeviceCertificate, UserCertificate } from "../certificates/index.js";
import type { DeviceID, DeviceLabel, HumanHandle, UserID, UserProfile } from "../ids.js";
import type { DateTime } from "../time.js";

/**
 * A user as the server keeps it: certificates exactly as received plus the fields the rules need.
 * Source: Parsec v2.16.3 `parsec/backend/user.py` (`User`).
 */
export interface User {
  readonly userId: UserID;
  readonly humanHandle: HumanHandle | null;
  readonly profile: UserProfile;
  /** X25519 public key (32 bytes) from the user certificate. */
  readonly publicKey: Buffer;
  readonly userCertificate: Buffer;
  readonly redactedUserCertificate: Buffer;
  /** Author of the user certificate; `null` for the root key (bootstrap). */
  readonly userCertifier: DeviceID | null;
  readonly createdOn: DateTime;
  /** Timestamp of the revocation certificate (may be slightly in the future of the server's clock); null when never revoked. */
  readonly revokedOn: DateTime | null;
  readonly revokedUserCertificate: Buffer | null;
  readonly revokedUserCertifier: DeviceID | null;
}

/** A device as the server keeps it. Source: Parsec v2.16.3 `parsec/backend/user.py` (`Device`). */
export interface Device {
  readonly deviceId: DeviceID;
  readonly deviceLabel: DeviceLabel | null;
  /** Ed25519 verify key (32 bytes) from the device certificate. */
  readonly verifyKey: Buffer;
  readonly deviceCertificate: Buffer;
  readonly redactedDeviceCertificate: Buffer;
  /** Author of the device certificate; `null` for the root key. */
  readonly deviceCertifier: DeviceID | null;
  readonly createdOn: DateTime;
}

/**
 * The {@link User} created by a checked user certificate (never revoked yet), keeping `certificates` exactly as received.
 * Source: Parsec v2.16.3 `api_user_create` and `api_organization_bootstrap` (`User(...)`).
 */
export const userFromCertificate = (
  certificate: UserCertificate,
  certificates: { readonly userCertificate: Buffer; readonly redactedUserCertificate: Buffer },
): User => ({
  userId: certificate.userId,
  humanHandle: certificate.humanHandle,
  profile: certificate.profile,
  publicKey: Buffer.from(certificate.publicKey),
  userCertificate: certificates.userCertificate,
  redactedUserCertificate: certificates.redactedUserCertificate,
  userCertifier: certificate.author,
  createdOn: certificate.timestamp,
  revokedOn: null,
  revokedUserCertificate: null,
  revokedUserCertifier: null,
});

/**
 * The {@link Device} created by a checked device certificate, keeping `certificates` exactly as received.
 * Source: Parsec v2.16.3 `api_device_create`, `api_user_create` and `api_organization_bootstrap` (`Device(...)`).
 */
export const deviceFromCertificate = (
  certificate: DeviceCertificate,
  certificates: { readonly deviceCertificate: Buffer; readonly redactedDeviceCertificate: Buffer },
): Device => ({
  deviceId: certificate.deviceId,
  deviceLabel: certificate.deviceLabel,
  verifyKey: Buffer.from(certificate.verifyKey),
  deviceCertificate: certificates.deviceCertificate,
  redactedDeviceCertificate: certificates.redactedDeviceCertificate,
  deviceCertifier: certificate.author,
  createdOn: certificate.timestamp,
});

/** The fields of a {@link User} the organization-wide rules need (user limit, human handle uniqueness, `human_find`). */
export type UserSummary = Pick<User, "userId" | "humanHandle" | "profile" | "revokedOn">;

/** True when the user was revoked at or before `now`. */
export const isRevoked = (user: Pick<User, "revokedOn">, now: DateTime): boolean => user.revokedOn !== null && !user.revokedOn.isAfter(now);

/**
 * True when the user counts against the organization's `active_users_limit`: it has no revocation at all,
 * even one dated in the future (Parsec v2.16.3 counts `revoked_on IS NULL`).
 */
export const countsAsActiveUser = (user: Pick<User, "revokedOn">): boolean => user.revokedOn === null;
