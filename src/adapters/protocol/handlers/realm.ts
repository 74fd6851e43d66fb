import type {
  CreateRealmOutcome,
  FinishRealmReencryptionOutcome,
  GetRealmRoleCertificatesOutcome,
  GetRealmStatsOutcome,
  GetRealmStatusOutcome,
  StartRealmReencryptionOutcome,
  UpdateRealmRolesOutcome,
} from "../../../application/realm/index.js";
import type { UserID } from "../../../domain/ids.js";
import type {
  RealmCreateRep,
  RealmFinishReencryptionMaintenanceRep,
  RealmGetRoleCertificatesRep,
  RealmStartReencryptionMaintenanceRep,
  RealmStatsRep,
  RealmStatusRep,
  RealmUpdateRolesRep,
} from "../commands/realm.js";
import { badTimestampReply, bytes, requireGreaterTimestampReply } from "./replies.js";
import type { HandlerTable } from "./types.js";

/** `realm_create` outcome → reply: `already_exists` has no reason field; the other errors carry `reason: null`. */
const realmCreateReply = (outcome: CreateRealmOutcome): RealmCreateRep => {
  switch (outcome.kind) {
    case "ok":
    case "already_exists":
      return { status: outcome.kind };
    case "invalid_certification":
    case "invalid_data":
      return { status: outcome.kind, reason: null };
    case "bad_timestamp":
      return badTimestampReply(outcome);
  }
};

/** `realm_status` outcome → reply: `not_found` with `reason: null`, `not_allowed` without reason. */
const realmStatusReply = (outcome: GetRealmStatusOutcome): RealmStatusRep => {
  switch (outcome.kind) {
    case "ok":
      return {
        status: "ok",
        in_maintenance: outcome.inMaintenance,
        maintenance_type: outcome.maintenanceType,
        maintenance_started_on: outcome.maintenanceStartedOn,
        maintenance_started_by: outcome.maintenanceStartedBy,
        encryption_revision: outcome.encryptionRevision,
      };
    case "not_allowed":
      return { status: "not_allowed" };
    case "not_found":
      return { status: "not_found", reason: null };
  }
};

/** `realm_stats` outcome → reply: sizes in bytes; `not_found` with `reason: null`, `not_allowed` without reason. */
const realmStatsReply = (outcome: GetRealmStatsOutcome): RealmStatsRep => {
  switch (outcome.kind) {
    case "ok":
      return { status: "ok", blocks_size: outcome.blocksSize, vlobs_size: outcome.vlobsSize };
    case "not_allowed":
      return { status: "not_allowed" };
    case "not_found":
      return { status: "not_found", reason: null };
  }
};

/** `realm_get_role_certificates` outcome → reply: `not_found` with `reason: null`, `not_allowed` without reason. */
const realmGetRoleCertificatesReply = (outcome: GetRealmRoleCertificatesOutcome): RealmGetRoleCertificatesRep => {
  switch (outcome.kind) {
    case "ok":
      return { status: "ok", certificates: [...outcome.certificates] };
    case "not_allowed":
      return { status: "not_allowed" };
    case "not_found":
      return { status: "not_found", reason: null };
  }
};

/**
 * `realm_update_roles` outcome → reply: `already_granted`, `in_maintenance` and `user_revoked` have no reason field;
 * `require_greater_timestamp` carries `strictly_greater_than`; the other errors carry `reason: null`.
 */
const realmUpdateRolesReply = (outcome: UpdateRealmRolesOutcome): RealmUpdateRolesRep => {
  switch (outcome.kind) {
    case "ok":
    case "already_granted":
    case "in_maintenance":
    case "user_revoked":
      return { status: outcome.kind };
    case "not_allowed":
    case "invalid_certification":
    case "invalid_data":
    case "incompatible_profile":
    case "not_found":
      return { status: outcome.kind, reason: null };
    case "require_greater_timestamp":
      return requireGreaterTimestampReply(outcome);
    case "bad_timestamp":
      return badTimestampReply(outcome);
  }
};

/**
 * `realm_start_reencryption_maintenance` outcome → reply: `not_found` and `participant_mismatch` with `reason: null`;
 * `not_allowed`, `in_maintenance` and `bad_encryption_revision` without reason.
 */
const realmStartReencryptionReply = (outcome: StartRealmReencryptionOutcome): RealmStartReencryptionMaintenanceRep => {
  switch (outcome.kind) {
    case "ok":
    case "not_allowed":
    case "in_maintenance":
    case "bad_encryption_revision":
      return { status: outcome.kind };
    case "not_found":
    case "participant_mismatch":
      return { status: outcome.kind, reason: null };
    case "bad_timestamp":
      return badTimestampReply(outcome);
  }
};

/**
 * `realm_finish_reencryption_maintenance` outcome → reply: `not_found`, `not_in_maintenance` and `maintenance_error`
 * with `reason: null`; `not_allowed` and `bad_encryption_revision` without reason.
 */
const realmFinishReencryptionReply = (outcome: FinishRealmReencryptionOutcome): RealmFinishReencryptionMaintenanceRep => {
  switch (outcome.kind) {
    case "ok":
    case "not_allowed":
    case "bad_encryption_revision":
      return { status: outcome.kind };
    case "not_found":
    case "not_in_maintenance":
    case "maintenance_error":
      return { status: outcome.kind, reason: null };
  }
};

/**
 * The realm commands: `realm_create`, `realm_status`, `realm_stats`, `realm_get_role_certificates`, `realm_update_roles`,
 * `realm_start_reencryption_maintenance`, `realm_finish_reencryption_maintenance`. `realm_update_archiving` has no
 * handler (no archiving storage), so it answers `unknown_command`.
 */
export const realmHandlers = {
  archiving_config: async ({ app, session }) => {
    const outcome = await app.archivingConfig(session);
    if (outcome.kind === "not_found") return { status: "not_found" };
    return {
      status: "ok",
      archiving_config: outcome.statuses.map((s) => ({ realm_id: s.realmId, configuration: s.configuration, configured_on: null, configured_by: null })),
    };
  },
  realm_create: async ({ app, session }, req) => realmCreateReply(await app.createRealm(session, bytes(req.role_certificate))),
  realm_status: async ({ app, session }, req) => realmStatusReply(await app.getRealmStatus(session, req.realm_id)),
  realm_stats: async ({ app, session }, req) => realmStatsReply(await app.getRealmStats(session, req.realm_id)),
  realm_get_role_certificates: async ({ app, session }, req) =>
    realmGetRoleCertificatesReply(await app.getRealmRoleCertificates(session, req.realm_id)),
  realm_update_roles: async ({ app, session }, req) =>
    realmUpdateRolesReply(
      await app.updateRealmRoles(session, {
        roleCertificate: bytes(req.role_certificate),
        recipientMessage: req.recipient_message === null ? null : bytes(req.recipient_message),
      }),
    ),
  realm_start_reencryption_maintenance: async ({ app, session }, req) =>
    realmStartReencryptionReply(
      await app.startRealmReencryption(session, {
        realmId: req.realm_id,
        encryptionRevision: req.encryption_revision,
        timestamp: req.timestamp,
        perParticipantMessage: new Map([...req.per_participant_message].map(([userId, body]): [UserID, Buffer] => [userId, bytes(body)])),
      }),
    ),
  realm_finish_reencryption_maintenance: async ({ app, session }, req) =>
    realmFinishReencryptionReply(
      await app.finishRealmReencryption(session, { realmId: req.realm_id, encryptionRevision: req.encryption_revision }),
    ),
} satisfies HandlerTable<"authenticated">;
