import { scanMsgpack, type ScannedNode } from "./msgpack-scan.js";

/**
 * Mutations of msgpack frames for the fuzzers, each a small deterministic program so that an input is reproducible
 * from its seed frame and its mutation list (fast-check shrinks the list; `npm run fuzz` derives it from a seed).
 * Byte-level ones (bit flips, interesting bytes, truncation, splices, inserted/deleted/duplicated ranges) and
 * structure-aware ones (length/count fields inflated, ext types swapped, keys duplicated, str/bin and array/map
 * headers confused, values nested deep, containers of a huge number of small elements).
 */

/** The mutation operators. */
export const MUTATION_OPS = [
  "bit_flip",
  "byte_set",
  "truncate",
  "splice",
  "node_splice",
  "insert",
  "delete",
  "duplicate_range",
  "length_inflate",
  "ext_type_swap",
  "duplicate_key",
  "type_confuse",
  "deep_nest",
  "wide_container",
] as const;

/** One mutation operator. */
export type MutationOp = (typeof MUTATION_OPS)[number];

/** One step of a mutation program: an operator and two unsigned 32-bit choices it reads positions and values from. */
export interface Mutation {
  readonly op: MutationOp;
  readonly at: number;
  readonly arg: number;
}

/** Inputs are cut to this size (2 MiB): above the transport's frame limit, below what would make a run crawl. */
export const MAX_MUTATED_SIZE = 2 * 1024 * 1024;

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc4, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd7, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff];
/** Ext types tried: Parsec's (1 DateTime, 2 UUID, 3 ApiVersion, 4 device file type), msgpackr's internal ones, and extremes. */
const EXT_TYPES = [0, 1, 2, 3, 4, 5, 0x7d, 0x7e, 0x7f, 0xff, 0x80, 0x70, 0x72, 0x78, 0x69];

const concat = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts);
const u8 = (...values: number[]): Buffer => Buffer.from(values);
const be = (value: number, size: 1 | 2 | 4): Buffer => {
  const out = Buffer.alloc(size);
  if (size === 1) out.writeUInt8(value & 0xff);
  else if (size === 2) out.writeUInt16BE(value & 0xffff);
  else out.writeUInt32BE(value >>> 0);
  return out;
};

/** The header of a container (`array` or `map`) holding `count` elements (pairs for a map), in its smallest form. */
export const containerHeader = (kind: "array" | "map", count: number): Buffer => {
  if (count <= 15) return u8((kind === "array" ? 0x90 : 0x80) | count);
  if (count <= 0xffff) return concat(u8(kind === "array" ? 0xdc : 0xde), be(count, 2));
  return concat(u8(kind === "array" ? 0xdd : 0xdf), be(count, 4));
};

const headerEnd = (n: ScannedNode): number => (n.lengthSize === 0 ? n.start + 1 : n.lengthOffset + n.lengthSize);

/** `bytes` with the header of container `node` rewritten for `count` children (its form may widen). */
const recount = (bytes: Buffer, node: ScannedNode, count: number): Buffer =>
  concat(bytes.subarray(0, node.start), containerHeader(node.kind as "array" | "map", count), bytes.subarray(headerEnd(node)));

const pick = <T>(items: readonly T[], choice: number): T | undefined => (items.length === 0 ? undefined : items[choice % items.length]);

const inflatedLength = (node: ScannedNode, arg: number): number => {
  const max = node.lengthSize === 1 ? 0xff : node.lengthSize === 2 ? 0xffff : 0xffffffff;
  const choices = [node.length + 1, node.length * 2 + 1, max, 0x7fffffff, 0xffffffff, Math.max(0, node.length - 1), node.length + 0x10000];
  return choices[arg % choices.length]!;
};

const lengthInflate = (bytes: Buffer, node: ScannedNode, arg: number): Buffer => {
  const value = inflatedLength(node, arg >>> 3);
  if (node.lengthSize > 0 && arg % 2 === 0) {
    const max = node.lengthSize === 1 ? 0xff : node.lengthSize === 2 ? 0xffff : 0xffffffff;
    return concat(bytes.subarray(0, node.lengthOffset), be(Math.min(value, max), node.lengthSize as 1 | 2 | 4), bytes.subarray(node.lengthOffset + node.lengthSize));
  }
  // Widened to the 32-bit form (or, for fix forms, the low bits set): the claimed size no longer matches what follows.
  const rest = bytes.subarray(headerEnd(node));
  switch (node.kind) {
    case "str":
      return concat(bytes.subarray(0, node.start), u8(0xdb), be(value, 4), rest);
    case "bin":
      return concat(bytes.subarray(0, node.start), u8(0xc6), be(value, 4), rest);
    case "array":
      return concat(bytes.subarray(0, node.start), u8(0xdd), be(value, 4), rest);
    case "map":
      return concat(bytes.subarray(0, node.start), u8(0xdf), be(value, 4), rest);
    case "ext": {
      // fixext: header + type byte; ext8/16/32: header + length + type byte.
      const typeByte = bytes[node.extTypeOffset] ?? 0;
      return concat(bytes.subarray(0, node.start), u8(0xc9), be(value, 4), u8(typeByte), bytes.subarray(node.extTypeOffset + 1));
    }
    default:
      return bytes;
  }
};

