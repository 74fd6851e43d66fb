import * as t from "io-ts";
import { describe, expect, it } from "vitest";
import { decodeRequest } from "../../src/adapters/protocol/registry.js";
import { list, map } from "../../src/adapters/protocol/codecs/primitives.js";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";

/** A codec of strings that counts how many values it was asked to validate. */
const countingString = () => {
  const seen = { count: 0 };
  const codec = new t.Type<string, string, unknown>(
    "CountingString",
    (u): u is string => typeof u === "string",
    (u, c) => {
      seen.count++;
      return typeof u === "string" ? t.success(u) : t.failure(u, c, "not a string");
    },
    t.identity,
  );
  return { codec, seen };
};

describe("List<T> and Map<K, V> stop at the first bad element", () => {
  it("List<T> validates every element of a good list, and none after the first bad one", () => {
    const { codec, seen } = countingString();
    expect(list(codec).decode(["a", "b", "c"])).toEqual({ _tag: "Right", right: ["a", "b", "c"] });
    expect(seen.count).toBe(3);
    seen.count = 0;
    const bad = list(codec).decode(["a", 1, 2, 3, ...Array.from({ length: 1000 }, () => 4)]);
    expect(bad._tag).toBe("Left");
    expect(seen.count).toBe(2);
    if (bad._tag === "Left") expect(bad.left[0]!.context.map((e) => e.key)).toEqual(["", "1"]);
  });

  it("Map<K, V> stops at the first bad entry", () => {
    const key = countingString();
    const value = countingString();
    const entries = new Map<unknown, unknown>([["a", "x"], ["b", 1], ...Array.from({ length: 1000 }, (_, i) => [`k${i}`, i] as [string, number])]);
    expect(map(key.codec, value.codec).decode(entries)._tag).toBe("Left");
    expect(value.seen.count).toBe(2);
  });

  it("a reencryption batch of 99,990 empty maps answers bad_message on its first element", () => {
    const head = pack({ cmd: "vlob_maintenance_save_reencryption_batch", realm_id: new WireUuid("00".repeat(16)), encryption_revision: 1 });
    const count = 99_990;
    const batch = Buffer.concat([Buffer.from([0xa5]), Buffer.from("batch"), Buffer.from([0xdd, 0, 0, 0, 0]), Buffer.alloc(count, 0x80)]);
    batch.writeUInt32BE(count, 7);
    const frame = Buffer.concat([Buffer.from([0x84]), head.subarray(1), batch]);
    expect(decodeRequest("authenticated", frame)).toEqual({ kind: "bad_message", reason: "missing field 'batch.0.vlob_id' (VlobID)" });
  });
});
