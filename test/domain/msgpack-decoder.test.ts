import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_MSGPACK_DECODE_LIMITS,
  WireDeviceFileType,
  decodeMsgpack,
  type MsgpackDecodeOptions,
} from "../../src/domain/serialization/decoder.js";
import { Float64, MsgpackDecodeError, WireUuid, pack, wideInt } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";
import { legacyUnpackMaps, legacyUnpackWire } from "../support/legacy-msgpack-decode.js";
import { loadVectors, sharedFolderAvailable } from "../protocol/vectors-support.js";

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ""), "hex");
const decode = (h: string | Uint8Array, options?: MsgpackDecodeOptions): unknown => decodeMsgpack(typeof h === "string" ? hex(h) : h, options);

/** The thrown {@link MsgpackDecodeError} (fails when decoding succeeds or throws something else). */
const failure = (h: string | Uint8Array, options?: MsgpackDecodeOptions): MsgpackDecodeError => {
  try {
    decode(h, options);
  } catch (err) {
    if (err instanceof MsgpackDecodeError) return err;
    throw err;
  }
  throw new Error("decoded without error");
};

/**
 * An order- and type-sensitive picture of a decoded value: plain objects (with their prototype), `Map`s and arrays
 * entry by entry in enumeration order, -0 apart from 0. Two decoders agree when their pictures are equal.
 */
const picture = (value: unknown): unknown => {
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : Number.isNaN(value) ? "NaN" : value;
  if (value === null || typeof value !== "object") return value;
  if (Buffer.isBuffer(value)) return ["Buffer", value.toString("hex")];
  if (value instanceof Uint8Array) return ["Uint8Array", Buffer.from(value).toString("hex")];
  if (value instanceof DateTime) return ["DateTime", value.epochMicroseconds];
  if (value instanceof WireUuid) return ["WireUuid", value.hex];
  if (Array.isArray(value)) return ["Array", value.map(picture)];
  if (value instanceof Map) return ["Map", [...value].map(([k, v]) => [picture(k), picture(v)])];
  const proto = Object.getPrototypeOf(value) === Object.prototype ? "Object" : "other prototype";
  return [proto, Object.keys(value).map((k) => [k, picture((value as Record<string, unknown>)[k])])];
};

const agreesWithLegacy = (bytes: Uint8Array): void => {
  const wire = decodeMsgpack(bytes);
  expect(picture(wire)).toStrictEqual(picture(legacyUnpackWire(bytes)));
  const maps = decodeMsgpack(bytes, { maps: "map" });
  expect(picture(maps)).toStrictEqual(picture(legacyUnpackMaps(bytes)));
};

