import { createPublicKey } from "node:crypto";
import {
  DeviceID,
  DeviceLabel,
  HumanHandle,
  REALM_ROLES,
  RealmID,
  SequesterServiceID,
  USER_PROFILES,
  UserID,
  type RealmRole,
  type UserProfile,
} from "../ids.js";
import { invalid, parsed, type Parsed } from "../result.js";
import { WireUuid } from "../serialization/msgpack.js";
import { DateTime } from "../time.js";
import type {
  CertificateAuthor,
  DeviceCertificate,
  RealmArchivingCertificate,
  RealmArchivingConfiguration,
  RealmRoleCertificate,
  RevokedUserCertificate,
  SequesterAuthorityCertificate,
  SequesterServiceCertificate,
  ShamirRecoveryBriefCertificate,
  ShamirRecoveryShareCertificate,
  SignedCertificate,
  SignedCertificateType,
  UserCertificate,
} from "./types.js";

/** A msgpack map decoded with `preserveMaps`: keys keep their msgpack type. */
export type WireMap = ReadonlyMap<unknown, unknown>;

/** Thrown inside a decoder to abandon it; caught by {@link decodeCertificateMap}, never escapes this module. */
class FieldError extends Error {}

const fail = (message: string): never => {
  throw new FieldError(message);
};

const unwrap = <T>(field: string, result: Parsed<T>): T => (result.ok ? result.value : fail(`${field}: ${result.error}`));

const required = (map: WireMap, field: string): unknown => (map.has(field) ? map.get(field) : fail(`${field}: missing`));

const isMap = (value: unknown): value is WireMap => value instanceof Map;

const dateTime = (field: string, value: unknown): DateTime => (value instanceof DateTime ? value : fail(`${field}: not a DateTime`));

const bytes = (field: string, value: unknown, size?: number): Uint8Array => {
  if (!(value instanceof Uint8Array)) return fail(`${field}: not bytes`);
  if (size !== undefined && value.length !== size) return fail(`${field}: expected ${size} bytes`);
  return Buffer.from(value);
};

const uuid = (field: string, value: unknown): string => (value instanceof WireUuid ? value.hex : fail(`${field}: not a UUID`));

const deviceAuthor = (map: WireMap): DeviceID => unwrap("author", DeviceID.parse(required(map, "author")));

const optionalAuthor = (map: WireMap): CertificateAuthor => {
  const author = required(map, "author");
  return author === null ? null : unwrap("author", DeviceID.parse(author));
};

const rsaPublicKeyDer = (field: string, value: unknown): Uint8Array => {
  const der = bytes(field, value);
  try {
    const key = createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" });
    if (key.asymmetricKeyType !== "rsa") fail(`${field}: not an RSA key`);
  } catch (err) {
    if (err instanceof FieldError) throw err;
    fail(`${field}: not a DER SubjectPublicKeyInfo`);
  }
  return der;
};

const string = (field: string, value: unknown): string => (typeof value === "string" ? value : fail(`${field}: not a string`));

const positiveInteger = (field: string, value: unknown): number =>
  typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : fail(`${field}: not a positive integer`);

const humanHandle = (value: unknown): HumanHandle | null => {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) || value.length !== 2) return fail("human_handle: not an [email, label] pair");
  return unwrap("human_handle", HumanHandle.parse(value[0], value[1]));
};

const userProfile = (map: WireMap): UserProfile => {
  const isAdmin = required(map, "is_admin");
  if (typeof isAdmin !== "boolean") return fail("is_admin: not a boolean");
  if (!map.has("profile")) return isAdmin ? "ADMIN" : "STANDARD";
  const profile = map.get("profile");
  return USER_PROFILES.includes(profile as UserProfile) ? (profile as UserProfile) : fail("profile: unknown profile");
};

const realmRole = (value: unknown): RealmRole | null => {
  if (value === null) return null;
  return REALM_ROLES.includes(value as RealmRole) ? (value as RealmRole) : fail("role: unknown role");
};

const archivingConfiguration = (value: unknown): RealmArchivingConfiguration => {
  if (!isMap(value)) return fail("configuration: not a map");
  const type = required(value, "type");
  switch (type) {
    case "AVAILABLE":
    case "ARCHIVED":
      return { type };
    case "DELETION_PLANNED":
      return { type, deletionDate: dateTime("configuration.deletion_date", required(value, "deletion_date")) };
    default:
      return fail("configuration: unknown type");
  }
};

const perRecipientShares = (value: unknown): ReadonlyMap<UserID, number> => {
  if (!isMap(value)) return fail("per_recipient_shares: not a map");
  const shares = new Map<UserID, number>();
  for (const [recipient, count] of value) {
    shares.set(unwrap("per_recipient_shares", UserID.parse(recipient)), positiveInteger("per_recipient_shares", count));
  }
  return shares;
};

