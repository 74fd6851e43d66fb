import type { ApplicationDeps } from "../deps.js";
import { createVlob } from "./create-vlob.js";
import { listVlobVersions } from "./list-versions.js";
import { pollVlobChanges } from "./poll-changes.js";
import { readVlob } from "./read-vlob.js";
import { getReencryptionBatch, saveReencryptionBatch } from "./reencryption-batch.js";
import { updateVlob } from "./update-vlob.js";

export type { NotFound, VlobSession, VlobWriteOutcome } from "./common.js";
export type { CreateVlobInput, CreateVlobOutcome } from "./create-vlob.js";
export type { UpdateVlobInput, UpdateVlobOutcome } from "./update-vlob.js";
export type { ReadVlobInput, ReadVlobOutcome } from "./read-vlob.js";
export type { PollVlobChangesOutcome } from "./poll-changes.js";
export type { ListVlobVersionsOutcome } from "./list-versions.js";
export type {
  GetReencryptionBatchOutcome,
  MaintenanceError,
  ReencryptionBatchFailure,
  ReencryptionTarget,
  SaveReencryptionBatchOutcome,
} from "./reencryption-batch.js";

/**
 * The vlob use cases, bound to their ports: `createVlob` (`vlob_create`), `updateVlob` (`vlob_update`), `readVlob`
 * (`vlob_read`), `pollVlobChanges` (`vlob_poll_changes`), `listVlobVersions` (`vlob_list_versions`),
 * `getReencryptionBatch` and `saveReencryptionBatch` (`vlob_maintenance_get_reencryption_batch`,
 * `vlob_maintenance_save_reencryption_batch`).
 */
export const vlobUseCases = (deps: ApplicationDeps) => ({
  createVlob: createVlob(deps),
  updateVlob: updateVlob(deps),
  readVlob: readVlob(deps),
  pollVlobChanges: pollVlobChanges(deps),
  listVlobVersions: listVlobVersions(deps),
  getReencryptionBatch: getReencryptionBatch(deps),
  saveReencryptionBatch: saveReencryptionBatch(deps),
});
