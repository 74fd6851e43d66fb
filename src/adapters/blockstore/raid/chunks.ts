/**
 * RAID5 chunk layout, byte for byte as Parsec v2.16 stores it (so that an existing Parsec cluster's objects read
 * back): the payload is the block's length as a big-endian uint32 followed by the block, zero-padded to a multiple of
 * `dataChunks`, then cut into `dataChunks` equal chunks; the parity chunk is their XOR.
 */

/** Bytes of the length prefix. */
const LENGTH_BYTES = 4;

/** `block` cut into `dataChunks` equal chunks (see the module comment). */
export function splitIntoChunks(block: Buffer, dataChunks: number): Buffer[] {
  const payloadLength = block.length + LENGTH_BYTES;
  const chunkLength = Math.ceil(payloadLength / dataChunks);
  const payload = Buffer.alloc(chunkLength * dataChunks);
  payload.writeUInt32BE(block.length, 0);
  block.copy(payload, LENGTH_BYTES);
  return Array.from({ length: dataChunks }, (_, i) => payload.subarray(i * chunkLength, (i + 1) * chunkLength));
}

/** The XOR of `chunks`, which all have the same length. */
export function xorChunks(chunks: readonly Buffer[]): Buffer {
  const length = chunks[0]?.length ?? 0;
  const out = Buffer.alloc(length);
  for (const chunk of chunks) {
    if (chunk.length !== length) throw new RangeError(`RAID5 chunks of different lengths (${chunk.length} and ${length})`);
    for (let i = 0; i < length; i++) out[i]! ^= chunk[i]!;
  }
  return out;
}

/**
 * The block from its data chunks, at most one of them missing (`null`) and then rebuilt from `parity`.
 * @throws RangeError when more than one chunk is missing, the parity is needed but missing, the chunks differ in
 *   length, or the length prefix exceeds the payload (chunks of different blocks, or damaged).
 */
export function rebuildBlock(chunks: readonly (Buffer | null)[], parity: Buffer | null): Buffer {
  const missing = chunks.flatMap((chunk, i) => (chunk === null ? [i] : []));
  if (missing.length > 1) throw new RangeError(`${missing.length} RAID5 chunks missing, at most one can be rebuilt`);
  const present = chunks.filter((chunk): chunk is Buffer => chunk !== null);
  const whole = [...chunks];
  if (missing.length === 1) {
    if (parity === null) throw new RangeError("a RAID5 chunk is missing and so is the parity");
    whole[missing[0]!] = xorChunks([...present, parity]);
  }
  const payload = Buffer.concat(whole as Buffer[]);
  if (payload.length < LENGTH_BYTES) throw new RangeError("RAID5 payload shorter than its length prefix");
  const length = payload.readUInt32BE(0);
  if (LENGTH_BYTES + length > payload.length) throw new RangeError(`RAID5 length prefix ${length} exceeds the ${payload.length - LENGTH_BYTES} bytes of payload`);
  // A view: `payload` is this call's own buffer (Buffer.concat always allocates), nobody else holds it.
  return payload.subarray(LENGTH_BYTES, LENGTH_BYTES + length);
}