const extTypeSwap = (bytes: Buffer, node: ScannedNode, arg: number): Buffer => {
  const out = Buffer.from(bytes);
  if (arg % 4 === 3 && bytes[node.start]! >= 0xd4 && bytes[node.start]! <= 0xd8) {
    // Another fixext size class: the payload no longer matches what the header announces.
    out[node.start] = 0xd4 + ((bytes[node.start]! - 0xd4 + 1 + ((arg >>> 2) % 4)) % 5);
    return out;
  }
  if (node.extTypeOffset >= 0 && node.extTypeOffset < out.length) out[node.extTypeOffset] = EXT_TYPES[(arg >>> 2) % EXT_TYPES.length]!;
  return out;
};

const duplicateKey = (bytes: Buffer, node: ScannedNode, arg: number): Buffer => {
  const pair = pick(node.pairs, arg);
  if (!pair) return bytes;
  const [keyStart, valueEnd] = pair;
  let copy: Buffer = bytes.subarray(keyStart, valueEnd);
  if ((arg >>> 8) % 2 === 1 && node.pairs.length > 1) {
    // Same key, the value of another pair (often of another type).
    const keyNode = scanMsgpack(bytes.subarray(keyStart, valueEnd))[0];
    const other = node.pairs[(arg >>> 9) % node.pairs.length]!;
    const otherKey = scanMsgpack(bytes.subarray(other[0], other[1]))[0];
    if (keyNode && otherKey) copy = concat(bytes.subarray(keyStart, keyStart + keyNode.end), bytes.subarray(other[0] + otherKey.end, other[1]));
  }
  const inserted = concat(bytes.subarray(0, valueEnd), copy, bytes.subarray(valueEnd));
  return recount(inserted, node, node.length + 1);
};

const typeConfuse = (bytes: Buffer, node: ScannedNode): Buffer => {
  const b = bytes[node.start]!;
  const out = Buffer.from(bytes);
  if (node.kind === "str" && node.lengthSize === 0) return concat(bytes.subarray(0, node.start), u8(0xc4, node.length), bytes.subarray(node.start + 1));
  if (node.kind === "str") out[node.start] = b - 0xd9 + 0xc4;
  else if (node.kind === "bin") out[node.start] = b - 0xc4 + 0xd9;
  else if (node.kind === "array" && node.lengthSize === 0) out[node.start] = 0x80 | node.length;
  else if (node.kind === "map" && node.lengthSize === 0) out[node.start] = 0x90 | node.length;
  else if (node.kind === "array") out[node.start] = b + 2;
  else if (node.kind === "map") out[node.start] = b - 2;
  else if (node.kind === "int" || node.kind === "nil" || node.kind === "bool") out[node.start] = 0xcb;
  return out;
};

const deepNest = (bytes: Buffer, node: ScannedNode, arg: number): Buffer => {
  const depth = 1 + (arg % 20_000);
  const wrapper = (arg >>> 16) % 2 === 0 ? u8(0x91) : u8(0x81, 0xa0);
  return concat(bytes.subarray(0, node.start), Buffer.alloc(depth * wrapper.length, wrapper), bytes.subarray(node.start));
};

/** `count` distinct fixstr keys (base-36 indexes), each with a nil value, written into one buffer. */
const distinctKeyPairs = (count: number): Buffer => {
  const out = Buffer.allocUnsafe(count * 6);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const key = i.toString(36);
    out[pos++] = 0xa0 | key.length;
    pos += out.write(key, pos, "latin1");
    out[pos++] = 0xc0;
  }
  return out.subarray(0, pos);
};

const wideContainer = (bytes: Buffer, node: ScannedNode, arg: number): Buffer => {
  const count = 1 + (arg % 200_000);
  const replacement =
    (arg >>> 20) % 2 === 0
      ? concat(u8(0xdd), be(count, 4), Buffer.alloc(count, 0x80))
      : concat(containerHeader("map", count), distinctKeyPairs(count));
  return concat(bytes.subarray(0, node.start), replacement, bytes.subarray(node.end));
};

/**
 * Applies one mutation to `bytes` (never in place). `donors` are other frames that splices copy from.
 * An operator that finds nothing to act on (no map for `duplicate_key`…) returns the input unchanged.
 */
