import type { ApplicationDeps } from "../deps.js";
import { createBlock } from "./create-block.js";
import { readBlock } from "./read-block.js";

export type { CreateBlockInput, CreateBlockOutcome } from "./create-block.js";
export type { ReadBlockOutcome } from "./read-block.js";

/** The block use cases (`block_create`, `block_read`). */
export const blockUseCases = (deps: ApplicationDeps) => ({
  createBlock: createBlock(deps),
  readBlock: readBlock(deps),
});
