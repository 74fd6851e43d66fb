import type { VlobRepository } from "../../../application/ports/index.js";

/** {@link VlobRepository} in memory. */
export class MemoryVlobRepository implements VlobRepository {}
