import type { ApplicationDeps } from "../deps.js";

/** The block use cases (`block_create`, `block_read`). */
export const blockUseCases = (deps: ApplicationDeps) => {
  void deps;
  return {};
};
