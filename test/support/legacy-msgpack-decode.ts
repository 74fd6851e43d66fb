import { Unpackr, addExtension } from "msgpackr";
import { WireUuid } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";

/**
 * The server's msgpack decoding before the strict decoder (msgpackr with `preserveMaps`, then string-keyed maps
 * turned into plain objects), kept as the reference the strict decoder must agree with on every value Parsec uses.
 * Registers msgpackr unpackers for ext 1–3 (unpacking only: packing is untouched). Tests only.
 */

const nested = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });
addExtension({
  type: 1,
  unpack(data: Buffer): DateTime {
    if (data.length !== 8) throw new Error("DateTime extension must hold 8 bytes");
    const seconds = data.readDoubleBE(0);
    if (!Number.isFinite(seconds) || Math.abs(seconds) > DateTime.MAX_EPOCH_SECONDS) throw new Error("DateTime extension out of range");
    return DateTime.fromEpochSeconds(seconds);
  },
});
addExtension({
  type: 2,
  unpack(data: Buffer): WireUuid {
    if (data.length !== 16) throw new Error("UUID extension must hold 16 bytes");
    return new WireUuid(data.toString("hex"));
  },
});
addExtension({
  type: 3,
  unpack(data: Buffer): unknown {
    const value = nested.unpack(data) as unknown;
    if (!Array.isArray(value) || value.length !== 2) throw new Error("ApiVersion extension must hold [major, revision]");
    return value;
  },
});

const maps = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "number" });

const single = (bytes: Uint8Array): unknown => {
  const values = maps.unpackMultiple(bytes as Buffer) as unknown[];
  if (values.length !== 1) throw new Error("not exactly one msgpack value");
  return values[0];
};

const isStringKeyed = (m: Map<unknown, unknown>): boolean => {
  for (const k of m.keys()) if (typeof k !== "string") return false;
  return true;
};

const normalize = (value: unknown): unknown => {
  if (value instanceof Map) {
    if (isStringKeyed(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of value) Object.defineProperty(out, k as string, { value: normalize(v), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return new Map([...value].map(([k, v]) => [k, normalize(v)]));
  }
  if (Array.isArray(value)) return value.map(normalize);
  return value;
};

/** The former `unpack(bytes, { preserveMaps: true })`: every map a `Map` (certificates). */
export const legacyUnpackMaps = (bytes: Uint8Array): unknown => single(bytes);

/** The former `unpackWire`: string-keyed maps as plain objects, other maps as `Map`s. */
export const legacyUnpackWire = (bytes: Uint8Array): unknown => normalize(single(bytes));
