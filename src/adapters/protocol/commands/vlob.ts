import * as t from "io-ts";
import {
  BytesC,
  DateTimeC,
  DeviceIDC,
  IndexC,
  RealmIDC,
  SequesterServiceIDC,
  SizeC,
  StringC,
  VersionC,
  VlobIDC,
  list,
  map,
  nullable,
} from "../codecs/primitives.js";
import { badTimestampRep, requireGreaterTimestampRep } from "../codecs/common.js";
import { command, reply, request, status, struct, withReason } from "../codecs/struct.js";

/** `sequester_inconsistency`: the client's view of the sequester services is outdated; here are the current certificates. */
const sequesterInconsistencyRep = () =>
  status("sequester_inconsistency", { sequester_authority_certificate: BytesC, sequester_services_certificates: list(BytesC) });

/** `rejected_by_sequester_service`: a sequester service's webhook refused the blob. */
const rejectedBySequesterServiceRep = () =>
  status("rejected_by_sequester_service", { service_id: SequesterServiceIDC, service_label: StringC, reason: StringC });

/** Blob copies encrypted for each sequester service (API 2.8), nil outside sequestered organizations. */
const sequesterBlobC = nullable(map(SequesterServiceIDC, BytesC));

/** Authenticated `vlob_create`: version 1 of `vlob_id` in `realm_id`, written at `timestamp`. */
export const vlobCreate = command(
  "vlob_create",
  request(
    "vlob_create",
    { realm_id: RealmIDC, encryption_revision: IndexC, vlob_id: VlobIDC, timestamp: DateTimeC, blob: BytesC },
    { sequester_blob: sequesterBlobC },
  ),
  reply(
    "vlob_create",
    status("ok"),
    withReason("already_exists"),
    status("not_allowed"),
    status("bad_encryption_revision"),
    status("in_maintenance"),
    requireGreaterTimestampRep(),
    badTimestampRep(),
    status("not_a_sequestered_organization"),
    sequesterInconsistencyRep(),
    rejectedBySequesterServiceRep(),
    status("timeout"),
    status("realm_archived"),
    status("realm_deleted"),
  ),
);
/** The decoded `vlob_create` request: wire field names, domain value types. */
export type VlobCreateReq = t.TypeOf<typeof vlobCreate.req>;
/** A `vlob_create` reply, one of its declared variants discriminated by `status`. */
export type VlobCreateRep = t.TypeOf<typeof vlobCreate.rep>;

/**
 * Authenticated `vlob_read`: a vlob at `version`, or the last version at or before `timestamp`, or the
 * latest (both nil). `author_last_role_granted_on` was introduced in API 2.3.
 */
export const vlobRead = command(
  "vlob_read",
  request("vlob_read", {
    encryption_revision: IndexC,
    vlob_id: VlobIDC,
    version: nullable(VersionC),
    timestamp: nullable(DateTimeC),
  }),
  reply(
    "vlob_read",
    status("ok", { version: VersionC, blob: BytesC, author: DeviceIDC, timestamp: DateTimeC }, { author_last_role_granted_on: DateTimeC }),
    withReason("not_found"),
    status("not_allowed"),
    status("bad_version"),
    status("bad_encryption_revision"),
    status("in_maintenance"),
    status("realm_deleted"),
  ),
);
/** The decoded `vlob_read` request: wire field names, domain value types. */
export type VlobReadReq = t.TypeOf<typeof vlobRead.req>;
/** A `vlob_read` reply, one of its declared variants discriminated by `status`. */
export type VlobReadRep = t.TypeOf<typeof vlobRead.rep>;

/** Authenticated `vlob_update`: write `version` (previous + 1) of `vlob_id` at `timestamp`. */
export const vlobUpdate = command(
  "vlob_update",
  request(
    "vlob_update",
    { encryption_revision: IndexC, vlob_id: VlobIDC, timestamp: DateTimeC, version: VersionC, blob: BytesC },
    { sequester_blob: sequesterBlobC },
  ),
  reply(
    "vlob_update",
    status("ok"),
    withReason("not_found"),
    status("not_allowed"),
    status("bad_version"),
    status("bad_encryption_revision"),
    status("in_maintenance"),
    requireGreaterTimestampRep(),
    badTimestampRep(),
    status("not_a_sequestered_organization"),
    sequesterInconsistencyRep(),
    rejectedBySequesterServiceRep(),
    status("timeout"),
    status("realm_archived"),
    status("realm_deleted"),
  ),
);
/** The decoded `vlob_update` request: wire field names, domain value types. */
export type VlobUpdateReq = t.TypeOf<typeof vlobUpdate.req>;
/** A `vlob_update` reply, one of its declared variants discriminated by `status`. */
export type VlobUpdateRep = t.TypeOf<typeof vlobUpdate.rep>;

