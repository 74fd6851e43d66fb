import type { RealmID } from "../../domain/ids.js";
import {
  checkVlobMaintenanceAccess,
  type BadEncryptionRevision,
  type NotAllowed,
  type NotInMaintenance,
  type ReencryptionEntry,
} from "../../domain/vlob/index.js";
import type { ApplicationDeps } from "../deps.js";
import { NOT_FOUND, type NotFound, type VlobSession } from "./common.js";

/** The realm is under re-encryption but this server has no re-encryption state for it (never expected). */
export interface MaintenanceError {
  readonly kind: "maintenance_error";
}

const MAINTENANCE_ERROR: MaintenanceError = { kind: "maintenance_error" };

/** The failures shared by both re-encryption batch commands (`realm_deleted` is not returned: no realm archiving yet). */
export type ReencryptionBatchFailure = NotFound | NotAllowed | NotInMaintenance | BadEncryptionRevision | MaintenanceError;

/** Every status of `vlob_maintenance_get_reencryption_batch` this server returns. */
export type GetReencryptionBatchOutcome = { readonly kind: "ok"; readonly batch: readonly ReencryptionEntry[] } | ReencryptionBatchFailure;

/** Every status of `vlob_maintenance_save_reencryption_batch` this server returns. */
export type SaveReencryptionBatchOutcome = { readonly kind: "ok"; readonly total: number; readonly done: number } | ReencryptionBatchFailure;

/** Input of the re-encryption batch commands: the realm and its new encryption revision. */
export interface ReencryptionTarget {
  readonly realmId: RealmID;
  readonly encryptionRevision: number;
}

/**
 * `vlob_maintenance_get_reencryption_batch` (authenticated, OWNER): up to `size` vlob versions of the realm not yet
 * re-encrypted, with their blobs at the previous revision. The realm exists (`not_found`); `checkVlobMaintenanceAccess`
 * (`not_allowed`, `not_in_maintenance`, `bad_encryption_revision`).
 * Source: Parsec v2.16.3 `vlob.py` and `memory/vlob.py` (`maintenance_get_reencryption_batch`).
 */
export const getReencryptionBatch =
  (deps: Pick<ApplicationDeps, "uow" | "realms" | "vlobs">) =>
  (session: VlobSession, target: ReencryptionTarget, size: number): Promise<GetReencryptionBatchOutcome> =>
    deps.uow.run(session.organizationId, async (tx): Promise<GetReencryptionBatchOutcome> => {
      const realm = await deps.realms.getAccess(session.organizationId, target.realmId, session.userId, tx, "update");
      if (realm === null) return NOT_FOUND;
      const access = checkVlobMaintenanceAccess(realm, target.encryptionRevision);
      if (access.kind !== "ok") return access;
      const batch = await deps.vlobs.getReencryptionBatch(session.organizationId, target.realmId, target.encryptionRevision, size, tx);
      return batch === null ? MAINTENANCE_ERROR : { kind: "ok", batch };
    });

/**
 * `vlob_maintenance_save_reencryption_batch` (authenticated, OWNER): stores re-encrypted blobs (unknown or already
 * re-encrypted entries are ignored) and returns how many vlob versions the realm has (`total`) and how many are
 * re-encrypted (`done`). Same checks as {@link getReencryptionBatch}. The new blobs replace the old ones only when
 * the maintenance finishes (`realm_finish_reencryption_maintenance`).
 * Source: Parsec v2.16.3 `vlob.py` and `memory/vlob.py` (`maintenance_save_reencryption_batch`).
 */
export const saveReencryptionBatch =
  (deps: Pick<ApplicationDeps, "uow" | "realms" | "vlobs">) =>
  (session: VlobSession, target: ReencryptionTarget, batch: readonly ReencryptionEntry[]): Promise<SaveReencryptionBatchOutcome> =>
    deps.uow.run(session.organizationId, async (tx): Promise<SaveReencryptionBatchOutcome> => {
      const realm = await deps.realms.getAccess(session.organizationId, target.realmId, session.userId, tx, "update");
      if (realm === null) return NOT_FOUND;
      const access = checkVlobMaintenanceAccess(realm, target.encryptionRevision);
      if (access.kind !== "ok") return access;
      const progress = await deps.vlobs.saveReencryptionBatch(tx, session.organizationId, target.realmId, target.encryptionRevision, batch);
      return progress === null ? MAINTENANCE_ERROR : { kind: "ok", ...progress };
    });
