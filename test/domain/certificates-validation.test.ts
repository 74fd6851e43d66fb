import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  badTimestamp,
  ballparkOffsets,
  checkNewDeviceCertificates,
  checkNewUserCertificates,
  checkOrganizationBootstrap,
  checkRevokedUserCertificate,
  timestampsInTheBallpark,
} from "../../src/domain/certificates/index.js";
import type { DeviceID } from "../../src/domain/ids.js";
import { DateTime } from "../../src/domain/time.js";
import {
  deviceCertificate,
  randomEd25519,
  revokedUserCertificate,
  signCertificate,
  userCertificate,
  type BuildOptions,
  type DeviceCertificateFields,
  type UserCertificateFields,
} from "../support/certificates.js";

const root = randomEd25519();
const alice = randomEd25519();
const bob = randomEd25519();
const intruder = randomEd25519();
const now = DateTime.fromEpochMicroseconds(1_700_000_000_000_000);
const ts = now.addSeconds(-2);
const rsaDer = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "der", type: "spki" });

describe("timestampsInTheBallpark", () => {
  it("uses Parsec v2.16.3's offsets: 300 s early, 320 s late", () => {
    expect(ballparkOffsets).toEqual({ clientEarlyOffset: 300, clientLateOffset: 320 });
  });

  it("accepts a client up to (excluded) 320 s behind the server", () => {
    expect(timestampsInTheBallpark(now, now)).toBe(true);
    expect(timestampsInTheBallpark(now.addSeconds(-320).addSeconds(0.000001), now)).toBe(true);
    expect(timestampsInTheBallpark(now.addSeconds(-320), now)).toBe(false);
  });

  it("accepts a client up to (excluded) 300 s ahead of the server", () => {
    expect(timestampsInTheBallpark(now.addSeconds(300).addSeconds(-0.000001), now)).toBe(true);
    expect(timestampsInTheBallpark(now.addSeconds(300), now)).toBe(false);
    expect(timestampsInTheBallpark(now.addSeconds(310), now)).toBe(false);
  });

  it("takes other offsets (e.g. the 80 % tolerance a client applies)", () => {
    const tolerant = { clientEarlyOffset: 240, clientLateOffset: 256 };
    expect(timestampsInTheBallpark(now.addSeconds(250), now, tolerant)).toBe(false);
    expect(timestampsInTheBallpark(now.addSeconds(-250), now, tolerant)).toBe(true);
  });

  it("badTimestamp carries both timestamps and the offsets", () => {
    expect(badTimestamp(ts, now)).toEqual({
      kind: "bad_timestamp",
      clientTimestamp: ts,
      backendTimestamp: now,
      ballparkClientEarlyOffset: 300,
      ballparkClientLateOffset: 320,
    });
  });
});

const userFields = (author: string | null): UserCertificateFields => ({
  author,
  timestamp: ts,
  userId: "bob",
  humanHandle: { email: "bob@example.com", label: "Boby McBobFace" },
  publicKey: Buffer.alloc(32, 7),
  profile: author === null ? "ADMIN" : "STANDARD",
});
const deviceFields = (author: string | null): DeviceCertificateFields => ({
  author,
  timestamp: ts,
  deviceId: "bob@dev1",
  deviceLabel: "My dev1 machine",
  verifyKey: bob.verifyKey,
});

interface Variation {
  user?: Partial<UserCertificateFields>;
  device?: Partial<DeviceCertificateFields>;
  redactedUser?: Partial<UserCertificateFields>;
  redactedDevice?: Partial<DeviceCertificateFields>;
  key?: Buffer;
  redactedUserOptions?: BuildOptions;
}

/** The four certificates of a new user signed with `signer`, `author` as author, each field overridable. */
const newUser = (signer: Buffer, author: string | null, v: Variation = {}) => ({
  userCertificate: userCertificate(v.key ?? signer, { ...userFields(author), ...v.user }),
  deviceCertificate: deviceCertificate(signer, { ...deviceFields(author), ...v.device }),
  redactedUserCertificate: userCertificate(signer, { ...userFields(author), humanHandle: null, ...v.redactedUser }, v.redactedUserOptions),
  redactedDeviceCertificate: deviceCertificate(signer, { ...deviceFields(author), deviceLabel: null, ...v.redactedDevice }),
});