/** Authenticated `vlob_poll_changes`: vlobs changed since `last_checkpoint`, each with its latest version. */
export const vlobPollChanges = command(
  "vlob_poll_changes",
  request("vlob_poll_changes", { realm_id: RealmIDC, last_checkpoint: IndexC }),
  reply(
    "vlob_poll_changes",
    status("ok", { changes: map(VlobIDC, IndexC), current_checkpoint: IndexC }),
    status("not_allowed"),
    withReason("not_found"),
    status("in_maintenance"),
    status("realm_deleted"),
  ),
);
/** The decoded `vlob_poll_changes` request: wire field names, domain value types. */
export type VlobPollChangesReq = t.TypeOf<typeof vlobPollChanges.req>;
/** A `vlob_poll_changes` reply, one of its declared variants discriminated by `status`. */
export type VlobPollChangesRep = t.TypeOf<typeof vlobPollChanges.rep>;

/** Authenticated `vlob_list_versions`: every version of a vlob with its timestamp and author. */
export const vlobListVersions = command(
  "vlob_list_versions",
  request("vlob_list_versions", { vlob_id: VlobIDC }),
  reply(
    "vlob_list_versions",
    status("ok", { versions: map(IndexC, t.tuple([DateTimeC, DeviceIDC])) }),
    status("not_allowed"),
    withReason("not_found"),
    status("in_maintenance"),
    status("realm_deleted"),
  ),
);
/** The decoded `vlob_list_versions` request: wire field names, domain value types. */
export type VlobListVersionsReq = t.TypeOf<typeof vlobListVersions.req>;
/** A `vlob_list_versions` reply, one of its declared variants discriminated by `status`. */
export type VlobListVersionsRep = t.TypeOf<typeof vlobListVersions.rep>;

/** Schema `ReencryptionBatchEntry`: one vlob version's blob during a re-encryption maintenance. */
export const ReencryptionBatchEntryC = struct("ReencryptionBatchEntry", { vlob_id: VlobIDC, version: VersionC, blob: BytesC });
/** The decoded value of {@link ReencryptionBatchEntryC}. */
export type ReencryptionBatchEntry = t.TypeOf<typeof ReencryptionBatchEntryC>;

/** Authenticated `vlob_maintenance_get_reencryption_batch`: up to `size` vlob versions still to re-encrypt. */
export const vlobMaintenanceGetReencryptionBatch = command(
  "vlob_maintenance_get_reencryption_batch",
  request("vlob_maintenance_get_reencryption_batch", { realm_id: RealmIDC, encryption_revision: IndexC, size: SizeC }),
  reply(
    "vlob_maintenance_get_reencryption_batch",
    status("ok", { batch: list(ReencryptionBatchEntryC) }),
    status("not_allowed"),
    withReason("not_found"),
    withReason("not_in_maintenance"),
    status("bad_encryption_revision"),
    withReason("maintenance_error"),
    status("realm_deleted"),
  ),
);
/** The decoded `vlob_maintenance_get_reencryption_batch` request: wire field names, domain value types. */
export type VlobMaintenanceGetReencryptionBatchReq = t.TypeOf<typeof vlobMaintenanceGetReencryptionBatch.req>;
/** A `vlob_maintenance_get_reencryption_batch` reply, one of its declared variants discriminated by `status`. */
export type VlobMaintenanceGetReencryptionBatchRep = t.TypeOf<typeof vlobMaintenanceGetReencryptionBatch.rep>;

/** Authenticated `vlob_maintenance_save_reencryption_batch`: store re-encrypted blobs; replies with progress counts. */
export const vlobMaintenanceSaveReencryptionBatch = command(
  "vlob_maintenance_save_reencryption_batch",
  request("vlob_maintenance_save_reencryption_batch", {
    realm_id: RealmIDC,
    encryption_revision: IndexC,
    batch: list(ReencryptionBatchEntryC),
  }),
  reply(
    "vlob_maintenance_save_reencryption_batch",
    status("ok", { total: SizeC, done: SizeC }),
    status("not_allowed"),
    withReason("not_found"),
    withReason("not_in_maintenance"),
    status("bad_encryption_revision"),
    withReason("maintenance_error"),
    status("realm_deleted"),
  ),
);
/** The decoded `vlob_maintenance_save_reencryption_batch` request: wire field names, domain value types. */
export type VlobMaintenanceSaveReencryptionBatchReq = t.TypeOf<typeof vlobMaintenanceSaveReencryptionBatch.req>;
/** A `vlob_maintenance_save_reencryption_batch` reply, one of its declared variants discriminated by `status`. */
export type VlobMaintenanceSaveReencryptionBatchRep = t.TypeOf<typeof vlobMaintenanceSaveReencryptionBatch.rep>;
