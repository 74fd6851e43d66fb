import { DateTime } from "../../src/domain/time.js";
import { Float64, WireUuid, wideInt } from "../../src/domain/serialization/msgpack.js";

/**
 * The tagged JSON of the shared protocol vectors (see parsec-protocol/README.md): plain JSON for
 * str/int/bool/nil/array/string-keyed map, and `{"$bytes"}`, `{"$datetime"}`, `{"$uuid"}`, `{"$float"}`,
 * `{"$map"}`, `{"$bigint"}`, `{"$ext"}` for the other msgpack forms.
 */
export type Tagged = null | boolean | number | string | Tagged[] | { [key: string]: Tagged };

const TAGS = ["$bytes", "$datetime", "$uuid", "$float", "$map", "$ext", "$bigint"] as const;

const tagOf = (value: Tagged): (typeof TAGS)[number] | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 && (TAGS as readonly string[]).includes(keys[0]!) ? (keys[0] as (typeof TAGS)[number]) : undefined;
};

const uuidHex = (hyphenated: string): string => hyphenated.replace(/-/g, "").toLowerCase();
const hyphenate = (hex: string): string => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/** Tagged JSON → values our `pack` writes with the same msgpack forms (Float64 for `$float`, WideInt for 64-bit ints). */
export const fromTagged = (value: Tagged): unknown => {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return Number.isInteger(value) ? wideInt(value) : new Float64(value);
  if (Array.isArray(value)) return value.map(fromTagged);
  const obj = value as Record<string, Tagged>;
  switch (tagOf(value)) {
    case "$bytes":
      return Buffer.from(obj["$bytes"] as string, "hex");
    case "$datetime": {
      const dt = DateTime.parseRfc3339(obj["$datetime"] as string);
      if (!dt) throw new Error(`bad $datetime ${String(obj["$datetime"])}`);
      return dt;
    }
    case "$uuid":
      return new WireUuid(uuidHex(obj["$uuid"] as string));
    case "$float":
      return new Float64(obj["$float"] as number);
    case "$map":
      return new Map((obj["$map"] as [Tagged, Tagged][]).map(([k, v]) => [fromTagged(k), fromTagged(v)]));
    case "$ext":
    case "$bigint":
      throw new Error(`unsupported tag in vector: ${JSON.stringify(value)}`);
    default:
      return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fromTagged(v)]));
  }
};

/** Decoded msgpack (from `decodeMsgpack(bytes, { maps: "map" })`) → tagged JSON. Floats come out as plain numbers. */
export const toTagged = (value: unknown): Tagged => {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean" || typeof value === "string" || typeof value === "number") return value;
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("hex") };
  if (value instanceof DateTime) return { $datetime: value.toRfc3339() };
  if (value instanceof WireUuid) return { $uuid: hyphenate(value.hex) };
  if (Array.isArray(value)) return value.map(toTagged);
  if (value instanceof Map) {
    const entries = [...value.entries()];
    if (entries.every(([k]) => typeof k === "string")) return Object.fromEntries(entries.map(([k, v]) => [k, toTagged(v)]));
    return { $map: entries.map(([k, v]) => [toTagged(k), toTagged(v)]) };
  }
  if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toTagged(v)]));
  throw new Error(`cannot tag ${typeof value}`);
};

/** `{"$float": x}` → `x`, recursively: the decoded side cannot tell 50.0 from 50. */
export const untagFloats = (value: Tagged): Tagged => {
  if (Array.isArray(value)) return value.map(untagFloats);
  if (typeof value !== "object" || value === null) return value;
  if (tagOf(value) === "$float") return value["$float"] as number;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, untagFloats(v)]));
};

/**
 * Rebuilds `value` (output of a codec's `encode`) with the key order of `expected`, recursively through
 * plain objects, arrays and `$map` entries; keys absent from `expected` come last.
 */
export const reorderLike = (value: unknown, expected: Tagged): unknown => {
  if (Array.isArray(value)) return value.map((v, i) => reorderLike(v, Array.isArray(expected) ? (expected[i] ?? null) : null));
  if (value instanceof Map) {
    const pairs = tagOf(expected) === "$map" ? ((expected as Record<string, Tagged>)["$map"] as [Tagged, Tagged][]) : [];
    return new Map([...value.entries()].map(([k, v], i) => [k, reorderLike(v, pairs[i]?.[1] ?? null)]));
  }
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const source = value as Record<string, unknown>;
  const order = typeof expected === "object" && expected !== null && !Array.isArray(expected) && !tagOf(expected) ? Object.keys(expected) : [];
  const keys = [...order.filter((k) => k in source), ...Object.keys(source).filter((k) => !order.includes(k))];
  const exp = (k: string): Tagged => (order.includes(k) ? (expected as Record<string, Tagged>)[k]! : null);
  return Object.fromEntries(keys.map((k) => [k, reorderLike(source[k], exp(k))]));
};