export const applyMutation = (bytes: Buffer, m: Mutation, donors: readonly Uint8Array[]): Buffer => {
  const len = bytes.length;
  const pos = len === 0 ? 0 : m.at % len;
  const nodes = (): ScannedNode[] => scanMsgpack(bytes);
  const donor = Buffer.from(pick(donors, m.arg) ?? new Uint8Array());
  switch (m.op) {
    case "bit_flip": {
      if (len === 0) return bytes;
      const out = Buffer.from(bytes);
      out[pos] = out[pos]! ^ (1 << (m.arg % 8));
      return out;
    }
    case "byte_set": {
      if (len === 0) return u8(INTERESTING_BYTES[m.arg % INTERESTING_BYTES.length]!);
      const out = Buffer.from(bytes);
      out[pos] = INTERESTING_BYTES[m.arg % INTERESTING_BYTES.length]!;
      return out;
    }
    case "truncate":
      return bytes.subarray(0, pos);
    case "splice":
      return concat(bytes.subarray(0, pos), donor.subarray(donor.length === 0 ? 0 : Math.floor(m.at / 7) % donor.length));
    case "node_splice": {
      const target = pick(nodes(), m.at);
      const source = pick(scanMsgpack(donor), m.arg >>> 4);
      if (!target || !source) return bytes;
      return concat(bytes.subarray(0, target.start), donor.subarray(source.start, source.end), bytes.subarray(target.end));
    }
    case "insert": {
      const count = 1 + (m.arg % 8);
      const inserted = Buffer.from(Array.from({ length: count }, (_, i) => (m.arg >>> (i * 3)) & 0xff));
      return concat(bytes.subarray(0, pos), inserted, bytes.subarray(pos));
    }
    case "delete":
      return concat(bytes.subarray(0, pos), bytes.subarray(pos + 1 + (m.arg % 16)));
    case "duplicate_range": {
      const end = Math.min(len, pos + 1 + (m.arg % 32));
      return concat(bytes.subarray(0, end), bytes.subarray(pos, end), bytes.subarray(end));
    }
    case "length_inflate": {
      const node = pick(nodes().filter((n) => n.kind === "str" || n.kind === "bin" || n.kind === "array" || n.kind === "map" || n.kind === "ext"), m.at);
      return node ? lengthInflate(bytes, node, m.arg) : bytes;
    }
    case "ext_type_swap": {
      const node = pick(nodes().filter((n) => n.kind === "ext"), m.at);
      return node ? extTypeSwap(bytes, node, m.arg) : bytes;
    }
    case "duplicate_key": {
      const node = pick(nodes().filter((n) => n.kind === "map" && n.pairs.length > 0), m.at);
      return node ? duplicateKey(bytes, node, m.arg) : bytes;
    }
    case "type_confuse": {
      const node = pick(nodes(), m.at);
      return node ? typeConfuse(bytes, node) : bytes;
    }
    case "deep_nest": {
      const node = pick(nodes(), m.at);
      return node ? deepNest(bytes, node, m.arg) : bytes;
    }
    case "wide_container": {
      const node = pick(nodes(), m.at);
      return node ? wideContainer(bytes, node, m.arg) : bytes;
    }
  }
};

/** Applies `mutations` in order to `seed`; the result is cut to {@link MAX_MUTATED_SIZE}. */
export const mutate = (seed: Uint8Array, mutations: readonly Mutation[], donors: readonly Uint8Array[]): Buffer => {
  let bytes: Buffer = Buffer.from(seed);
  for (const m of mutations) {
    bytes = applyMutation(bytes, m, donors);
    if (bytes.length > MAX_MUTATED_SIZE) bytes = bytes.subarray(0, MAX_MUTATED_SIZE);
  }
  return bytes;
};

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same sequence of unsigned 32-bit numbers. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** The next unsigned 32-bit number. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }
  /** A number in `[0, n)`. */
  below(n: number): number {
    return this.next() % n;
  }
}

/**
 * A random mutation program of 1 to 4 steps. Costly operators (`deep_nest`, `wide_container`: inputs of up to
 * hundreds of thousands of values) are drawn rarely (1 step in 200) so that a long run spends its time on many cheap inputs.
 */
export const randomMutations = (rng: Rng): Mutation[] => {
  const steps = 1 + (rng.below(8) === 0 ? 3 : rng.below(3));
  const cheap = MUTATION_OPS.filter((op) => op !== "deep_nest" && op !== "wide_container");
  return Array.from({ length: steps }, () => {
    const op = rng.below(200) === 0 ? (rng.below(2) === 0 ? "deep_nest" : "wide_container") : cheap[rng.below(cheap.length)]!;
    return { op, at: rng.next(), arg: rng.next() };
  });
};
