import type { ApplicationDeps } from "../deps.js";

/** The invitation use cases (`invite_new`, `invite_list`, `invite_delete`, `invite_info`, the SAS exchange steps, claimer presence). */
export const inviteUseCases = (deps: ApplicationDeps) => {
  void deps;
  return {};
};
