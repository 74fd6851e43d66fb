/**
 * Technical helpers shared by adapter families, free of I/O and of any adapter: the only thing driven-adapter
 * families may import from each other's surroundings (see `.dependency-cruiser.cjs`).
 */
export { Batcher } from "./batch.js";