describe("decodeMsgpack: every msgpack format", () => {
  it("nil, bool, positive and negative fixint", () => {
    expect(decode("c0")).toBeNull();
    expect(decode("c2")).toBe(false);
    expect(decode("c3")).toBe(true);
    expect(decode("00")).toBe(0);
    expect(decode("7f")).toBe(127);
    expect(decode("ff")).toBe(-1);
    expect(decode("e0")).toBe(-32);
  });

  it("uint 8/16/32/64 and int 8/16/32/64, 64-bit ones rounded to the nearest double beyond 2^53", () => {
    expect(decode("cc ff")).toBe(255);
    expect(decode("cd ffff")).toBe(65535);
    expect(decode("ce ffffffff")).toBe(4294967295);
    expect(decode("cf 001fffffffffffff")).toBe(Number.MAX_SAFE_INTEGER);
    expect(decode("cf 0000000100000000")).toBe(2 ** 32);
    expect(decode("cf ffffffffffffffff")).toBe(2 ** 64);
    expect(decode("d0 80")).toBe(-128);
    expect(decode("d1 8000")).toBe(-32768);
    expect(decode("d2 80000000")).toBe(-(2 ** 31));
    expect(decode("d3 ffe0000000000001")).toBe(Number.MIN_SAFE_INTEGER);
    expect(decode("d3 8000000000000000")).toBe(-(2 ** 63));
    expect(decode("d3 ffffffffffffffff")).toBe(-1);
    expect(decode("d3 fffffffeffffffff")).toBe(-(2 ** 32) - 1);
  });

  it("float 32 and float 64", () => {
    expect(decode("ca 3fc00000")).toBe(1.5);
    expect(decode("ca 3f99999a")).toBe(Math.fround(1.2));
    expect(decode("cb 4072c00000000000")).toBe(300);
    expect(decode("cb 8000000000000000")).toBe(-0);
    expect(decode("cb 7ff8000000000000")).toBeNaN();
    expect(decode("cb 7ff0000000000000")).toBe(Infinity);
  });

  it("fixstr, str 8/16/32 as UTF-8, a BOM kept", () => {
    expect(decode("a0")).toBe("");
    expect(decode("a3 616263")).toBe("abc");
    expect(decode("d9 03 616263")).toBe("abc");
    expect(decode("da 0003 616263")).toBe("abc");
    expect(decode("db 00000003 616263")).toBe("abc");
    expect(decode("a9 c3a9e282acf09f9880")).toBe("é€😀");
    expect(decode("a3 efbbbf")).toBe("\ufeff");
    const long = "Ünïcödé ".repeat(40);
    expect(decode(pack(long))).toBe(long);
    const ascii = "a".repeat(70_000);
    expect(decode(pack(ascii))).toBe(ascii);
  });

  it("bin 8/16/32 as Buffer views into the input, also for a plain Uint8Array input", () => {
    const input = hex("c4 03 010203");
    const bin = decode(input) as Buffer;
    expect(Buffer.isBuffer(bin)).toBe(true);
    expect(bin).toStrictEqual(Buffer.from([1, 2, 3]));
    expect(bin.buffer).toBe(input.buffer);
    expect(decode("c5 0002 0a0b")).toStrictEqual(Buffer.from([10, 11]));
    expect(decode("c6 00000001 ff")).toStrictEqual(Buffer.from([255]));
    expect(decode("c4 00")).toStrictEqual(Buffer.alloc(0));
    const plain = decode(new Uint8Array([0xc4, 0x02, 0x05, 0x06]));
    expect(Buffer.isBuffer(plain)).toBe(true);
    expect(plain).toStrictEqual(Buffer.from([5, 6]));
  });

  it("fixarray, array 16/32", () => {
    expect(decode("90")).toStrictEqual([]);
    expect(decode("93 01 a161 c0")).toStrictEqual([1, "a", null]);
    expect(decode("dc 0002 0102")).toStrictEqual([1, 2]);
    expect(decode("dd 00000002 0102")).toStrictEqual([1, 2]);
  });

  it("fixmap, map 16/32: str keys give a plain object, the empty map {} (wire shape)", () => {
    expect(decode("80")).toStrictEqual({});
    expect(Object.getPrototypeOf(decode("80"))).toBe(Object.prototype);
    expect(decode("82 a161 01 a162 92 02 03")).toStrictEqual({ a: 1, b: [2, 3] });
    expect(decode("de 0001 a161 01")).toStrictEqual({ a: 1 });
    expect(decode("df 00000001 a161 01")).toStrictEqual({ a: 1 });
  });

  it("a __proto__ key is an ordinary own property, the prototype untouched", () => {
    const value = decode(pack(new Map<unknown, unknown>([["__proto__", { polluted: true }], ["cmd", "x"]]))) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["__proto__", "cmd"]);
    expect(Object.getOwnPropertyDescriptor(value, "__proto__")?.value).toStrictEqual({ polluted: true });
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("maps with other keys are Maps in wire order, str keys included (wire shape)", () => {
    const uuid = "00112233445566778899aabbccddeeff";
    expect(decode(`81 d802${uuid} 01`)).toStrictEqual(new Map([[new WireUuid(uuid), 1]]));
    const mixed = decode("83 a162 c0 a131 01 01 c3") as Map<unknown, unknown>;
    expect([...mixed]).toStrictEqual([
      ["b", null],
      ["1", 1],
      [1, true],
    ]);
    const after = decode("83 a17a 01 a130 02 05 03") as Map<unknown, unknown>;
    expect([...after.keys()]).toStrictEqual(["z", "0", 5]);
  });

  it("every map is a Map with maps: 'map' (certificates)", () => {
    expect(decode("80", { maps: "map" })).toStrictEqual(new Map());
    const value = decode("82 a161 81 a162 01 a163 90", { maps: "map" });
    expect(value).toStrictEqual(new Map<unknown, unknown>([["a", new Map([["b", 1]])], ["c", []]]));
  });

  it("ext 1: DateTime from a fixext 8 float64 of seconds, rounded to the microsecond", () => {
    const dt = DateTime.fromEpochMicroseconds(1_638_618_643_208_821);
    expect(decode(pack(dt))).toStrictEqual(dt);
    expect(decode("c7 08 01 0000000000000000")).toStrictEqual(DateTime.fromEpochMicroseconds(0));
  });

  it("ext 2: WireUuid from 16 bytes, fixext 16 or ext 8", () => {
    expect(decode("d8 02 00112233445566778899aabbccddeeff")).toStrictEqual(new WireUuid("00112233445566778899aabbccddeeff"));
    expect(decode("c7 10 02 00112233445566778899aabbccddeeff")).toStrictEqual(new WireUuid("00112233445566778899aabbccddeeff"));
  });

  it("ext 3: the ApiVersion array its payload packs", () => {
    expect(decode("c7 03 03 92 02 0f")).toStrictEqual([2, 15]);
    expect(failure("d5 03 92 03").kind).toBe("malformed");
  });

  it("ext 4: a device-file type (payload: the str password, recovery or smartcard), as the Python server reads it", () => {
    expect(decode(Buffer.concat([hex("c7 09 04"), pack("password")]))).toStrictEqual(new WireDeviceFileType("password"));
    expect(decode(Buffer.concat([hex("c7 0a 04"), pack("smartcard")]))).toStrictEqual(new WireDeviceFileType("smartcard"));
    expect(decode(Buffer.concat([hex("c7 09 04"), pack("recovery")]))).toStrictEqual(new WireDeviceFileType("recovery"));
    expect(failure(Buffer.concat([hex("c7 06 04"), pack("other")]))).toMatchObject({ kind: "malformed" });
    expect(failure("d4 04 01")).toMatchObject({ kind: "malformed" });
  });
});

describe("decodeMsgpack: refusals", () => {
  it.each([
    ["msgpackr's undefined (ext 0)", "d4 00 00", 0],
    ["BigInt (ext 0x42)", "d4 42 00", 66],
    ["Error (ext 0x65)", "d5 65 9101", 101],
    ["Set (ext 0x73)", "d5 73 9101", 115],
    ["record (ext 0x72)", "d4 72 00", 114],
    ["timestamp 32 (ext -1)", "d6 ff 00000000", -1],
    ["timestamp 64 (ext -1)", "d7 ff 0000000000000000", -1],
    ["timestamp 96 (ext -1)", "c7 0c ff 000000000000000000000000", -1],
    ["the placeholder of Float64 (ext 0x7e)", "d4 7e 00", 126],
    ["another type (ext 5, ext 16 form)", "c8 0001 05 00", 5],
    ["another type (ext 32 form)", "c9 00000001 10 00", 16],
  ])("an unknown extension type: %s", (_name, bytes, type) => {
    const err = failure(bytes);
    expect(err.kind).toBe("rejected");
    expect(err.message).toContain(`unknown msgpack extension type ${type}`);
    expect(failure(`81 a161 ${bytes}`).kind).toBe("rejected");
    expect(failure(`92 01 ${bytes}`, { maps: "map" }).kind).toBe("rejected");
  });

  it("a duplicate key at the top level, in both map shapes", () => {
    const roles = "82 a4726f6c65 a6524541444552 a4726f6c65 a54f574e4552"; // {role: "READER", role: "OWNER"}
    expect(failure(roles)).toMatchObject({ kind: "rejected", message: expect.stringContaining('duplicate key "role"') });
    expect(failure(roles, { maps: "map" })).toMatchObject({ kind: "rejected", message: expect.stringContaining('duplicate key "role"') });
  });

  it("a duplicate key nested in an array or map", () => {
    expect(failure("81 a161 91 82 a162 01 a162 02").kind).toBe("rejected");
    expect(failure("81 a161 81 a162 82 a163 01 a163 02", { maps: "map" }).kind).toBe("rejected");
    expect(failure("82 a95f5f70726f746f5f5f 01 a95f5f70726f746f5f5f 02").kind).toBe("rejected");
  });

  it("duplicate non-str keys: integers, nil, UUIDs (however encoded), DateTimes, str after a non-str key", () => {
    const uuid = "00112233445566778899aabbccddeeff";
    expect(failure("82 01 c0 cc01 c0").kind).toBe("rejected");
    expect(failure("82 c0 01 c0 02").kind).toBe("rejected");
    expect(failure(`82 d802${uuid} 01 c710 02${uuid} 02`)).toMatchObject({ kind: "rejected", message: expect.stringContaining(uuid) });
    expect(failure("82 d701 0000000000000000 01 c708 01 0000000000000000 02", { maps: "map" }).kind).toBe("rejected");
    expect(failure("83 a161 01 01 01 a161 02").kind).toBe("rejected");
    expect(failure("82 92 01 02 c0 92 01 02 c0").kind).toBe("rejected");
    // Distinct keys of distinct types stay apart.
    expect(decode("82 01 c0 a131 c0")).toStrictEqual(new Map<unknown, unknown>([[1, null], ["1", null]]));
  });

  it.each([
    ["nil", "c0", "nil"],
    ["a bool", "c3", "a bool"],
    ["a bin", "c401 61", "a bin"],
    ["an array", "91 01", "an array"],
    ["a map", "81 a161 01", "a map"],
    ["a map with its own toString", "81 a8746f537472696e67 01", "a map"],
    ["a DateTime", "d701 0000000000000000", "a DateTime"],
    ["an ApiVersion", "c703 03 920102", "an array"],
  ])("a map key that is %s (Parsec's keys are str, int or UUID), in both map shapes", (_name, key, described) => {
    for (const maps of ["wire", "map"] as const) {
      const err = failure(`82 ${key} 01 ${key} 02`, { maps });
      expect(err.kind).toBe("rejected");
      expect(err.message).toContain(`is ${described}`);
      expect(failure(`81 ${key} 01`, { maps }).kind).toBe("rejected");
    }
    // Equal values written two ways can no longer pass as two keys.
    expect(failure("82 c4016100 c5000161 01").kind).toBe("rejected");
  });

  it("an ext 3 or ext 4 payload holding another extension is malformed; ext payloads count as a nesting level", () => {
    // ApiVersion inside ApiVersion, and a chain of 3000 (deep recursion before).
    expect(failure("c706 03 c70303920102").kind).toBe("malformed");
    let chain = hex("920102");
    for (let i = 0; i < 3000; i++) chain = Buffer.concat([chain.length < 256 ? Buffer.from([0xc7, chain.length, 3]) : Buffer.from([0xc8, chain.length >> 8, chain.length & 0xff, 3]), chain]);
    expect(failure(chain)).toBeInstanceOf(MsgpackDecodeError);
    expect(failure("c70a 04 c70904a870617373776f7264").kind).toBe("malformed");
    // At the depth limit, an ext 3 payload is one level too many.
    const limits = { maxDepth: 2, maxElements: 100 };
    expect(decode("91 c70303920102", { limits: { ...limits, maxDepth: 3 } })).toStrictEqual([[1, 2]]);
    expect(failure("91 c70303920102", { limits }).kind).toBe("rejected");
  });

  it("nesting deeper than maxDepth (default 32), checked at the header", () => {
    const nest = (depth: number) => Buffer.concat([Buffer.alloc(depth - 1, 0x91), Buffer.from([0x90])]);
    expect(decode(nest(DEFAULT_MSGPACK_DECODE_LIMITS.maxDepth))).toBeDefined();
    expect(failure(nest(33))).toMatchObject({ kind: "rejected", message: "msgpack nesting deeper than 32" });
    const maps = Buffer.concat([Buffer.from("81a161".repeat(3), "hex"), Buffer.from([0x80])]);
    expect(decode(maps, { limits: { maxDepth: 4, maxElements: 100 } })).toStrictEqual({ a: { a: { a: {} } } });
    expect(failure(maps, { limits: { maxDepth: 3, maxElements: 100 } }).kind).toBe("rejected");
    // The payload of an ext 3 counts towards the depth of the message.
    expect(failure("91 91 c7 03 03 92 02 0f", { limits: { maxDepth: 2, maxElements: 100 } }).kind).toBe("rejected");
  });

  it("more elements than maxElements: each value counts once, map keys and values included", () => {
    const limits = { maxDepth: 32, maxElements: 7 };
    expect(decode("93 01 02 93 03 04 05", { limits })).toStrictEqual([1, 2, [3, 4, 5]]);
    expect(failure("93 01 02 94 03 04 05 06", { limits })).toMatchObject({ kind: "rejected", message: "msgpack message holds more than 7 elements" });
    expect(decode("83 a161 01 a162 02 a163 03", { limits })).toStrictEqual({ a: 1, b: 2, c: 3 });
    expect(failure("84 a161 01 a162 02 a163 03 a164 04", { limits }).kind).toBe("rejected");
  });

  it("a 1 MiB frame of empty maps or of distinct keys is refused by the element limit", () => {
    const count = 1024 * 1024 - 5;
    const emptyMaps = Buffer.alloc(5 + count, 0x80);
    emptyMaps[0] = 0xdd;
    emptyMaps.writeUInt32BE(count, 1);
    expect(failure(emptyMaps)).toMatchObject({ kind: "rejected", message: `msgpack message holds more than ${DEFAULT_MSGPACK_DECODE_LIMITS.maxElements} elements` });
    const manyKeys = new Map<string, null>();
    for (let i = 0; manyKeys.size < 170_000; i++) manyKeys.set(i.toString(36), null);
    const frame = pack(manyKeys);
    expect(frame.length).toBeLessThan(1024 * 1024);
    expect(failure(frame)).toMatchObject({ kind: "rejected", message: expect.stringContaining("elements") });
    // Small maps, many of them: counted as they come.
    const pairs = pack(Array.from({ length: 60_000 }, () => ({ a: null })));
    expect(failure(pairs).kind).toBe("rejected");
  });

  it("a declared length beyond the remaining bytes is refused at the header, without allocating", () => {
    for (const bytes of ["dd ffffffff", "df ffffffff", "db ffffffff 61", "c6 ffffffff 00", "c9 ffffffff 02", "dc ffff 01", "de 8000 01 01", "92 01"]) {
      expect(failure(bytes).kind).toBe("malformed");
    }
    expect(failure("df 7fffffff 01 02").message).toBe("map declares 4294967294 values but only 2 bytes remain");
  });

  it("truncated input", () => {
    for (const bytes of ["", "cd 01", "ce 000000", "cf 00", "cb 00000000", "a3 6161", "d9", "c4 02 00", "d8 02 0011", "81 a161", "91", "c7 01"]) {
      const err = failure(bytes);
      expect(err.kind).toBe("malformed");
    }
    expect(failure("").message).toBe("empty msgpack payload");
  });

  it("trailing data after the value, also inside an ext 3 payload", () => {
    expect(failure("c0 c0")).toMatchObject({ kind: "malformed", message: "trailing data after msgpack value at byte 1" });
    expect(failure("80 00").kind).toBe("malformed");
    expect(failure("c7 04 03 92 02 0f 00").kind).toBe("malformed");
  });

  it("the reserved byte 0xc1, a str that is not UTF-8, bad payloads of ext 1 to 3: malformed", () => {
    for (const bytes of [
      "c1",
      "a2 c328",
      "a3 eda080", // a UTF-16 surrogate encoded on its own
      "a1 ff",
      `d9 28 ${"61".repeat(39)}ff`,
      "d6 01 00000000", // DateTime of 4 bytes
      "d7 01 7ff8000000000000", // NaN
      "d7 01 7ff0000000000000", // +Infinity
      "d7 01 c2f0000000000000", // far before 1685
      "d4 02 00", // UUID of 1 byte
      "d4 03 01", // ApiVersion not an array
      "c7 04 03 93 01 02 03", // ApiVersion of 3 items
      "c7 00 03",
    ]) {
      const err = failure(bytes);
      expect(err.kind, bytes).toBe("malformed");
    }
  });
});

/** Values built from what Parsec messages hold: nil, bool, integers (64-bit included), float64, str, bin, DateTime, UUID, arrays, maps. */
const parsecValue = (): fc.Arbitrary<unknown> => {
  const uuid = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => new WireUuid(Buffer.from(b).toString("hex")));
  const dateTime = fc.integer({ min: -(2 ** 52), max: 2 ** 52 }).map((us) => DateTime.fromEpochMicroseconds(us));
  const key = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("__proto__", "cmd", "status", "0", "1", "01", "42", "-1", "constructor", "toString"),
    fc.string({ unit: "grapheme", maxLength: 40 }),
  );
  const scalar = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger().map(wideInt),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.double().map((d) => new Float64(d)),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string(),
    fc.string({ unit: "grapheme", maxLength: 80 }),
    fc.string({ unit: "binary-ascii", maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    dateTime,
    uuid,
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", maxDepth: 5, withCrossShrink: true },
      scalar,
      fc.array(tie("value"), { maxLength: 6 }),
      fc.uniqueArray(fc.tuple(key, tie("value")), { selector: ([k]) => k, maxLength: 6 }).map((entries) => new Map(entries)),
      fc.uniqueArray(fc.tuple(uuid, tie("value")), { selector: ([k]) => k.hex, maxLength: 4 }).map((entries) => new Map<unknown, unknown>(entries)),
      fc
        .uniqueArray(fc.tuple(fc.oneof(key, fc.integer({ min: -5, max: 1000 })), tie("value")), { selector: ([k]) => `${typeof k}:${k}`, maxLength: 6 })
        .map((entries) => new Map<unknown, unknown>(entries)),
    ),
  }));
  return value;
};

