import type { ApplicationDeps } from "../deps.js";

/** The realm use cases (`realm_create`, `realm_status`, `realm_stats`, `realm_get_role_certificates`, `realm_update_roles`, re-encryption maintenance start and finish). */
export const realmUseCases = (deps: ApplicationDeps) => {
  void deps;
  return {};
};
