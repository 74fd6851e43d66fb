import { badTimestamp, timestampsInTheBallpark, type BadTimestamp } from "../../domain/certificates/index.js";
import type { RealmID, UserID } from "../../domain/ids.js";
import {
  checkReencryptionFinish,
  checkReencryptionStart,
  currentRoles,
  finishMaintenance,
  reencryptionParticipants,
  startReencryption,
  type MaintenanceRefusal,
} from "../../domain/realm/index.js";
import type { DateTime } from "../../domain/time.js";
import { isRevoked } from "../../domain/user/index.js";
import type { ApplicationDeps } from "../deps.js";
import { postMessage } from "../message/index.js";
import type { AuthenticatedSession } from "../session/session.js";

/** Input of `realm_start_reencryption_maintenance`. */
export interface StartRealmReencryptionInput {
  readonly realmId: RealmID;
  /** The new revision: the realm's current one plus one. */
  readonly encryptionRevision: number;
  /** Client timestamp: the maintenance's start and the messages' timestamp. */
  readonly timestamp: DateTime;
  /** One opaque message (the new key, encrypted for the recipient) per participant, posted in this order. */
  readonly perParticipantMessage: ReadonlyMap<UserID, Buffer>;
}

/**
 * Every status of `realm_start_reencryption_maintenance` this server returns; each `reason` is for logs (Parsec sends
 * none). `maintenance_error` is declared but never returned (Parsec v2.16.3 raises it only from a finish);
 * `realm_deleted` needs archiving, not implemented.
 */
export type StartRealmReencryptionOutcome =
  | { readonly kind: "ok" }
  | BadTimestamp
  | { readonly kind: "not_found"; readonly reason: string }
  | Exclude<MaintenanceRefusal, { kind: "not_in_maintenance" }>;

/**
 * `realm_start_reencryption_maintenance` (authenticated): puts a realm in REENCRYPTION maintenance at the next
 * encryption revision. Order of the checks: the timestamp is in the ballpark (`bad_timestamp`, before anything else);
 * then, in one unit of work, the realm exists (`not_found`) and `checkReencryptionStart` (`not_allowed` unless OWNER,
 * `in_maintenance`, `bad_encryption_revision`, `participant_mismatch` against the members not revoked at the server's
 * now). On success: the realm's revision and maintenance (started by the session's device at `timestamp`) are saved,
 * `VlobRepository.startReencryption` opens the new revision, `realm.maintenance_started` is published, then one message
 * per participant is posted (`message.received` each); events are delivered after commit.
 * Source: Parsec v2.16.3 `realm.py` (`api_realm_start_reencryption_maintenance`) and `memory/realm.py`.
 */
export const startRealmReencryption =
  (deps: Pick<ApplicationDeps, "uow" | "realms" | "users" | "vlobs" | "messages" | "events" | "clock">) =>
  async (session: AuthenticatedSession, input: StartRealmReencryptionInput): Promise<StartRealmReencryptionOutcome> => {
    const now = deps.clock.now();
    if (!timestampsInTheBallpark(input.timestamp, now)) return badTimestamp(input.timestamp, now);
    const organizationId = session.organizationId;

    return deps.uow.run(organizationId, async (tx): Promise<StartRealmReencryptionOutcome> => {
      const realm = await deps.realms.get(organizationId, input.realmId, tx);
      if (!realm) return { kind: "not_found", reason: `Realm \`${input.realmId}\` doesn't exist` };
      const users = await deps.users.getSummaries(organizationId, [...currentRoles(realm).keys()], tx);
      const participants = reencryptionParticipants(realm, (userId) => {
        const user = users.get(userId);
        return user !== undefined && isRevoked(user, now);
      });
      const check = checkReencryptionStart(realm, session.userId, input.encryptionRevision, input.perParticipantMessage.keys(), participants);
      if (check.kind !== "ok") return check;

      const started = startReencryption(realm, { startedBy: session.deviceId, startedOn: input.timestamp, encryptionRevision: input.encryptionRevision });
      await deps.realms.setMaintenance(tx, organizationId, input.realmId, started);
      await deps.vlobs.startReencryption(tx, organizationId, input.realmId, input.encryptionRevision);
      await deps.events.publish(tx, {
        type: "realm.maintenance_started",
        organizationId,
        author: session.deviceId,
        realmId: input.realmId,
        encryptionRevision: input.encryptionRevision,
      });
      const post = postMessage(deps);
      for (const [recipient, body] of input.perParticipantMessage)
        await post(tx, organizationId, recipient, { sender: session.deviceId, timestamp: input.timestamp, body });
      return { kind: "ok" };
    });
  };

/** Input of `realm_finish_reencryption_maintenance`. */
export interface FinishRealmReencryptionInput {
  readonly realmId: RealmID;
  /** The revision of the maintenance in progress. */
  readonly encryptionRevision: number;
}

/**
 * Every status of `realm_finish_reencryption_maintenance` this server returns; each `reason` is for logs (Parsec sends
 * none). `realm_deleted` needs archiving, not implemented.
 */
export type FinishRealmReencryptionOutcome =
  | { readonly kind: "ok" }
  | { readonly kind: "not_found"; readonly reason: string }
  | Extract<MaintenanceRefusal, { kind: "not_allowed" | "not_in_maintenance" | "bad_encryption_revision" }>
  | { readonly kind: "maintenance_error"; readonly reason: string };

/**
 * `realm_finish_reencryption_maintenance` (authenticated): ends the re-encryption maintenance of a realm. In one unit of
 * work: the realm exists (`not_found`); `checkReencryptionFinish` (`not_allowed` unless OWNER, `not_in_maintenance`,
 * `bad_encryption_revision`); `VlobRepository.finishReencryption` has every vlob re-encrypted (`maintenance_error`
 * otherwise, nothing changes). On success the maintenance is cleared (the revision stays) and
 * `realm.maintenance_finished` is published, delivered after commit.
 * Source: Parsec v2.16.3 `realm.py` (`api_realm_finish_reencryption_maintenance`) and `memory/realm.py`.
 */
export const finishRealmReencryption =
  (deps: Pick<ApplicationDeps, "uow" | "realms" | "vlobs" | "events">) =>
  async (session: AuthenticatedSession, input: FinishRealmReencryptionInput): Promise<FinishRealmReencryptionOutcome> => {
    const organizationId = session.organizationId;
    return deps.uow.run(organizationId, async (tx): Promise<FinishRealmReencryptionOutcome> => {
      const realm = await deps.realms.get(organizationId, input.realmId, tx);
      if (!realm) return { kind: "not_found", reason: `Realm \`${input.realmId}\` doesn't exist` };
      const check = checkReencryptionFinish(realm, session.userId, input.encryptionRevision);
      if (check.kind !== "ok") return check;
      const finished = await deps.vlobs.finishReencryption(tx, organizationId, input.realmId, input.encryptionRevision);
      if (finished === "not_finished") return { kind: "maintenance_error", reason: "Reencryption operations are not over" };
      await deps.realms.setMaintenance(tx, organizationId, input.realmId, finishMaintenance(realm));
      await deps.events.publish(tx, {
        type: "realm.maintenance_finished",
        organizationId,
        author: session.deviceId,
        realmId: input.realmId,
        encryptionRevision: input.encryptionRevision,
      });
      return { kind: "ok" };
    });
  };
