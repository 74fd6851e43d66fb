import { Packr, addExtension } from "msgpackr";
import { DateTime } from "../time.js";

/**
 * Parsec's msgpack conventions (see the protocol README), written here with msgpackr:
 * - ext 1, `fixext 8`: DateTime as a big-endian float64 of seconds since the epoch;
 * - ext 2, `fixext 16`: a UUID-based identifier as its 16 raw bytes ({@link WireUuid});
 * - floats written as float64 even when integral ({@link Float64}), 64-bit integers as integers ({@link WideInt});
 * - the smallest encodings otherwise.
 * Reading is `decodeMsgpack` (`decoder.ts`), which also knows ext 3 (ApiVersion) and ext 4 (device-file type).
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

/**
 * Why `decodeMsgpack` (`decoder.ts`) refused its input:
 * - `malformed`: not one msgpack value — truncated, trailing bytes, the reserved byte `0xc1`, a declared length larger
 *   than the bytes left, a str that is not UTF-8, or a Parsec extension (types 1–4) whose payload is wrong;
 * - `rejected`: well-formed msgpack that Parsec messages never hold — an extension type other than 1–4, a key
 *   repeated in one map, or more nesting or elements than the decode limits.
 */
export type MsgpackDecodeErrorKind = "malformed" | "rejected";

/** Thrown by `decodeMsgpack` (`decoder.ts`); `message` says what was wrong and where (byte offset). */
export class MsgpackDecodeError extends Error {
  override readonly name = "MsgpackDecodeError";
  constructor(
    message: string,
    readonly kind: MsgpackDecodeErrorKind = "malformed",
  ) {
    super(message);
  }
}

const EXT_DATETIME = 1;
const EXT_UUID = 2;
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
  });
  addExtension({
    Class: WireUuid,
    type: EXT_UUID,
    pack: (value: WireUuid): Buffer => Buffer.from(value.hex, "hex"),
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
  } as never);
};

registerExtensions();

const packr = new Packr({
  useRecords: false,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
  int64AsType: "number",
});

/** Encodes `value` with Parsec's conventions (smallest forms; `Map` keeps its keys' own encodings). */
export const pack = (value: unknown): Buffer => packr.pack(value);