describe("checkOrganizationBootstrap", () => {
  const authority = (timestamp: DateTime, signer = root.signingKey) =>
    signCertificate(signer, { type: "sequester_authority_certificate", author: null, timestamp, verify_key_der: rsaDer });
  const check = (v: Variation = {}, sequesterAuthorityCertificate: Buffer | null = null) =>
    checkOrganizationBootstrap({ ...newUser(root.signingKey, null, v), rootVerifyKey: root.verifyKey, sequesterAuthorityCertificate, now });

  it("accepts a consistent set signed by the root key", () => {
    const outcome = check();
    expect(outcome.kind).toBe("ok");
    if (outcome.kind === "ok") {
      expect(outcome.user).toMatchObject({ userId: "bob", profile: "ADMIN", author: null });
      expect(outcome.device).toMatchObject({ deviceId: "bob@dev1", deviceLabel: "My dev1 machine" });
      expect(outcome.redactedUser.humanHandle).toBeNull();
      expect(outcome.redactedDevice.deviceLabel).toBeNull();
      expect(outcome.sequesterAuthority).toBeNull();
    }
  });

  it("accepts a sequester authority certificate with the user's timestamp", () => {
    const outcome = check({}, authority(ts));
    expect(outcome.kind === "ok" && outcome.sequesterAuthority?.verifyKeyDer).toEqual(Buffer.from(rsaDer));
  });

  it("invalid_certification: not signed by the root key, author not root, wrong type", () => {
    expect(check({ key: intruder.signingKey })).toMatchObject({
      kind: "invalid_certification",
      reason: "Invalid certification data (Invalid signature).",
    });
    expect(check({ device: { author: "alice@dev1" } })).toMatchObject({
      kind: "invalid_certification",
      reason: "Invalid certification data (Invalid author: expected Root(None), got `alice@dev1`).",
    });
    const swapped = newUser(root.signingKey, null);
    expect(
      checkOrganizationBootstrap({
        ...swapped,
        redactedUserCertificate: swapped.redactedDeviceCertificate,
        rootVerifyKey: root.verifyKey,
        sequesterAuthorityCertificate: null,
        now,
      }),
    ).toMatchObject({ kind: "invalid_certification" });
  });

  it("invalid_data: profile not ADMIN", () => {
    expect(check({ user: { profile: "STANDARD" }, redactedUser: { profile: "STANDARD" } })).toMatchObject({ kind: "invalid_data" });
  });

  it("invalid_data: user and device timestamps differ", () => {
    expect(check({ device: { timestamp: ts.addSeconds(1) } })).toEqual({
      kind: "invalid_data",
      reason: "Device and User certificates must have the same timestamp.",
    });
  });

  it("invalid_data: the device belongs to another user", () => {
    expect(check({ device: { deviceId: "alice@dev1" } })).toEqual({ kind: "invalid_data", reason: "Device and User must have the same user ID." });
  });

  it("bad_timestamp: the user's timestamp is out of the ballpark", () => {
    const late = now.addSeconds(-320);
    expect(check({ user: { timestamp: late }, device: { timestamp: late } })).toEqual(badTimestamp(late, now));
  });

  it("invalid_data: redacted user certificate differs, or keeps a human handle", () => {
    expect(check({ redactedUser: { publicKey: Buffer.alloc(32, 8) } })).toEqual({
      kind: "invalid_data",
      reason: "Redacted User certificate differs from User certificate.",
    });
    expect(check({ redactedUser: { timestamp: ts.addSeconds(1) } })).toMatchObject({ kind: "invalid_data" });
    expect(check({ redactedUser: { humanHandle: { email: "bob@example.com", label: "Boby McBobFace" } } })).toEqual({
      kind: "invalid_data",
      reason: "Redacted User certificate must not contain a human_handle field.",
    });
  });

  it("invalid_data: redacted device certificate differs, or keeps a label", () => {
    expect(check({ redactedDevice: { verifyKey: alice.verifyKey } })).toEqual({
      kind: "invalid_data",
      reason: "Redacted Device certificate differs from Device certificate.",
    });
    expect(check({ redactedDevice: { deviceLabel: "My dev1 machine" } })).toEqual({
      kind: "invalid_data",
      reason: "Redacted Device certificate must not contain a device_label field.",
    });
  });

  it("sequester authority: invalid_data when not signed by the root, bad_timestamp out of the ballpark, invalid_data on another timestamp", () => {
    expect(check({}, authority(ts, intruder.signingKey))).toMatchObject({ kind: "invalid_data" });
    expect(check({}, Buffer.from("junk"))).toMatchObject({ kind: "invalid_data" });
    const early = now.addSeconds(300);
    expect(check({}, authority(early))).toEqual(badTimestamp(early, now));
    expect(check({}, authority(ts.addSeconds(1)))).toEqual({
      kind: "invalid_data",
      reason: "Sequester authority and User certificates must have the same timestamp.",
    });
  });
});