const decoders: { readonly [T in SignedCertificateType]: (map: WireMap) => Extract<SignedCertificate, { type: T }> } = {
  user_certificate: (map): UserCertificate => ({
    type: "user_certificate",
    author: optionalAuthor(map),
    timestamp: dateTime("timestamp", required(map, "timestamp")),
    userId: unwrap("user_id", UserID.parse(required(map, "user_id"))),
    humanHandle: humanHandle(map.get("human_handle")),
    publicKey: bytes("public_key", required(map, "public_key"), 32),
    profile: userProfile(map),
  }),
  device_certificate: (map): DeviceCertificate => {
    const label = map.get("device_label");
    return {
      type: "device_certificate",
      author: optionalAuthor(map),
      timestamp: dateTime("timestamp", required(map, "timestamp")),
      deviceId: unwrap("device_id", DeviceID.parse(required(map, "device_id"))),
      deviceLabel: label === null || label === undefined ? null : unwrap("device_label", DeviceLabel.parse(label)),
      verifyKey: bytes("verify_key", required(map, "verify_key"), 32),
    };
  },
  revoked_user_certificate: (map): RevokedUserCertificate => ({
    type: "revoked_user_certificate",
    author: deviceAuthor(map),
    timestamp: dateTime("timestamp", required(map, "timestamp")),
    userId: unwrap("user_id", UserID.parse(required(map, "user_id"))),
  }),
  realm_role_certificate: (map): RealmRoleCertificate => ({
    type: "realm_role_certificate",
    author: optionalAuthor(map),
    timestamp: dateTime("timestamp", required(map, "timestamp")),
    realmId: unwrap("realm_id", RealmID.parse(uuid("realm_id", required(map, "realm_id")))),
    userId: unwrap("user_id", UserID.parse(required(map, "user_id"))),
    role: realmRole(required(map, "role")),
  }),
  realm_archiving_certificate: (map): RealmArchivingCertificate => ({
    type: "realm_archiving_certificate",
    author: deviceAuthor(map),
    timestamp: dateTime("timestamp", required(map, "timestamp")),
    realmId: unwrap("realm_id", RealmID.parse(uuid("realm_id", required(map, "realm_id")))),
    configuration: archivingConfiguration(required(map, "configuration")),
  }),
  sequester_authority_certificate: (map): SequesterAuthorityCertificate => ({
    type: "sequester_authority_certificate",
    author: required(map, "author") === null ? null : fail("author: must be nil (root)"),
    timestamp: dateTime("timestamp", required(map, "timestamp")),
    verifyKeyDer: rsaPublicKeyDer("verify_key_der", required(map, "verify_key_der")),
  }),
  shamir_recovery_brief_certificate: (map): ShamirRecoveryBriefCertificate => ({
    type: "shamir_recovery_brief_certificate",
    author: deviceAuthor(map),
    timestamp: dateTime("timestamp", required(map, "timestamp")),
    threshold: positiveInteger("threshold", required(map, "threshold")),
    perRecipientShares: perRecipientShares(required(map, "per_recipient_shares")),
  }),
  shamir_recovery_share_certificate: (map): ShamirRecoveryShareCertificate => ({
    type: "shamir_recovery_share_certificate",
    author: deviceAuthor(map),
    timestamp: dateTime("timestamp", required(map, "timestamp")),
    recipient: unwrap("recipient", UserID.parse(required(map, "recipient"))),
    cipheredShare: bytes("ciphered_share", required(map, "ciphered_share")),
  }),
};

/** True when `type` names a certificate of the signed format. */
export const isSignedCertificateType = (type: unknown): type is SignedCertificateType =>
  typeof type === "string" && Object.hasOwn(decoders, type);

/**
 * Decodes the fields of a certificate map whose `type` is already known to be `type`.
 * Unknown fields are ignored (as upstream's decoders do); missing or ill-typed known fields fail with a reason naming the field.
 */
export const decodeCertificateMap = <T extends SignedCertificateType>(
  type: T,
  map: WireMap,
): Parsed<Extract<SignedCertificate, { type: T }>> => {
  try {
    return parsed(decoders[type](map));
  } catch (err) {
    if (err instanceof FieldError) return invalid(err.message);
    throw err;
  }
};

/** Decodes a `sequester_service_certificate` map (its `type` already checked). */
export const decodeSequesterServiceMap = (map: WireMap): Parsed<SequesterServiceCertificate> => {
  try {
    return parsed({
      type: "sequester_service_certificate",
      timestamp: dateTime("timestamp", required(map, "timestamp")),
      serviceId: unwrap("service_id", SequesterServiceID.parse(uuid("service_id", required(map, "service_id")))),
      serviceLabel: string("service_label", required(map, "service_label")),
      encryptionKeyDer: rsaPublicKeyDer("encryption_key_der", required(map, "encryption_key_der")),
    });
  } catch (err) {
    if (err instanceof FieldError) return invalid(err.message);
    throw err;
  }
};
