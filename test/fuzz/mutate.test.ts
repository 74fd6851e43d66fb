import { describe, expect, it } from "vitest";
import { pack } from "../../src/domain/serialization/msgpack.js";
import { scanMsgpack } from "./msgpack-scan.js";
import { Rng, applyMutation, containerHeader, mutate, randomMutations } from "./mutate.js";

const frame = pack({ cmd: "ping", ping: "hello", n: [1, 2, 3] });

describe("the fuzzers' msgpack scanner", () => {
  it("finds every value, the map's pairs and the length fields", () => {
    const nodes = scanMsgpack(frame);
    expect(nodes.map((n) => n.kind)).toEqual(["map", "str", "str", "str", "str", "str", "array", "int", "int", "int"]);
    expect(nodes[0]).toMatchObject({ start: 0, end: frame.length, length: 3, lengthSize: 0 });
    expect(nodes[0]!.pairs).toHaveLength(3);
  });

  it("stops quietly on truncated or invalid input", () => {
    expect(scanMsgpack(frame.subarray(0, 7)).length).toBeGreaterThan(0);
    expect(scanMsgpack(Buffer.from([0xc1])).map((n) => n.kind)).toEqual(["invalid"]);
    expect(scanMsgpack(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]))[0]).toMatchObject({ kind: "array", length: 0xffffffff });
  });
});

describe("mutations", () => {
  it("duplicate_key inserts a copy of a pair and counts it in the map's header", () => {
    const out = applyMutation(frame, { op: "duplicate_key", at: 0, arg: 0 }, []);
    expect(out[0]).toBe(0x84);
    expect(out.length).toBeGreaterThan(frame.length);
  });

  it("length_inflate rewrites a length or count field", () => {
    const out = applyMutation(frame, { op: "length_inflate", at: 0, arg: 1 }, []);
    expect(out[0]).toBe(0xdf);
  });

  it("ext_type_swap changes an ext's type byte", () => {
    const uuid = Buffer.concat([Buffer.from([0xd8, 0x02]), Buffer.alloc(16)]);
    const out = applyMutation(uuid, { op: "ext_type_swap", at: 0, arg: 4 }, []);
    expect(out[1]).not.toBe(0x02);
  });

  it("container headers take the smallest form", () => {
    expect(containerHeader("array", 3)).toEqual(Buffer.from([0x93]));
    expect(containerHeader("map", 16)).toEqual(Buffer.from([0xde, 0x00, 0x10]));
    expect(containerHeader("array", 70_000)).toEqual(Buffer.from([0xdd, 0x00, 0x01, 0x11, 0x70]));
  });

  it("a program from a seed gives the same input every time", () => {
    const a = mutate(frame, randomMutations(new Rng(99)), [frame]);
    const b = mutate(frame, randomMutations(new Rng(99)), [frame]);
    expect(a.equals(b)).toBe(true);
  });
});
