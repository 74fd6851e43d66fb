import * as t from "io-ts";
import { DateTime } from "../../../domain/time.js";
import { Float64, WideInt, WireUuid, wideInt } from "../../../domain/serialization/msgpack.js";
import {
  BlockID,
  DeviceID,
  DeviceLabel,
  EnrollmentID,
  EntryID,
  HumanHandle,
  INVITATION_TYPES,
  InvitationToken,
  OrganizationID,
  REALM_ROLES,
  RealmID,
  SequesterServiceID,
  ShamirRevealToken,
  USER_PROFILES,
  UserID,
  VlobID,
  type Brand,
} from "../../../domain/ids.js";
import type { Parsed } from "../../../domain/result.js";

/**
 * Leaf codecs of the Parsec API v2 wire format. Each is a `t.Type<A, O, unknown>` whose input is a
 * value produced by the protocol's msgpack decoder (see `unpackWire`) and whose output is ready for
 * `pack`: ext 1 {@link DateTime}, ext 2 {@link WireUuid}, `Buffer` for bin, {@link Float64} for
 * floats, `number | WideInt` for integers.
 */

/** Seconds since the epoch with microsecond precision (schema `DateTime`, msgpack ext 1). */
export const DateTimeC: t.Type<DateTime, DateTime, unknown> = new t.Type<DateTime, DateTime, unknown>(
  "DateTime",
  (u): u is DateTime => u instanceof DateTime,
  (u, c) => (u instanceof DateTime ? t.success(u) : t.failure(u, c)),
  (a) => a,
);

type UuidParser<B extends string> = {
  parse(raw: unknown): Parsed<Brand<string, B>>;
};

/** A UUID-based identifier: ext 2 ({@link WireUuid}) on the wire, 32 lowercase hex digits once decoded. */
const uuidCodec = <B extends string>(name: B, parser: UuidParser<B>): t.Type<Brand<string, B>, WireUuid, unknown> =>
  new t.Type<Brand<string, B>, WireUuid, unknown>(
    name,
    (u): u is Brand<string, B> => typeof u === "string" && /^[0-9a-f]{32}$/.test(u),
    (u, c) => {
      if (!(u instanceof WireUuid)) return t.failure(u, c);
      const id = parser.parse(u.hex);
      return id.ok ? t.success(id.value) : t.failure(u, c, id.error);
    },
    (a) => new WireUuid(a),
  );

/** Schema `RealmID` (ext 2). */
export const RealmIDC = uuidCodec("RealmID", RealmID);
/** Schema `VlobID` (ext 2). */
export const VlobIDC = uuidCodec("VlobID", VlobID);
/** Schema `BlockID` (ext 2). */
export const BlockIDC = uuidCodec("BlockID", BlockID);
/** Schema `InvitationToken` (ext 2). */
export const InvitationTokenC = uuidCodec("InvitationToken", InvitationToken);
/** Schema `EnrollmentID` (ext 2). */
export const EnrollmentIDC = uuidCodec("EnrollmentID", EnrollmentID);
/** Schema `SequesterServiceID` (ext 2). */
export const SequesterServiceIDC = uuidCodec("SequesterServiceID", SequesterServiceID);
/** Schema `ShamirRevealToken` (ext 2). */
export const ShamirRevealTokenC = uuidCodec("ShamirRevealToken", ShamirRevealToken);
/** Schema `EntryID` (ext 2). */
export const EntryIDC = uuidCodec("EntryID", EntryID);

/** A string identifier validated by its domain smart constructor (msgpack str). */
const stringIdCodec = <A extends string>(name: string, parse: (raw: unknown) => Parsed<A>): t.Type<A, string, unknown> =>
  new t.Type<A, string, unknown>(
    name,
    (u): u is A => typeof u === "string" && parse(u).ok,
    (u, c) => {
      const id = parse(u);
      return id.ok ? t.success(id.value) : t.failure(u, c, id.error);
    },
    (a) => a,
  );

