import type * as t from "io-ts";
import { decodeMsgpack, type MsgpackDecodeLimits } from "../../domain/serialization/decoder.js";

/**
 * Decodes one msgpack message the way the codecs expect it: maps whose keys are all strings become plain objects
 * (requests, replies, nested structs, `Map<UserID, …>`; the empty map too), other maps stay `Map`s keyed by the
 * decoded key (ext 2 {@link WireUuid}, integers). A `__proto__` key is an ordinary own property. bin values are
 * `Buffer` views into `bytes`.
 * @param limits nesting and element bounds; default `DEFAULT_MSGPACK_DECODE_LIMITS` (depth 32, 100 000 elements).
 *        Pass tighter ones for peers not yet authenticated (anonymous HTTP bodies, handshake frames).
 * @throws MsgpackDecodeError `malformed` when the bytes are not exactly one msgpack value (or a Parsec extension is
 *         ill-formed); `rejected` for an extension type other than 1–4, a duplicate map key or a limit exceeded.
 */
export const unpackWire = (bytes: Uint8Array, limits?: MsgpackDecodeLimits): unknown =>
  decodeMsgpack(bytes, limits === undefined ? undefined : { limits });

/** True for a plain object as {@link unpackWire} produces for a string-keyed map. */
export const isWireMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Map) && !(value instanceof Uint8Array) &&
  Object.getPrototypeOf(value) === Object.prototype;

const CONTAINER_TAGS = new Set(["UnionType", "IntersectionType", "ExactType", "RefinementType", "ReadonlyType"]);

/**
 * A short human text for the first io-ts error: the dotted path of the field (`batch.0.vlob_id`),
 * whether it is missing or invalid, and the expected type, e.g. `missing field 'realm_id' (RealmID)`.
 */
export const describeErrors = (errors: t.Errors): string => {
  const first = errors[0];
  if (!first) return "invalid message";
  const path: string[] = [];
  first.context.forEach((entry, i) => {
    if (i === 0) return;
    const parent = first.context[i - 1]!.type as { _tag?: string };
    if (parent._tag !== undefined && CONTAINER_TAGS.has(parent._tag)) return;
    path.push(entry.key);
  });
  const leaf = first.context[first.context.length - 1];
  const expected = leaf ? leaf.type.name : "value";
  const field = path.join(".");
  if (field === "") return first.message ?? `invalid message (${expected})`;
  if (first.value === undefined) return `missing field '${field}' (${expected})`;
  return `invalid field '${field}': ${first.message ?? `expected ${expected}`}`;
};