describe("checkNewUserCertificates (user_create)", () => {
  const author = "alice@dev1" as DeviceID;
  const check = (v: Variation = {}, at = now) =>
    checkNewUserCertificates({ ...newUser(alice.signingKey, author, v), author, authorVerifyKey: alice.verifyKey, now: at });

  it("accepts a consistent set signed by the author", () => {
    expect(check()).toMatchObject({ kind: "ok", user: { userId: "bob", author }, device: { deviceId: "bob@dev1" } });
  });

  it("invalid_certification: bad signature, another author, the root as author", () => {
    expect(check({ key: intruder.signingKey })).toMatchObject({ kind: "invalid_certification" });
    expect(check({ redactedDevice: { author: "bob@dev1" } })).toEqual({
      kind: "invalid_certification",
      reason: "Invalid certification data (Invalid author: expected `alice@dev1`, got `bob@dev1`).",
    });
    expect(check({ user: { author: null } })).toMatchObject({ kind: "invalid_certification" });
  });

  it("invalid_data on differing timestamps; invalid_certification out of the ballpark", () => {
    expect(check({ device: { timestamp: ts.addSeconds(1) } })).toEqual({
      kind: "invalid_data",
      reason: "Device and User certificates must have the same timestamp.",
    });
    expect(check({}, ts.addSeconds(320))).toEqual({ kind: "invalid_certification", reason: "Invalid timestamp in certificate." });
  });

  it("invalid_data: device of another user, redacted certificates inconsistent", () => {
    expect(check({ device: { deviceId: "carl@dev1" } })).toMatchObject({ reason: "Device and User must have the same user ID." });
    expect(check({ redactedUser: { profile: "ADMIN" } })).toMatchObject({ reason: "Redacted User certificate differs from User certificate." });
    expect(check({ redactedUserOptions: { overrides: { human_handle: ["x@example.com", "X"] } } })).toMatchObject({
      reason: "Redacted User certificate must not contain a human_handle field.",
    });
    expect(check({ redactedDevice: { deviceId: "bob@dev2" } })).toMatchObject({
      reason: "Redacted Device certificate differs from Device certificate.",
    });
    expect(check({ redactedDevice: { deviceLabel: "label" } })).toMatchObject({
      reason: "Redacted Device certificate must not contain a device_label field.",
    });
  });
});

describe("checkNewDeviceCertificates (device_create)", () => {
  const author = "bob@dev1" as DeviceID;
  const check = (full: Partial<DeviceCertificateFields> = {}, redacted: Partial<DeviceCertificateFields> = {}, at = now) =>
    checkNewDeviceCertificates({
      author,
      authorVerifyKey: bob.verifyKey,
      deviceCertificate: deviceCertificate(bob.signingKey, { ...deviceFields(author), deviceId: "bob@dev2", ...full }),
      redactedDeviceCertificate: deviceCertificate(bob.signingKey, {
        ...deviceFields(author),
        deviceId: "bob@dev2",
        deviceLabel: null,
        ...redacted,
      }),
      now: at,
    });

  it("accepts a new device of the author's own user", () => {
    expect(check()).toMatchObject({ kind: "ok", device: { deviceId: "bob@dev2" }, redactedDevice: { deviceLabel: null } });
  });

  it("invalid_certification: another author, out of the ballpark", () => {
    expect(check({ author: "alice@dev1" })).toMatchObject({ kind: "invalid_certification" });
    expect(check({}, { author: null })).toMatchObject({ kind: "invalid_certification" });
    expect(check({}, {}, ts.addSeconds(-300))).toEqual({ kind: "invalid_certification", reason: "Invalid timestamp in certification." });
  });

  it("bad_user_id: a device for another user", () => {
    expect(check({ deviceId: "alice@dev2" }, { deviceId: "alice@dev2" })).toEqual({
      kind: "bad_user_id",
      reason: "Device must be handled by it own user.",
    });
  });

  it("invalid_data: redacted certificate differs or keeps a label", () => {
    expect(check({}, { deviceId: "bob@dev3" })).toMatchObject({ kind: "invalid_data" });
    expect(check({}, { deviceLabel: "x" })).toMatchObject({
      kind: "invalid_data",
      reason: "Redacted Device certificate must not contain a device_label field.",
    });
  });
});

describe("checkRevokedUserCertificate (user_revoke)", () => {
  const author = "alice@dev1" as DeviceID;
  const check = (fields: { author?: string; userId?: string; timestamp?: DateTime } = {}, key = alice.signingKey) =>
    checkRevokedUserCertificate({
      author,
      authorVerifyKey: alice.verifyKey,
      revokedUserCertificate: revokedUserCertificate(key, { author, timestamp: ts, userId: "bob", ...fields }),
      now,
    });

  it("accepts a revocation of another user", () => {
    expect(check()).toMatchObject({ kind: "ok", certificate: { userId: "bob", author } });
  });

  it("invalid_certification: bad signature, another author, out of the ballpark", () => {
    expect(check({}, intruder.signingKey)).toMatchObject({ kind: "invalid_certification" });
    expect(check({ author: "bob@dev1" })).toMatchObject({ kind: "invalid_certification" });
    expect(check({ timestamp: now.addSeconds(301) })).toEqual({ kind: "invalid_certification", reason: "Invalid timestamp in certification." });
  });

  it("not_allowed: revoking one's own user", () => {
    expect(check({ userId: "alice" })).toMatchObject({ kind: "not_allowed" });
  });
});
