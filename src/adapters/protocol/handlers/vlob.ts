import type {
  CreateVlobOutcome,
  GetReencryptionBatchOutcome,
  ListVlobVersionsOutcome,
  PollVlobChangesOutcome,
  ReadVlobOutcome,
  SaveReencryptionBatchOutcome,
  UpdateVlobOutcome,
  VlobWriteOutcome,
} from "../../../application/vlob/index.js";
import type { DeviceID, SequesterServiceID } from "../../../domain/ids.js";
import type { DateTime } from "../../../domain/time.js";
import type { SequesterInconsistency } from "../../../domain/vlob/index.js";
import type {
  VlobCreateRep,
  VlobCreateReq,
  VlobListVersionsRep,
  VlobMaintenanceGetReencryptionBatchRep,
  VlobMaintenanceSaveReencryptionBatchRep,
  VlobPollChangesRep,
  VlobReadRep,
  VlobUpdateRep,
  VlobUpdateReq,
} from "../commands/vlob.js";
import { badTimestampReply, bytes, requireGreaterTimestampReply } from "./replies.js";
import type { Handler, HandlerTable } from "./types.js";

const sequesterBlob = (raw: Map<SequesterServiceID, Uint8Array> | null | undefined): Map<SequesterServiceID, Buffer> | null => {
  if (raw === null || raw === undefined) return null;
  const blobs = new Map<SequesterServiceID, Buffer>();
  for (const [id, blob] of raw) blobs.set(id, bytes(blob));
  return blobs;
};

/** The fields every vlob write request (`vlob_create`, `vlob_update`) carries, as the use cases take them. */
const vlobWrite = (req: VlobCreateReq | VlobUpdateReq) => ({
  vlobId: req.vlob_id,
  encryptionRevision: req.encryption_revision,
  timestamp: req.timestamp,
  blob: bytes(req.blob),
  sequesterBlob: sequesterBlob(req.sequester_blob),
});

const sequesterInconsistencyReply = (outcome: SequesterInconsistency) => ({
  status: "sequester_inconsistency" as const,
  sequester_authority_certificate: outcome.sequesterAuthorityCertificate,
  sequester_services_certificates: [...outcome.sequesterServicesCertificates],
});

/** The statuses of every vlob write (`vlob_create`, `vlob_update`) → reply: the errors without a reason, as Parsec sends. */
const vlobWriteReply = (outcome: VlobWriteOutcome) => {
  switch (outcome.kind) {
    case "ok":
    case "not_allowed":
    case "bad_encryption_revision":
    case "in_maintenance":
    case "not_a_sequestered_organization":
      return { status: outcome.kind } as const;
    case "require_greater_timestamp":
      return requireGreaterTimestampReply(outcome);
    case "bad_timestamp":
      return badTimestampReply(outcome);
    case "sequester_inconsistency":
      return sequesterInconsistencyReply(outcome);
  }
};

/** `vlob_create` outcome → reply: `already_exists` with `reason: null`, the other statuses as {@link vlobWriteReply}. */
const vlobCreateReply = (outcome: CreateVlobOutcome): VlobCreateRep =>
  outcome.kind === "already_exists" ? { status: outcome.kind, reason: null } : vlobWriteReply(outcome);

/** `vlob_update` outcome → reply: `not_found` with `reason: null`, `bad_version` without, the others as {@link vlobWriteReply}. */
const vlobUpdateReply = (outcome: UpdateVlobOutcome): VlobUpdateRep => {
  switch (outcome.kind) {
    case "not_found":
      return { status: outcome.kind, reason: null };
    case "bad_version":
      return { status: outcome.kind };
    default:
      return vlobWriteReply(outcome);
  }
};

/** `vlob_read` outcome → reply; `author_last_role_granted_on` is left out only when the author has no grant. */
const vlobReadReply = (outcome: ReadVlobOutcome): VlobReadRep => {
  switch (outcome.kind) {
    case "ok":
      return {
        status: "ok",
        version: outcome.version,
        blob: outcome.blob,
        author: outcome.author,
        timestamp: outcome.timestamp,
        ...(outcome.authorLastRoleGrantedOn !== null && { author_last_role_granted_on: outcome.authorLastRoleGrantedOn }),
      };
    case "not_found":
      return { status: outcome.kind, reason: null };
    case "not_allowed":
    case "bad_version":
    case "bad_encryption_revision":
    case "in_maintenance":
      return { status: outcome.kind };
  }
};

const vlobPollChangesReply = (outcome: PollVlobChangesOutcome): VlobPollChangesRep => {
  switch (outcome.kind) {
    case "ok":
      return { status: "ok", changes: new Map(outcome.changes), current_checkpoint: outcome.currentCheckpoint };
    case "not_found":
      return { status: outcome.kind, reason: null };
    case "not_allowed":
    case "in_maintenance":
      return { status: outcome.kind };
  }
};

