import { Buffer, isUtf8 } from "node:buffer";
import { DateTime } from "../time.js";
import { MsgpackDecodeError, WireUuid } from "./msgpack.js";

/**
 * A device-file type as carried by msgpack ext 4 (Parsec's `DeviceFileType`: its payload is the msgpack str
 * `"password"`, `"recovery"` or `"smartcard"`). The Python server's generic decoder understands it; no command or
 * certificate field has this type, so it only ever travels in fields a decoder ignores. Never written by this server.
 */
export class WireDeviceFileType {
  constructor(readonly type: "password" | "recovery" | "smartcard") {}
}

const DEVICE_FILE_TYPES: ReadonlySet<string> = new Set(["password", "recovery", "smartcard"]);

/**
 * Bounds checked while decoding, before anything is allocated for the counted items.
 * - `maxDepth`: how many arrays, maps and ext 3/4 payloads may nest (a top-level map is depth 1);
 * - `maxElements`: how many msgpack values one message may hold in all — every scalar, str, bin, ext, array and map,
 *   each array element and each map key and value counts once (an ext 3 payload counts its own elements too).
 */
export interface MsgpackDecodeLimits {
  readonly maxDepth: number;
  readonly maxElements: number;
}

/**
 * Default {@link MsgpackDecodeLimits}: depth 32, 100 000 elements.
 *
 * The largest legitimate Parsec API v2 requests are batches: `vlob_maintenance_save_reencryption_batch` with up to
 * 1000 entries (7 elements each), `realm_start_reencryption_maintenance` with one message per realm member
 * (2 elements each), a `vlob_create` with one `sequester_blob` entry per sequester service; none nests deeper than 4 levels.
 * A 1 MiB frame of empty maps (a million elements) or of 170 000 distinct keys is far beyond the default.
 * Callers facing unauthenticated peers (anonymous HTTP bodies, handshake frames) pass tighter limits.
 */
export const DEFAULT_MSGPACK_DECODE_LIMITS: MsgpackDecodeLimits = Object.freeze({ maxDepth: 32, maxElements: 100_000 });

/**
 * How maps come out of {@link decodeMsgpack}:
 * - `wire` (requests, replies, handshake messages): a map whose keys are all str becomes a plain object
 *   (`Object.prototype`, one own enumerable property per key — `__proto__` included, as an ordinary property);
 *   the empty map becomes `{}`; any other map becomes a `Map` keyed by the decoded keys, in wire order;
 * - `map` (certificates): every map becomes a `Map`, keys keeping their msgpack type.
 */
export type MsgpackMapShape = "wire" | "map";

/** Options of {@link decodeMsgpack}. */
export interface MsgpackDecodeOptions {
  /** Default `wire`. */
  readonly maps?: MsgpackMapShape;
  /** Default {@link DEFAULT_MSGPACK_DECODE_LIMITS}. */
  readonly limits?: MsgpackDecodeLimits;
}

const EXT_DATETIME = 1;
const EXT_UUID = 2;
const EXT_API_VERSION = 3;
const EXT_DEVICE_FILE_TYPE = 4;

const TWO_POW_32 = 0x1_0000_0000;
/** Strings up to this length are tried as ASCII byte by byte before the general UTF-8 path. */
const SHORT_STRING = 32;