/** Schema `OrganizationID`, e.g. `CoolOrg`. */
export const OrganizationIDC = stringIdCodec("OrganizationID", OrganizationID.parse);
/** Schema `UserID`, e.g. `alice`. */
export const UserIDC = stringIdCodec("UserID", UserID.parse);
/** Schema `DeviceID`, `user@device`. */
export const DeviceIDC = stringIdCodec("DeviceID", DeviceID.parse);
/** Schema `DeviceLabel`. */
export const DeviceLabelC = stringIdCodec("DeviceLabel", DeviceLabel.parse);

/** Schema `String` (msgpack str). */
export const StringC = t.string;
/** Schema `Boolean`. */
export const BooleanC = t.boolean;

/** Schema `Bytes` (msgpack bin, any length). Decodes to the `Buffer` msgpack gives; any `Uint8Array` encodes. */
export const BytesC: t.Type<Uint8Array, Uint8Array, unknown> = new t.Type<Uint8Array, Uint8Array, unknown>(
  "Bytes",
  (u): u is Uint8Array => u instanceof Uint8Array,
  (u, c) => (u instanceof Uint8Array ? t.success(u) : t.failure(u, c)),
  (a) => a,
);

/** Bin of exactly `size` bytes (keys, digests, the handshake challenge). */
export const fixedBytes = (name: string, size: number): t.Type<Uint8Array, Uint8Array, unknown> =>
  new t.Type<Uint8Array, Uint8Array, unknown>(
    name,
    (u): u is Uint8Array => u instanceof Uint8Array && u.length === size,
    (u, c) => (u instanceof Uint8Array && u.length === size ? t.success(u) : t.failure(u, c, `${name} must be ${size} bytes`)),
    (a) => a,
  );

/** Schema `VerifyKey`: Ed25519 public key, 32 bytes. */
export const VerifyKeyC = fixedBytes("VerifyKey", 32);
/** Schema `PublicKey`: X25519 public key, 32 bytes. */
export const PublicKeyC = fixedBytes("PublicKey", 32);
/** Schema `HashDigest`: SHA-256, 32 bytes. */
export const HashDigestC = fixedBytes("HashDigest", 32);

/** An integer in `[min, max]` (inclusive). Encodes through {@link wideInt} so 64-bit values stay integers. */
export const integer = (name: string, min: number, max: number): t.Type<number, number | WideInt, unknown> =>
  new t.Type<number, number | WideInt, unknown>(
    name,
    (u): u is number => typeof u === "number" && Number.isInteger(u) && u >= min && u <= max,
    (u, c) =>
      typeof u === "number" && Number.isInteger(u) && u >= min && u <= max ? t.success(u) : t.failure(u, c, `${name} out of range`),
    wideInt,
  );

const U32_MAX = 0xffff_ffff;
const U64_MAX = Number.MAX_SAFE_INTEGER;