const vlobListVersionsReply = (outcome: ListVlobVersionsOutcome): VlobListVersionsRep => {
  switch (outcome.kind) {
    case "ok": {
      const versions = new Map<number, [DateTime, DeviceID]>();
      for (const [version, { timestamp, author }] of outcome.versions) versions.set(version, [timestamp, author]);
      return { status: "ok", versions };
    }
    case "not_found":
      return { status: outcome.kind, reason: null };
    case "not_allowed":
    case "in_maintenance":
      return { status: outcome.kind };
  }
};

/** The failures of both re-encryption batch commands: `not_found`, `not_in_maintenance`, `maintenance_error` with `reason: null`. */
const reencryptionFailureReply = (outcome: Exclude<GetReencryptionBatchOutcome | SaveReencryptionBatchOutcome, { kind: "ok" }>) => {
  switch (outcome.kind) {
    case "not_found":
    case "not_in_maintenance":
    case "maintenance_error":
      return { status: outcome.kind, reason: null } as const;
    case "not_allowed":
    case "bad_encryption_revision":
      return { status: outcome.kind } as const;
  }
};

/** Authenticated `vlob_create`. */
const vlobCreate: Handler<"authenticated", "vlob_create"> = async ({ app, session }, req) =>
  vlobCreateReply(
    await app.createVlob(session, { realmId: req.realm_id, ...vlobWrite(req) }),
  );

/** Authenticated `vlob_update`. */
const vlobUpdate: Handler<"authenticated", "vlob_update"> = async ({ app, session }, req) =>
  vlobUpdateReply(
    await app.updateVlob(session, { ...vlobWrite(req), version: req.version }),
  );

/** Authenticated `vlob_read`. */
const vlobRead: Handler<"authenticated", "vlob_read"> = async ({ app, session }, req) =>
  vlobReadReply(
    await app.readVlob(session, {
      encryptionRevision: req.encryption_revision,
      vlobId: req.vlob_id,
      version: req.version,
      timestamp: req.timestamp,
    }),
  );

/** Authenticated `vlob_poll_changes`. */
const vlobPollChanges: Handler<"authenticated", "vlob_poll_changes"> = async ({ app, session }, req) =>
  vlobPollChangesReply(await app.pollVlobChanges(session, req.realm_id, req.last_checkpoint));

/** Authenticated `vlob_list_versions`. */
const vlobListVersions: Handler<"authenticated", "vlob_list_versions"> = async ({ app, session }, req) =>
  vlobListVersionsReply(await app.listVlobVersions(session, req.vlob_id));

/** Authenticated `vlob_maintenance_get_reencryption_batch` (OWNER). */
const vlobMaintenanceGetReencryptionBatch: Handler<"authenticated", "vlob_maintenance_get_reencryption_batch"> = async (
  { app, session },
  req,
): Promise<VlobMaintenanceGetReencryptionBatchRep> => {
  const outcome = await app.getReencryptionBatch(session, { realmId: req.realm_id, encryptionRevision: req.encryption_revision }, req.size);
  if (outcome.kind !== "ok") return reencryptionFailureReply(outcome);
  return { status: "ok", batch: outcome.batch.map((entry) => ({ vlob_id: entry.vlobId, version: entry.version, blob: entry.blob })) };
};

/** Authenticated `vlob_maintenance_save_reencryption_batch` (OWNER). */
const vlobMaintenanceSaveReencryptionBatch: Handler<"authenticated", "vlob_maintenance_save_reencryption_batch"> = async (
  { app, session },
  req,
): Promise<VlobMaintenanceSaveReencryptionBatchRep> => {
  const outcome = await app.saveReencryptionBatch(
    session,
    { realmId: req.realm_id, encryptionRevision: req.encryption_revision },
    req.batch.map((entry) => ({ vlobId: entry.vlob_id, version: entry.version, blob: bytes(entry.blob) })),
  );
  if (outcome.kind !== "ok") return reencryptionFailureReply(outcome);
  return { status: "ok", total: outcome.total, done: outcome.done };
};

/** The vlob commands. */
export const vlobHandlers = {
  vlob_create: vlobCreate,
  vlob_update: vlobUpdate,
  vlob_read: vlobRead,
  vlob_poll_changes: vlobPollChanges,
  vlob_list_versions: vlobListVersions,
  vlob_maintenance_get_reencryption_batch: vlobMaintenanceGetReencryptionBatch,
  vlob_maintenance_save_reencryption_batch: vlobMaintenanceSaveReencryptionBatch,
} satisfies HandlerTable<"authenticated">;