/** fixarray, array 16, array 32. */
const isArrayMarker = (b: number): boolean => (b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd;
/** fixstr, str 8, str 16, str 32. */
const isStrMarker = (b: number): boolean => (b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb;

/** What a refused map key is, for messages (never its whole value). */
const describeKey = (key: unknown): string =>
  key === null ? "nil" : Array.isArray(key) ? "an array" : key instanceof Map || (typeof key === "object" && !(key instanceof Uint8Array) && !(key instanceof DateTime) && Object.getPrototypeOf(key) === Object.prototype) ? "a map" : key instanceof Uint8Array ? "a bin" : key instanceof DateTime ? "a DateTime" : typeof key === "boolean" ? "a bool" : "an extension value";

class Reader {
  private pos = 0;
  private elements = 1;

  constructor(
    private readonly buf: Buffer,
    private readonly view: DataView,
    private end: number,
    private readonly asWire: boolean,
    private readonly limits: MsgpackDecodeLimits,
  ) {}

  /** The value in `[0, end)`, which must be used up exactly. */
  top(): unknown {
    if (this.end === 0) throw new MsgpackDecodeError("empty msgpack payload");
    const value = this.value(0);
    if (this.pos !== this.end) throw new MsgpackDecodeError(`trailing data after msgpack value at byte ${this.pos}`);
    return value;
  }

  private truncated(): never {
    throw new MsgpackDecodeError(`truncated msgpack data at byte ${this.pos}`);
  }

  /** Moves past `n` bytes and returns where they start. */
  private take(n: number): number {
    const start = this.pos;
    if (n > this.end - start) this.truncated();
    this.pos = start + n;
    return start;
  }

  private value(depth: number): unknown {
    if (this.pos >= this.end) this.truncated();
    const byte = this.buf[this.pos++]!;
    if (byte < 0x80) return byte;
    if (byte >= 0xe0) return byte - 0x100;
    if (byte < 0x90) return this.map(byte & 0x0f, depth);
    if (byte < 0xa0) return this.array(byte & 0x0f, depth);
    if (byte < 0xc0) return this.str(byte & 0x1f);
    const view = this.view;
    switch (byte) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(this.buf[this.take(1)]!);
      case 0xc5:
        return this.bin(view.getUint16(this.take(2)));
      case 0xc6:
        return this.bin(view.getUint32(this.take(4)));
      case 0xc7:
        return this.ext(this.buf[this.take(1)]!, depth);
      case 0xc8:
        return this.ext(view.getUint16(this.take(2)), depth);
      case 0xc9:
        return this.ext(view.getUint32(this.take(4)), depth);
      case 0xca:
        return view.getFloat32(this.take(4));
      case 0xcb:
        return view.getFloat64(this.take(8));
      case 0xcc:
        return this.buf[this.take(1)]!;
      case 0xcd:
        return view.getUint16(this.take(2));
      case 0xce:
        return view.getUint32(this.take(4));
      case 0xcf: {
        const at = this.take(8);
        return view.getUint32(at) * TWO_POW_32 + view.getUint32(at + 4);
      }
      case 0xd0:
        return view.getInt8(this.take(1));
      case 0xd1:
        return view.getInt16(this.take(2));
      case 0xd2:
        return view.getInt32(this.take(4));
      case 0xd3: {
        const at = this.take(8);
        return view.getInt32(at) * TWO_POW_32 + view.getUint32(at + 4);
      }
      case 0xd4:
        return this.ext(1, depth);
      case 0xd5:
        return this.ext(2, depth);
      case 0xd6:
        return this.ext(4, depth);
      case 0xd7:
        return this.ext(8, depth);
      case 0xd8:
        return this.ext(16, depth);
      case 0xd9:
        return this.str(this.buf[this.take(1)]!);
      case 0xda:
        return this.str(view.getUint16(this.take(2)));
      case 0xdb:
        return this.str(view.getUint32(this.take(4)));
      case 0xdc:
        return this.array(view.getUint16(this.take(2)), depth);
      case 0xdd:
        return this.array(view.getUint32(this.take(4)), depth);
      case 0xde:
        return this.map(view.getUint16(this.take(2)), depth);
      case 0xdf:
        return this.map(view.getUint32(this.take(4)), depth);
      default:
        throw new MsgpackDecodeError(`reserved msgpack byte 0xc1 at byte ${this.pos - 1}`);
    }
  }

  /** Checks a container of `count` values (each at least one byte) before reading it. */
  private enter(count: number, depth: number, what: string): void {
    if (count > this.end - this.pos) throw new MsgpackDecodeError(`${what} declares ${count} values but only ${this.end - this.pos} bytes remain`);
    if (depth >= this.limits.maxDepth) throw new MsgpackDecodeError(`msgpack nesting deeper than ${this.limits.maxDepth}`, "rejected");
    this.elements += count;
    if (this.elements > this.limits.maxElements)
      throw new MsgpackDecodeError(`msgpack message holds more than ${this.limits.maxElements} elements`, "rejected");
  }

  private array(length: number, depth: number): unknown[] {
    this.enter(length, depth, "array");
    const out = new Array<unknown>(length);
    for (let i = 0; i < length; i++) out[i] = this.value(depth + 1);
    return out;
  }

  private map(size: number, depth: number): unknown {
    this.enter(2 * size, depth, "map");
    return this.asWire ? this.wireMap(size, depth + 1) : this.keyedMap(new Map(), size, depth + 1);
  }

  /** A plain object while the keys are str; a `Map` from the first other key on. */
  private wireMap(size: number, depth: number): unknown {
    const out: Record<string, unknown> = {};
    /** Keys in wire order, kept from the first key that may be an array index (those enumerate first in an object). */
    let order: string[] | undefined;
    for (let i = 0; i < size; i++) {
      const keyAt = this.pos;
      const key = this.value(depth);
      if (typeof key !== "string") {
        const map = new Map<unknown, unknown>();
        for (const k of order ?? Object.keys(out)) map.set(k, out[k]);
        return this.keyedMap(map, size - i, depth, { key, keyAt });
      }
      if (Object.hasOwn(out, key)) this.duplicate(key, keyAt);
      const first = key.charCodeAt(0);
      if (order !== undefined) order.push(key);
      else if (first >= 0x30 && first <= 0x39) (order = Object.keys(out)).push(key);
      const value = this.value(depth);
      if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    return out;
  }

  /**
   * Adds `size` entries to `map`. From {@link wireMap}, `map` already holds the str-keyed entries and `pending` is the
   * key just read (the input is right after it). Keys are str, numbers or UUIDs (the key types of Parsec's maps:
   * UserID, Index, VlobID, SequesterServiceID); any other key is refused, so that equal keys are always caught.
   */
  private keyedMap(map: Map<unknown, unknown>, size: number, depth: number, pending?: { key: unknown; keyAt: number }): Map<unknown, unknown> {
    /** The UUID keys seen, by value (a `Map` compares objects by reference). */
    let uuidKeys: Set<string> | undefined;
    for (let i = 0; i < size; i++) {
      const keyAt = i === 0 && pending ? pending.keyAt : this.pos;
      const key = i === 0 && pending ? pending.key : this.value(depth);
      if (key instanceof WireUuid) {
        uuidKeys ??= new Set();
        if (uuidKeys.has(key.hex)) this.duplicate(key, keyAt);
        uuidKeys.add(key.hex);
      } else if (typeof key === "string" || typeof key === "number") {
        if (map.has(key)) this.duplicate(key, keyAt);
      } else {
        throw new MsgpackDecodeError(`msgpack map key at byte ${keyAt} is ${describeKey(key)} (Parsec map keys are str, int or UUID)`, "rejected");
      }
      map.set(key, this.value(depth));
    }
    return map;
  }

  private duplicate(key: string | number | WireUuid, keyAt: number): never {
    const shown = typeof key === "string" ? JSON.stringify(key) : key instanceof WireUuid ? key.hex : String(key);
    throw new MsgpackDecodeError(`duplicate key ${shown.length > 64 ? `${shown.slice(0, 64)}…` : shown} in msgpack map at byte ${keyAt}`, "rejected");
  }

  private str(length: number): string {
    const start = this.take(length);
    const buf = this.buf;
    if (length <= SHORT_STRING) {
      let i = start;
      const end = start + length;
      while (i < end && buf[i]! < 0x80) i++;
      if (i === end) return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
    }
    const end = start + length;
    if (!isUtf8(buf.subarray(start, end))) throw new MsgpackDecodeError(`msgpack str at byte ${start} is not UTF-8`);
    return buf.toString("utf8", start, end);
  }

  private bin(length: number): Buffer {
    const start = this.take(length);
    return this.buf.subarray(start, start + length);
  }

  private ext(length: number, depth: number): unknown {
    const type = this.view.getInt8(this.take(1));
    const start = this.take(length);
    switch (type) {
      case EXT_DATETIME: {
        if (length !== 8) throw new MsgpackDecodeError("DateTime extension must hold 8 bytes");
        const seconds = this.view.getFloat64(start);
        if (!Number.isFinite(seconds)) throw new MsgpackDecodeError("DateTime extension is not finite");
        if (Math.abs(seconds) > DateTime.MAX_EPOCH_SECONDS) throw new MsgpackDecodeError("DateTime extension out of range (years 1685 to 2255)");
        return DateTime.fromEpochSeconds(seconds);
      }
      case EXT_UUID:
        if (length !== 16) throw new MsgpackDecodeError("UUID extension must hold 16 bytes");
        return new WireUuid(this.buf.toString("hex", start, start + 16));
      case EXT_API_VERSION: {
        const value = this.nested(start, depth, isArrayMarker, "ApiVersion");
        if (!Array.isArray(value) || value.length !== 2) throw new MsgpackDecodeError("ApiVersion extension must hold [major, revision]");
        return value;
      }
      case EXT_DEVICE_FILE_TYPE: {
        const value = this.nested(start, depth, isStrMarker, "device-file type");
        if (typeof value !== "string" || !DEVICE_FILE_TYPES.has(value))
          throw new MsgpackDecodeError("device-file type extension must hold \"password\", \"recovery\" or \"smartcard\"");
        return new WireDeviceFileType(value as WireDeviceFileType["type"]);
      }
      default:
        throw new MsgpackDecodeError(`unknown msgpack extension type ${type} at byte ${start - 1} (Parsec defines types 1 to 4)`, "rejected");
    }
  }

  /**
   * The one msgpack value filling an ext payload `[start, pos)`, under the same limits as the message: the payload is
   * one nesting level deeper, and must start with the marker `expected` accepts (an ext 3 holds an array, an ext 4 a
   * str), so an extension never holds another one.
   */
  private nested(start: number, depth: number, expected: (marker: number) => boolean, what: string): unknown {
    const outerEnd = this.end;
    const after = this.pos;
    if (start === after) throw new MsgpackDecodeError(`empty extension payload at byte ${start}`);
    if (!expected(this.buf[start]!)) throw new MsgpackDecodeError(`${what} extension payload at byte ${start} is not ${what === "ApiVersion" ? "an array" : "a str"}`);
    if (depth >= this.limits.maxDepth) throw new MsgpackDecodeError(`msgpack nesting deeper than ${this.limits.maxDepth}`, "rejected");
    this.end = after;
    this.pos = start;
    const value = this.value(depth + 1);
    if (this.pos !== after) throw new MsgpackDecodeError(`trailing data in extension payload at byte ${this.pos}`);
    this.end = outerEnd;
    return value;
  }
}

/**
 * Decodes exactly one msgpack value, strictly: everything Parsec's API v2 receives (request frames, handshake
 * answers, certificates) goes through here.
 *
 * Shapes: nil → `null`; bool; int → `number` (uint 64 / int 64 beyond 2^53 are rounded to the nearest double, as
 * before — integer codecs refuse them); float 32/64 → `number`; str → `string` (must be UTF-8; a BOM is kept);
 * bin → `Buffer`, a view into `bytes` (no copy: callers that keep it past the life of `bytes` copy it); array → array;
 * map → see {@link MsgpackMapShape}; ext 1 → {@link DateTime} (fixext 8 float64 seconds, finite, years 1685–2255);
 * ext 2 → {@link WireUuid} (16 bytes); ext 3 → the ApiVersion `[major, revision]` array its payload packs;
 * ext 4 → {@link WireDeviceFileType}.
 *
 * @param options.maps `wire` (default) or `map`.
 * @param options.limits nesting and element bounds, {@link DEFAULT_MSGPACK_DECODE_LIMITS} by default.
 * @throws MsgpackDecodeError `malformed` (truncated, trailing data, a length beyond the input, 0xc1, str not UTF-8,
 *         a bad payload of ext 1–4) or `rejected` (another ext type, a duplicate key in a map, a map key that is not a str, number or UUID,
 *         a limit exceeded). Nothing else escapes: any other failure is wrapped as `malformed`.
 */
export const decodeMsgpack = (bytes: Uint8Array, options?: MsgpackDecodeOptions): unknown => {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  try {
    return new Reader(buf, view, buf.length, options?.maps !== "map", options?.limits ?? DEFAULT_MSGPACK_DECODE_LIMITS).top();
  } catch (err) {
    if (err instanceof MsgpackDecodeError) throw err;
    // The limits keep recursion shallow; whatever else escapes is still the input's fault, never the server's.
    throw new MsgpackDecodeError(`undecodable msgpack (${err instanceof Error ? err.message : String(err)})`);
  }
};
