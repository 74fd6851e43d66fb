import type { ApplicationDeps } from "../deps.js";

/** The user and device use cases (`user_create`, `device_create`, `user_revoke`, `user_get`, `human_find`). */
export const userUseCases = (deps: ApplicationDeps) => {
  void deps;
  return {};
};
