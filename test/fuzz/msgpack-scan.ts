/**
 * A tolerant msgpack scanner for the fuzzers: where each value sits in a byte string, where its length or count field
 * is, where an ext's type byte is, and which byte ranges are the key/value pairs of each map. It never decodes a
 * value and never throws: on malformed input it returns the nodes read before the first error.
 */

/** What a scanned value is. */
export type NodeKind = "nil" | "bool" | "int" | "float" | "str" | "bin" | "array" | "map" | "ext" | "invalid";

/** One msgpack value found by {@link scanMsgpack}. */
export interface ScannedNode {
  readonly kind: NodeKind;
  /** Offset of the first header byte. */
  readonly start: number;
  /** Offset just past the value (its children included); for a truncated value, the input's length. */
  readonly end: number;
  /** Offset of the length/count field, or of the header byte itself for fix forms (fixstr, fixarray, fixmap). */
  readonly lengthOffset: number;
  /** Size of the length/count field in bytes: 0 for fix forms (the count is in the header byte's low bits), else 1, 2 or 4. */
  readonly lengthSize: 0 | 1 | 2 | 4;
  /** Byte length (str, bin, ext payload) or element count (array, map: pairs); 0 for scalars. */
  readonly length: number;
  /** Offset of an ext's signed type byte, else -1. */
  readonly extTypeOffset: number;
  /** For a map: `[keyStart, valueEnd]` of each complete pair, in order. */
  readonly pairs: readonly (readonly [number, number])[];
}

const MAX_NODES = 200_000;

/**
 * Scans `bytes` as a sequence of msgpack values (iteratively: deep nesting costs no stack) and lists every value
 * found, containers before their children. Stops at the first byte that is not a valid header, or after 200 000 nodes.
 */
export const scanMsgpack = (bytes: Uint8Array): ScannedNode[] => {
  const nodes: ScannedNode[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  /** Open containers: the node index, how many children are still expected, and (maps) the start of the current key. */
  const stack: { index: number; remaining: number; pairStart: number; isMap: boolean; childCount: number }[] = [];
  const mutablePairs = new Map<number, [number, number][]>();
  let pos = 0;
  const readLength = (size: 1 | 2 | 4, at: number): number =>
    at + size > bytes.length ? -1 : size === 1 ? bytes[at]! : size === 2 ? view.getUint16(at) : view.getUint32(at);

  const closeFinished = (valueEnd: number): void => {
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      top.childCount++;
      if (top.isMap && top.childCount % 2 === 0) mutablePairs.get(top.index)!.push([top.pairStart, valueEnd]);
      top.remaining--;
      if (top.remaining > 0) return;
      stack.pop();
      const node = nodes[top.index]!;
      nodes[top.index] = { ...node, end: valueEnd, pairs: mutablePairs.get(top.index) ?? [] };
    }
  };

  while (pos < bytes.length && nodes.length < MAX_NODES) {
    const top = stack[stack.length - 1];
    if (top?.isMap && top.childCount % 2 === 0) top.pairStart = pos;
    const start = pos;
    const b = bytes[pos]!;
    let kind: NodeKind;
    let lengthOffset = start;
    let lengthSize: 0 | 1 | 2 | 4 = 0;
    let length = 0;
    let extTypeOffset = -1;
    let payload = 0;
    let children = 0;
    if (b <= 0x7f || b >= 0xe0) kind = "int";
    else if (b <= 0x8f) (kind = "map"), (length = b & 0x0f), (children = length * 2);
    else if (b <= 0x9f) (kind = "array"), (length = b & 0x0f), (children = length);
    else if (b <= 0xbf) (kind = "str"), (length = b & 0x1f), (payload = length);
    else if (b === 0xc0) kind = "nil";
    else if (b === 0xc2 || b === 0xc3) kind = "bool";
    else if (b >= 0xc4 && b <= 0xc6) {
      kind = "bin";
      lengthSize = b === 0xc4 ? 1 : b === 0xc5 ? 2 : 4;
    } else if (b >= 0xc7 && b <= 0xc9) {
      kind = "ext";
      lengthSize = b === 0xc7 ? 1 : b === 0xc8 ? 2 : 4;
    } else if (b === 0xca) (kind = "float"), (payload = 4);
    else if (b === 0xcb) (kind = "float"), (payload = 8);
    else if (b >= 0xcc && b <= 0xd3) (kind = "int"), (payload = 1 << (b & 0x03));
    else if (b >= 0xd4 && b <= 0xd8) (kind = "ext"), (extTypeOffset = start + 1), (length = 1 << (b - 0xd4)), (payload = 1 + length);
    else if (b >= 0xd9 && b <= 0xdb) {
      kind = "str";
      lengthSize = b === 0xd9 ? 1 : b === 0xda ? 2 : 4;
    } else if (b === 0xdc || b === 0xdd) {
      kind = "array";
      lengthSize = b === 0xdc ? 2 : 4;
    } else if (b === 0xde || b === 0xdf) {
      kind = "map";
      lengthSize = b === 0xde ? 2 : 4;
    } else kind = "invalid";
    if (kind === "invalid") {
      nodes.push({ kind, start, end: start + 1, lengthOffset, lengthSize, length, extTypeOffset, pairs: [] });
      break;
    }
    pos = start + 1;
    if (lengthSize > 0) {
      lengthOffset = pos;
      length = readLength(lengthSize as 1 | 2 | 4, pos);
      if (length < 0) {
        nodes.push({ kind, start, end: bytes.length, lengthOffset, lengthSize, length: 0, extTypeOffset, pairs: [] });
        break;
      }
      pos += lengthSize;
      if (kind === "str" || kind === "bin") payload = length;
      else if (kind === "ext") (extTypeOffset = pos), (payload = 1 + length);
      else if (kind === "array") children = length;
      else children = length * 2;
    }
    const index = nodes.length;
    if (pos + payload > bytes.length) {
      nodes.push({ kind, start, end: bytes.length, lengthOffset, lengthSize, length, extTypeOffset, pairs: [] });
      break;
    }
    pos += payload;
    nodes.push({ kind, start, end: pos, lengthOffset, lengthSize, length, extTypeOffset, pairs: [] });
    if (children > 0) {
      stack.push({ index, remaining: children, pairStart: pos, isMap: kind === "map", childCount: 0 });
      if (kind === "map") mutablePairs.set(index, []);
    } else closeFinished(pos);
  }
  // Containers left open (truncated input) end at the input's end, with the pairs read so far.
  for (const open of stack) nodes[open.index] = { ...nodes[open.index]!, end: bytes.length, pairs: mutablePairs.get(open.index) ?? [] };
  return nodes;
};
