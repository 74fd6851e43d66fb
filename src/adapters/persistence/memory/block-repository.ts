import type { BlockRepository } from "../../../application/ports/index.js";

/** {@link BlockRepository} in memory (block metadata; payloads are in the block store). */
export class MemoryBlockRepository implements BlockRepository {}
