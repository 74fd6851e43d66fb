import type { ApplicationDeps } from "../deps.js";
import { archivingConfig } from "./archiving-config.js";
import { createRealm } from "./create-realm.js";
import { getRealmRoleCertificates, getRealmStats, getRealmStatus } from "./read-realm.js";
import { finishRealmReencryption, startRealmReencryption } from "./reencryption.js";
import { updateRealmRoles } from "./update-roles.js";

export type { CreateRealmOutcome } from "./create-realm.js";
export type { RealmArchivingStatus } from "./archiving-config.js";
export type { GetRealmRoleCertificatesOutcome, GetRealmStatsOutcome, GetRealmStatusOutcome } from "./read-realm.js";
export type {
  FinishRealmReencryptionInput,
  FinishRealmReencryptionOutcome,
  StartRealmReencryptionInput,
  StartRealmReencryptionOutcome,
} from "./reencryption.js";
export type { UpdateRealmRolesInput, UpdateRealmRolesOutcome } from "./update-roles.js";

/**
 * The realm use cases, bound to their ports: `createRealm` (`realm_create`), `getRealmStatus` (`realm_status`),
 * `getRealmStats` (`realm_stats`), `getRealmRoleCertificates` (`realm_get_role_certificates`), `updateRealmRoles`
 * (`realm_update_roles`), `startRealmReencryption` (`realm_start_reencryption_maintenance`) and
 * `finishRealmReencryption` (`realm_finish_reencryption_maintenance`) and `archivingConfig` (`archiving_config`,
 * every realm AVAILABLE). `realm_update_archiving` is not served: there is no archiving storage, so no use case
 * returns `realm_archived` or `realm_deleted`.
 */
export const realmUseCases = (deps: ApplicationDeps) => ({
  createRealm: createRealm(deps),
  archivingConfig: archivingConfig(deps),
  getRealmStatus: getRealmStatus(deps),
  getRealmStats: getRealmStats(deps),
  getRealmRoleCertificates: getRealmRoleCertificates(deps),
  updateRealmRoles: updateRealmRoles(deps),
  startRealmReencryption: startRealmReencryption(deps),
  finishRealmReencryption: finishRealmReencryption(deps),
});