/** Schema `Index` (u64): a position, checkpoint or encryption revision. */
export const IndexC = integer("Index", 0, U64_MAX);
/** Schema `Size` (u64): a count or a size in bytes. */
export const SizeC = integer("Size", 0, U64_MAX);
/** Schema `Version` (u32): a vlob version, starting at 1. */
export const VersionC = integer("Version", 0, U32_MAX);
/** Schema `u32`. */
export const U32C = integer("u32", 0, U32_MAX);
/** Schema `u64`. */
export const U64C = integer("u64", 0, U64_MAX);
/** Schema `i64`. */
export const I64C = integer("i64", -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
/** Schema `NonZeroInteger` (non-zero u64). */
export const NonZeroIntegerC = integer("NonZeroInteger", 1, U64_MAX);
/** Schema `IntegerBetween1And100` (page sizes). */
export const IntegerBetween1And100C = integer("IntegerBetween1And100", 1, 100);
/** Schema `DurationInSeconds` (u64 seconds). */
export const DurationInSecondsC = integer("DurationInSeconds", 0, U64_MAX);

/** Schema `Float`: always written as msgpack float 64 ({@link Float64}); any finite number decodes. */
export const FloatC: t.Type<number, Float64, unknown> = new t.Type<number, Float64, unknown>(
  "Float",
  (u): u is number => typeof u === "number" && Number.isFinite(u),
  (u, c) => (typeof u === "number" && Number.isFinite(u) ? t.success(u) : t.failure(u, c)),
  (a) => new Float64(a),
);

/** Schema `HumanHandle`, wire `[email, label]`, validated by the domain's `HumanHandle.parse`. */
export const HumanHandleC: t.Type<HumanHandle, [string, string], unknown> = new t.Type<HumanHandle, [string, string], unknown>(
  "HumanHandle",
  (u): u is HumanHandle =>
    typeof u === "object" && u !== null && typeof (u as HumanHandle).email === "string" && typeof (u as HumanHandle).label === "string",
  (u, c) => {
    if (!Array.isArray(u) || u.length !== 2) return t.failure(u, c, "HumanHandle must be [email, label]");
    const handle = HumanHandle.parse(u[0], u[1]);
    return handle.ok ? t.success(handle.value) : t.failure(u, c, handle.error);
  },
  (a) => [a.email, a.label],
);

/** An API version `major.revision` (e.g. 2.10). */
export interface ApiVersion {
  readonly major: number;
  readonly revision: number;
}

/** Schema `ApiVersion`, wire `[major, revision]` (two u32). */
export const ApiVersionC: t.Type<ApiVersion, [number, number], unknown> = new t.Type<ApiVersion, [number, number], unknown>(
  "ApiVersion",
  (u): u is ApiVersion =>
    typeof u === "object" && u !== null && U32C.is((u as ApiVersion).major) && U32C.is((u as ApiVersion).revision),
  (u, c) =>
    Array.isArray(u) && u.length === 2 && U32C.is(u[0]) && U32C.is(u[1])
      ? t.success({ major: u[0], revision: u[1] })
      : t.failure(u, c, "ApiVersion must be [major, revision]"),
  (a) => [a.major, a.revision],
);

/** An upper-case string enumeration such as `"OWNER"` or `"IDLE"`. */
export const enumeration = <V extends string>(name: string, values: readonly V[]): t.Type<V, V, unknown> => {
  const allowed = new Set<string>(values);
  return new t.Type<V, V, unknown>(
    name,
    (u): u is V => typeof u === "string" && allowed.has(u),
    (u, c) => (typeof u === "string" && allowed.has(u) ? t.success(u as V) : t.failure(u, c)),
    (a) => a,
  );
};

/** Schema `UserProfile`. */
export const UserProfileC = enumeration("UserProfile", USER_PROFILES);
/** Schema `RealmRole`. */
export const RealmRoleC = enumeration("RealmRole", REALM_ROLES);
/** Schema `InvitationType`. */
export const InvitationTypeC = enumeration("InvitationType", INVITATION_TYPES);
/** Schema `InvitationStatus`. */
export const InvitationStatusC = enumeration("InvitationStatus", ["IDLE", "READY", "DELETED"] as const);
/** Schema `InvitationStatus` values. */
export type InvitationStatus = t.TypeOf<typeof InvitationStatusC>;

/**
 * A nullable value (schema `RequiredOption<T>`, `NonRequiredOption<T>`, `Option<T>`): nil ⇄ `null`.
 * Whether the key may be absent is decided by the enclosing struct (see `struct`).
 */
export const nullable = <C extends t.Mixed>(codec: C): t.Type<t.TypeOf<C> | null, t.OutputOf<C> | null, unknown> =>
  new t.Type<t.TypeOf<C> | null, t.OutputOf<C> | null, unknown>(
    `Option<${codec.name}>`,
    (u): u is t.TypeOf<C> | null => u === null || codec.is(u),
    (u, c) => (u === null ? t.success(null) : codec.validate(u, c)),
    (a) => (a === null ? null : codec.encode(a)),
  );

/** Schema `List<T>`; validation stops at the first bad element (the only one reported). */
export const list = <C extends t.Mixed>(codec: C): t.ArrayC<C> => {
  const whole = t.array(codec, `List<${codec.name}>`);
  return new t.ArrayType<C, t.TypeOf<C>[], t.OutputOf<C>[], unknown>(
    whole.name,
    whole.is,
    (u, c) => {
      if (!Array.isArray(u)) return t.failure(u, c);
      const out: t.TypeOf<C>[] = new Array(u.length);
      for (let i = 0; i < u.length; i++) {
        const item: unknown = u[i];
        const decoded = codec.validate(item, t.appendContext(c, String(i), codec, item));
        // Stop at the first bad element: only the first error is reported, and collecting one per element made a
        // 100 000-element list cost a quarter of a second.
        if (decoded._tag === "Left") return decoded;
        out[i] = decoded.right;
      }
      return t.success(out);
    },
    whole.encode,
    codec,
  );
};

const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return false;
  const proto = Object.getPrototypeOf(u) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * Schema `Map<K, V>`: a JS `Map` keyed by the decoded key. Decodes a `Map` (keys keep their own
 * msgpack encoding: ext 2, int…) or a plain object (string keys, e.g. `Map<UserID, Bytes>`);
 * encodes to a `Map` so that `pack` writes each key with its own encoding. Two keys that decode to the same key
 * (e.g. a UserID in two Unicode normalization forms) fail validation.
 */
export const map = <K extends t.Mixed, V extends t.Mixed>(
  key: K,
  value: V,
): t.Type<Map<t.TypeOf<K>, t.TypeOf<V>>, Map<t.OutputOf<K>, t.OutputOf<V>>, unknown> =>
  new t.Type<Map<t.TypeOf<K>, t.TypeOf<V>>, Map<t.OutputOf<K>, t.OutputOf<V>>, unknown>(
    `Map<${key.name}, ${value.name}>`,
    (u): u is Map<t.TypeOf<K>, t.TypeOf<V>> => u instanceof Map && [...u].every(([k, v]) => key.is(k) && value.is(v)),
    (u, c) => {
      let entries: [unknown, unknown][];
      if (u instanceof Map) entries = [...u.entries()];
      else if (isPlainObject(u)) entries = Object.entries(u);
      else return t.failure(u, c);
      const out = new Map<t.TypeOf<K>, t.TypeOf<V>>();
      const errors: t.Errors = [];
      for (const [rawKey, rawValue] of entries) {
        const label = String(rawKey);
        const k = key.validate(rawKey, t.appendContext(c, label, key, rawKey));
        const v = value.validate(rawValue, t.appendContext(c, label, value, rawValue));
        if (k._tag === "Left") errors.push(...k.left);
        if (v._tag === "Left") errors.push(...v.left);
        // Only the first error is reported: stop there rather than validate every other entry.
        if (errors.length > 0) return t.failures(errors);
        if (k._tag === "Right" && out.has(k.right)) {
          // Two wire keys that decode to one key (e.g. a UserID written precomposed and decomposed): refused rather
          // than keeping one of them silently.
          errors.push({ value: rawKey, context: t.appendContext(c, label, key, rawKey), message: `duplicate key '${label}' once decoded` });
        } else if (k._tag === "Right" && v._tag === "Right") out.set(k.right, v.right);
      }
      return errors.length > 0 ? t.failures(errors) : t.success(out);
    },
    (a) => new Map([...a].map(([k, v]) => [key.encode(k), value.encode(v)] as [t.OutputOf<K>, t.OutputOf<V>])),
  );
