import type * as t from "io-ts";
import {
  BooleanC,
  BytesC,
  DateTimeC,
  DeviceIDC,
  FloatC,
  IndexC,
  RealmIDC,
  SizeC,
  UserIDC,
  enumeration,
  list,
  map,
  nullable,
} from "../codecs/primitives.js";
import { badTimestampRep, requireGreaterTimestampRep } from "../codecs/common.js";
import { command, reply, request, status, withReason } from "../codecs/struct.js";

/** Authenticated `realm_create`: create a realm from the author's own OWNER role certificate. */
export const realmCreate = command(
  "realm_create",
  request("realm_create", { role_certificate: BytesC }),
  reply(
    "realm_create",
    status("ok"),
    withReason("invalid_certification"),
    withReason("invalid_data"),
    withReason("not_found"),
    status("already_exists"),
    badTimestampRep(),
  ),
);
/** The decoded `realm_create` request: wire field names, domain value types. */
export type RealmCreateReq = t.TypeOf<typeof realmCreate.req>;
/** A `realm_create` reply, one of its declared variants discriminated by `status`. */
export type RealmCreateRep = t.TypeOf<typeof realmCreate.rep>;

/** Schema `MaintenanceType` of `realm_status`. */
export const MaintenanceTypeC = enumeration("MaintenanceType", ["GARBAGE_COLLECTION", "REENCRYPTION"] as const);
/** The decoded value of {@link MaintenanceTypeC}. */
export type MaintenanceType = t.TypeOf<typeof MaintenanceTypeC>;

/** Authenticated `realm_status`: maintenance state and current encryption revision of a realm. */
export const realmStatus = command(
  "realm_status",
  request("realm_status", { realm_id: RealmIDC }),
  reply(
    "realm_status",
    status("ok", {
      in_maintenance: BooleanC,
      maintenance_type: nullable(MaintenanceTypeC),
      maintenance_started_on: nullable(DateTimeC),
      maintenance_started_by: nullable(DeviceIDC),
      encryption_revision: IndexC,
    }),
    status("not_allowed"),
    withReason("not_found"),
    status("realm_deleted"),
  ),
);
/** The decoded `realm_status` request: wire field names, domain value types. */
export type RealmStatusReq = t.TypeOf<typeof realmStatus.req>;
/** A `realm_status` reply, one of its declared variants discriminated by `status`. */
export type RealmStatusRep = t.TypeOf<typeof realmStatus.rep>;

/** Authenticated `realm_stats`: total sizes in bytes of a realm's blocks and vlobs. */
export const realmStats = command(
  "realm_stats",
  request("realm_stats", { realm_id: RealmIDC }),
  reply(
    "realm_stats",
    status("ok", { blocks_size: SizeC, vlobs_size: SizeC }),
    status("not_allowed"),
    withReason("not_found"),
    status("realm_deleted"),
  ),
);
/** The decoded `realm_stats` request: wire field names, domain value types. */
export type RealmStatsReq = t.TypeOf<typeof realmStats.req>;
/** A `realm_stats` reply, one of its declared variants discriminated by `status`. */
export type RealmStatsRep = t.TypeOf<typeof realmStats.rep>;

/** Authenticated `realm_get_role_certificates`: every role certificate of a realm, as stored. */
export const realmGetRoleCertificates = command(
  "realm_get_role_certificates",
  request("realm_get_role_certificates", { realm_id: RealmIDC }),
  reply(
    "realm_get_role_certificates",
    status("ok", { certificates: list(BytesC) }),
    status("not_allowed"),
    withReason("not_found"),
  ),
);
/** The decoded `realm_get_role_certificates` request: wire field names, domain value types. */
export type RealmGetRoleCertificatesReq = t.TypeOf<typeof realmGetRoleCertificates.req>;
/** A `realm_get_role_certificates` reply, one of its declared variants discriminated by `status`. */
export type RealmGetRoleCertificatesRep = t.TypeOf<typeof realmGetRoleCertificates.rep>;

