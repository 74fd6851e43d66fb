import type { ApplicationDeps } from "../deps.js";

/** The vlob use cases (`vlob_create`, `vlob_read`, `vlob_update`, `vlob_poll_changes`, `vlob_list_versions`, re-encryption batches). */
export const vlobUseCases = (deps: ApplicationDeps) => {
  void deps;
  return {};
};