describe("decodeMsgpack agrees with the former msgpackr decoding", () => {
  it("decode(pack(v)) equals the former unpackWire (and unpack with preserveMaps) for arbitrary Parsec values", () => {
    fc.assert(
      fc.property(parsecValue(), (v) => {
        agreesWithLegacy(pack(v));
      }),
      { numRuns: 2000 },
    );
  });

  it("on frames shaped like real requests", () => {
    const uuid = new WireUuid("2b5f314728134a12863da1ce49c112f6");
    const now = DateTime.fromEpochMicroseconds(1_700_000_000_123_456);
    agreesWithLegacy(pack({ cmd: "vlob_create", realm_id: uuid, encryption_revision: 1, vlob_id: uuid, timestamp: now, blob: Buffer.alloc(4096, 7), sequester_blob: null }));
    agreesWithLegacy(pack({ cmd: "block_create", block_id: uuid, realm_id: uuid, block: Buffer.alloc(512 * 1024, 1) }));
    agreesWithLegacy(
      pack({
        cmd: "vlob_maintenance_save_reencryption_batch",
        realm_id: uuid,
        encryption_revision: 2,
        batch: Array.from({ length: 1000 }, (_, i) => ({ vlob_id: uuid, version: i + 1, blob: Buffer.from([i & 0xff]) })),
      }),
    );
    agreesWithLegacy(pack({ cmd: "vlob_create", sequester_blob: new Map([[uuid, Buffer.from("x")]]) }));
  });

  const vectorsSuite = sharedFolderAvailable() ? describe : describe.skip;
  vectorsSuite("every protocol vector", () => {
    const vectors = sharedFolderAvailable() ? loadVectors() : [];
    it.each(vectors.map((v) => [v.id, v] as const))("%s", (_id, v) => {
      agreesWithLegacy(Buffer.from(v.msgpack_hex, "hex"));
    });
  });
});