/** Authenticated `realm_update_roles`: grant, change or revoke a role, with an optional message to the recipient. */
export const realmUpdateRoles = command(
  "realm_update_roles",
  request("realm_update_roles", { role_certificate: BytesC, recipient_message: nullable(BytesC) }),
  reply(
    "realm_update_roles",
    status("ok"),
    withReason("not_allowed"),
    withReason("invalid_certification"),
    withReason("invalid_data"),
    status("already_granted"),
    withReason("incompatible_profile"),
    withReason("not_found"),
    status("in_maintenance"),
    status("user_revoked"),
    requireGreaterTimestampRep(),
    badTimestampRep(),
    status("realm_deleted"),
  ),
);
/** The decoded `realm_update_roles` request: wire field names, domain value types. */
export type RealmUpdateRolesReq = t.TypeOf<typeof realmUpdateRoles.req>;
/** A `realm_update_roles` reply, one of its declared variants discriminated by `status`. */
export type RealmUpdateRolesRep = t.TypeOf<typeof realmUpdateRoles.rep>;

/**
 * Authenticated `realm_start_reencryption_maintenance`: move a realm to `encryption_revision`, with one
 * message per member user carrying the new key.
 */
export const realmStartReencryptionMaintenance = command(
  "realm_start_reencryption_maintenance",
  request("realm_start_reencryption_maintenance", {
    realm_id: RealmIDC,
    encryption_revision: IndexC,
    timestamp: DateTimeC,
    per_participant_message: map(UserIDC, BytesC),
  }),
  reply(
    "realm_start_reencryption_maintenance",
    status("ok"),
    status("not_allowed"),
    withReason("not_found"),
    status("bad_encryption_revision"),
    withReason("participant_mismatch"),
    withReason("maintenance_error"),
    status("in_maintenance"),
    badTimestampRep(),
    status("realm_deleted"),
  ),
);
/** The decoded `realm_start_reencryption_maintenance` request: wire field names, domain value types. */
export type RealmStartReencryptionMaintenanceReq = t.TypeOf<typeof realmStartReencryptionMaintenance.req>;
/** A `realm_start_reencryption_maintenance` reply, one of its declared variants discriminated by `status`. */
export type RealmStartReencryptionMaintenanceRep = t.TypeOf<typeof realmStartReencryptionMaintenance.rep>;

/** Authenticated `realm_finish_reencryption_maintenance`: end the maintenance once every vlob is re-encrypted. */
export const realmFinishReencryptionMaintenance = command(
  "realm_finish_reencryption_maintenance",
  request("realm_finish_reencryption_maintenance", { realm_id: RealmIDC, encryption_revision: IndexC }),
  reply(
    "realm_finish_reencryption_maintenance",
    status("ok"),
    status("not_allowed"),
    withReason("not_found"),
    status("bad_encryption_revision"),
    withReason("not_in_maintenance"),
    withReason("maintenance_error"),
    status("realm_deleted"),
  ),
);
/** The decoded `realm_finish_reencryption_maintenance` request: wire field names, domain value types. */
export type RealmFinishReencryptionMaintenanceReq = t.TypeOf<typeof realmFinishReencryptionMaintenance.req>;
/** A `realm_finish_reencryption_maintenance` reply, one of its declared variants discriminated by `status`. */
export type RealmFinishReencryptionMaintenanceRep = t.TypeOf<typeof realmFinishReencryptionMaintenance.rep>;

/**
 * Authenticated `realm_update_archiving` (API 2.10): apply a signed realm archiving certificate.
 * Here `bad_timestamp` always carries the ballpark fields and no reason.
 */
export const realmUpdateArchiving = command(
  "realm_update_archiving",
  request("realm_update_archiving", { archiving_certificate: BytesC }),
  reply(
    "realm_update_archiving",
    status("ok"),
    status("not_allowed"),
    status("invalid_certification"),
    status("not_found"),
    requireGreaterTimestampRep(),
    status("bad_timestamp", {
      ballpark_client_early_offset: FloatC,
      ballpark_client_late_offset: FloatC,
      backend_timestamp: DateTimeC,
      client_timestamp: DateTimeC,
    }),
    status("realm_deleted"),
    status("archiving_period_too_short"),
  ),
);
/** The decoded `realm_update_archiving` request: wire field names, domain value types. */
export type RealmUpdateArchivingReq = t.TypeOf<typeof realmUpdateArchiving.req>;
/** A `realm_update_archiving` reply, one of its declared variants discriminated by `status`. */
export type RealmUpdateArchivingRep = t.TypeOf<typeof realmUpdateArchiving.rep>;
