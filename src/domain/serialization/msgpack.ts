import { Packr, Unpackr, addExtension } from "msgpackr";
import { DateTime } from "../time.js";

/**
 * Parsec's msgpack conventions (see the protocol README):
 * - ext 1, `fixext 8`: DateTime as a big-endian float64 of seconds since the epoch;
 * - ext 2, `fixext 16`: a UUID-based identifier as its 16 raw bytes ({@link WireUuid});
 * - ext 3: an ApiVersion `[major, revision]` packed as msgpack (decoded to a plain array);
 * - floats written as float64 even when integral ({@link Float64});
 * - maps with string keys decode to plain objects; the smallest encodings are used when writing.
 */

/** A UUID as carried by msgpack ext 2: 32 lowercase hex digits. */
export class WireUuid {
  constructor(readonly hex: string) {}
  toString(): string {
    return this.hex;
  }
}

/** A number that must be written as msgpack float 64 (e.g. the ballpark offsets `300.0`). */
export class Float64 {
  constructor(readonly value: number) {}
}

/**
 * An integer outside the 32-bit range that must be written as msgpack uint 64 / int 64
 * (msgpackr would otherwise write it as a float 64, which typed decoders reject).
 * Integer codecs wrap such values with {@link wideInt} before packing.
 */
export class WideInt {
  constructor(readonly value: number) {}
}

/** `n` unchanged when msgpackr writes it as an integer, a {@link WideInt} otherwise. */
export const wideInt = (n: number): number | WideInt => (n >>> 0 === n || n >> 0 === n ? n : new WideInt(n));

/** Thrown by {@link unpack} when bytes are not one well-formed msgpack value. */
export class MsgpackDecodeError extends Error {
  override readonly name = "MsgpackDecodeError";
}

const EXT_DATETIME = 1;
const EXT_UUID = 2;
const EXT_API_VERSION = 3;
/** Never written: {@link Float64} writes its own bytes through msgpackr's allocation hook. */
const EXT_FLOAT64_PLACEHOLDER = 0x7e;
const EXT_WIDE_INT_PLACEHOLDER = 0x7d;

type Allocate = (size: number) => { target: Buffer; targetView: DataView; position: number };

let registered = false;
const registerExtensions = (): void => {
  if (registered) return;
  registered = true;
  addExtension({
    Class: DateTime,
    type: EXT_DATETIME,
    pack(value: DateTime): Buffer {
      const out = Buffer.allocUnsafe(8);
      out.writeDoubleBE(value.epochSeconds, 0);
      return out;
    },
    unpack(data: Buffer): DateTime {
      if (data.length !== 8) throw new MsgpackDecodeError("DateTime extension must hold 8 bytes");
      const seconds = data.readDoubleBE(0);
      if (!Number.isFinite(seconds)) throw new MsgpackDecodeError("DateTime extension is not finite");
      if (Math.abs(seconds) > DateTime.MAX_EPOCH_SECONDS) throw new MsgpackDecodeError("DateTime extension out of range (years 1685 to 2255)");
      return DateTime.fromEpochSeconds(seconds);
    },
  });
  addExtension({
    Class: WireUuid,
    type: EXT_UUID,
    pack: (value: WireUuid): Buffer => Buffer.from(value.hex, "hex"),
    unpack(data: Buffer): WireUuid {
      if (data.length !== 16) throw new MsgpackDecodeError("UUID extension must hold 16 bytes");
      return new WireUuid(data.toString("hex"));
    },
  });
  addExtension({
    type: EXT_API_VERSION,
    unpack(data: Buffer): unknown {
      const value = nestedUnpackr.unpack(data) as unknown;
      if (!Array.isArray(value) || value.length !== 2) throw new MsgpackDecodeError("ApiVersion extension must hold [major, revision]");
      return value;
    },
  });
  addExtension({
    Class: Float64,
    type: EXT_FLOAT64_PLACEHOLDER,
    pack(value: Float64, allocate: Allocate): undefined {
      const { target, targetView, position } = allocate(9);
      target[position] = 0xcb;
      targetView.setFloat64(position + 1, value.value);
      return undefined;
    },
    unpack(): never {
      throw new MsgpackDecodeError(`unsupported msgpack extension type ${EXT_FLOAT64_PLACEHOLDER}`);
    },
  } as never);
  addExtension({
    Class: WideInt,
    type: EXT_WIDE_INT_PLACEHOLDER,
    pack(value: WideInt, allocate: Allocate): undefined {
      const { target, targetView, position } = allocate(9);
      if (value.value >= 0) {
        target[position] = 0xcf;
        targetView.setBigUint64(position + 1, BigInt(value.value));
      } else {
        target[position] = 0xd3;
        targetView.setBigInt64(position + 1, BigInt(value.value));
      }
      return undefined;
    },
    unpack(): never {
      throw new MsgpackDecodeError(`unsupported msgpack extension type ${EXT_WIDE_INT_PLACEHOLDER}`);
    },
  } as never);
};

const nestedUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });

registerExtensions();

const packr = new Packr({
  useRecords: false,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
  int64AsType: "number",
});

const objectUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });
const mapUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "number" });

/** Encodes `value` with Parsec's conventions (smallest forms; `Map` keeps its keys' own encodings). */
export const pack = (value: unknown): Buffer => packr.pack(value);

/**
 * Decodes exactly one msgpack value. Maps become plain objects (string keys), or `Map`s with
 * `{ preserveMaps: true }` (needed for UUID- or integer-keyed maps).
 * @throws MsgpackDecodeError when the bytes are truncated, have trailing data or use an unknown extension.
 */
export const unpack = (bytes: Uint8Array, options?: { preserveMaps?: boolean }): unknown => {
  const unpackr = options?.preserveMaps ? mapUnpackr : objectUnpackr;
  let values: unknown[];
  try {
    values = unpackr.unpackMultiple(bytes as Buffer) as unknown[];
  } catch (err) {
    if (err instanceof MsgpackDecodeError) throw err;
    throw new MsgpackDecodeError(err instanceof Error ? err.message : String(err));
  }
  if (values.length !== 1) throw new MsgpackDecodeError(values.length === 0 ? "empty msgpack payload" : "trailing data after msgpack value");
  return values[0];
};
