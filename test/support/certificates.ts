import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { deflateSync } from "node:zlib";
import type { HumanHandle, RealmRole, UserProfile } from "../../src/domain/ids.js";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";
import type { DateTime } from "../../src/domain/time.js";

/**
 * Builders that produce signed certificates the way Parsec clients do: msgpack map (schema field order, DateTime as
 * ext 1, realm ids as ext 2, human handles as `[email, label]`), zlib, then `Ed25519 signature ‖ compressed`.
 * Every builder takes optional {@link BuildOptions} to produce the malformed variants negative tests need.
 */

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** Ed25519 signature (64 bytes) of `message` with the 32-byte `seed`. */
export const ed25519Sign = (seed: Uint8Array, message: Uint8Array): Buffer =>
  sign(null, message, createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" }));

/** The raw 32-byte verify key of the 32-byte `seed`. */
export const ed25519VerifyKey = (seed: Uint8Array): Buffer => {
  const spki = createPublicKey(createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" })).export({
    format: "der",
    type: "spki",
  });
  return spki.subarray(spki.length - 32);
};

/** A fresh random Ed25519 key pair as raw 32-byte seed and verify key. */
export const randomEd25519 = (): { signingKey: Buffer; verifyKey: Buffer } => {
  const { privateKey } = generateKeyPairSync("ed25519");
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  const signingKey = pkcs8.subarray(pkcs8.length - 32);
  return { signingKey, verifyKey: ed25519VerifyKey(signingKey) };
};

/** `"default"`: zlib level 6, as the Python client writes; `"stored"`: level 0, stored blocks, as the Rust client writes. */
export type Compression = "default" | "stored";

/** Knobs for negative tests. Fields are applied in this order: `omit`, then `overrides` (a new key goes last). */
export interface BuildOptions {
  /** Wire fields to drop (e.g. `["human_handle", "profile"]` for a pre-1.13 certificate). */
  readonly omit?: readonly string[];
  /** Wire fields to replace or add, with raw wire values (`null`, strings, Buffers, DateTime, WireUuid…). */
  readonly overrides?: Readonly<Record<string, unknown>>;
  readonly compression?: Compression;
}

/** `zlib(msgpack(content))`: the unsigned body of a certificate. */
export const compressContent = (content: Readonly<Record<string, unknown>>, options: BuildOptions = {}): Buffer => {
  const map: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(content)) if (!options.omit?.includes(key)) map[key] = value;
  for (const [key, value] of Object.entries(options.overrides ?? {})) map[key] = value;
  return deflateSync(pack(map), { level: options.compression === "stored" ? 0 : 6 });
};

/** `signature(64) ‖ payload` signed with the 32-byte `signingKey` (payload taken as is, e.g. garbage for negative tests). */
export const signPayload = (signingKey: Uint8Array, payload: Uint8Array): Buffer => Buffer.concat([ed25519Sign(signingKey, payload), payload]);

/** Signs the certificate map `content` (wire field names and values) with `signingKey`. */
export const signCertificate = (signingKey: Uint8Array, content: Readonly<Record<string, unknown>>, options?: BuildOptions): Buffer =>
  signPayload(signingKey, compressContent(content, options));

const handle = (h: HumanHandle | null): [string, string] | null => (h === null ? null : [h.email, h.label]);

/** Fields of a `user_certificate`; `author: null` means signed by the root key. */
export interface UserCertificateFields {
  readonly author: string | null;
  readonly timestamp: DateTime;
  readonly userId: string;
  readonly humanHandle: HumanHandle | null;
  readonly publicKey: Uint8Array;
  readonly profile: UserProfile;
}

/** A signed `user_certificate` (with the legacy `is_admin`, true exactly for ADMIN). */
export const userCertificate = (signingKey: Uint8Array, f: UserCertificateFields, options?: BuildOptions): Buffer =>
  signCertificate(
    signingKey,
    {
      type: "user_certificate",
      author: f.author,
      timestamp: f.timestamp,
      user_id: f.userId,
      human_handle: handle(f.humanHandle),
      public_key: Buffer.from(f.publicKey),
      is_admin: f.profile === "ADMIN",
      profile: f.profile,
    },
    options,
  );

/** Fields of a `device_certificate`. */
export interface DeviceCertificateFields {
  readonly author: string | null;
  readonly timestamp: DateTime;
  readonly deviceId: string;
  readonly deviceLabel: string | null;
  readonly verifyKey: Uint8Array;
}

/** A signed `device_certificate`. */
export const deviceCertificate = (signingKey: Uint8Array, f: DeviceCertificateFields, options?: BuildOptions): Buffer =>
  signCertificate(
    signingKey,
    {
      type: "device_certificate",
      author: f.author,
      timestamp: f.timestamp,
      device_id: f.deviceId,
      device_label: f.deviceLabel,
      verify_key: Buffer.from(f.verifyKey),
    },
    options,
  );

/** A signed `revoked_user_certificate`. */
export const revokedUserCertificate = (
  signingKey: Uint8Array,
  f: { readonly author: string; readonly timestamp: DateTime; readonly userId: string },
  options?: BuildOptions,
): Buffer =>
  signCertificate(signingKey, { type: "revoked_user_certificate", author: f.author, timestamp: f.timestamp, user_id: f.userId }, options);

/** A signed `realm_role_certificate`; `realmId` is 32 hex digits, `role: null` removes the user's role. */
export const realmRoleCertificate = (
  signingKey: Uint8Array,
  f: {
    readonly author: string | null;
    readonly timestamp: DateTime;
    readonly realmId: string;
    readonly userId: string;
    readonly role: RealmRole | null;
  },
  options?: BuildOptions,
): Buffer =>
  signCertificate(
    signingKey,
    {
      type: "realm_role_certificate",
      author: f.author,
      timestamp: f.timestamp,
      realm_id: new WireUuid(f.realmId),
      user_id: f.userId,
      role: f.role,
    },
    options,
  );

/**
 * Fields of a new user and its first device, certified together (`organization_bootstrap`, `user_create`);
 * `author: null` means signed by the root key (bootstrap).
 */
export interface NewUserCertificatesFields extends UserCertificateFields, DeviceCertificateFields {}

/** The four certificates of a new user and its first device, signed by `signingKey`; the redacted ones lack handle and label. */
export interface NewUserCertificates {
  readonly userCertificate: Buffer;
  readonly redactedUserCertificate: Buffer;
  readonly deviceCertificate: Buffer;
  readonly redactedDeviceCertificate: Buffer;
}

/** Signs the {@link NewUserCertificates} of `f` with `signingKey` (the root key when `f.author` is null). */
export const newUserCertificates = (signingKey: Uint8Array, f: NewUserCertificatesFields): NewUserCertificates => {
  const user = { author: f.author, timestamp: f.timestamp, userId: f.userId, publicKey: f.publicKey, profile: f.profile };
  const device = { author: f.author, timestamp: f.timestamp, deviceId: f.deviceId, verifyKey: f.verifyKey };
  return {
    userCertificate: userCertificate(signingKey, { ...user, humanHandle: f.humanHandle }),
    redactedUserCertificate: userCertificate(signingKey, { ...user, humanHandle: null }),
    deviceCertificate: deviceCertificate(signingKey, { ...device, deviceLabel: f.deviceLabel }),
    redactedDeviceCertificate: deviceCertificate(signingKey, { ...device, deviceLabel: null }),
  };
};
