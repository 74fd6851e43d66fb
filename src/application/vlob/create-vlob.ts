import { badTimestamp, timestampsInTheBallpark, type BadTimestamp } from "../../domain/certificates/index.js";
import type { RealmID, SequesterServiceID, VlobID } from "../../domain/ids.js";
import type { DateTime } from "../../domain/time.js";
import {
  checkSequesterBlob,
  checkVlobWriteAccess,
  type BadEncryptionRevision,
  type InMaintenance,
  type NotAllowed,
  type NotASequesteredOrganization,
  type RequireGreaterTimestamp,
  type SequesterInconsistency,
} from "../../domain/vlob/index.js";
import type { ApplicationDeps } from "../deps.js";
import { publishVlobsUpdated, sequesterSetupOf, type VlobSession } from "./common.js";

/** Input of `vlob_create`. */
export interface CreateVlobInput {
  readonly realmId: RealmID;
  readonly encryptionRevision: number;
  readonly vlobId: VlobID;
  /** The client's timestamp of the write. */
  readonly timestamp: DateTime;
  readonly blob: Buffer;
  /** Copies of the blob for each sequester service (API 2.8); null when the client sent none. */
  readonly sequesterBlob: ReadonlyMap<SequesterServiceID, Buffer> | null;
}

/**
 * Every status of `vlob_create` this server returns. Not returned: `realm_archived` and `realm_deleted` (no realm
 * archiving yet), `rejected_by_sequester_service` and `timeout` (no sequester services).
 */
export type CreateVlobOutcome =
  | { readonly kind: "ok" }
  | { readonly kind: "already_exists" }
  | NotAllowed
  | BadEncryptionRevision
  | InMaintenance
  | RequireGreaterTimestamp
  | BadTimestamp
  | NotASequesteredOrganization
  | SequesterInconsistency;

/**
 * `vlob_create` (authenticated): writes version 1 of a new vlob in a realm. Order of the checks, as Parsec's: the
 * timestamp is in the ballpark of the server's clock (`bad_timestamp`); then in one unit of work: the realm exists
 * (an unknown realm is `not_allowed`, as in Parsec) and the author may write it at this revision
 * (`checkVlobWriteAccess`: `not_allowed`, `require_greater_timestamp`, `in_maintenance`, `bad_encryption_revision`),
 * the sequester blobs fit the organization (`checkSequesterBlob`), the vlob id is free in the organization
 * (`already_exists`). The realm's checkpoint increments and `realm.vlobs_updated` is published with the transaction.
 * Source: Parsec v2.16.3 `vlob.py` (`api_vlob_create`) and `memory/vlob.py` (`create`).
 */
export const createVlob =
  (deps: Pick<ApplicationDeps, "uow" | "organizations" | "realms" | "vlobs" | "events" | "clock">) =>
  async (session: VlobSession, input: CreateVlobInput): Promise<CreateVlobOutcome> => {
    const now = deps.clock.now();
    if (!timestampsInTheBallpark(input.timestamp, now)) return badTimestamp(input.timestamp, now);
    const { organizationId } = session;
    return deps.uow.run(organizationId, async (tx): Promise<CreateVlobOutcome> => {
      const realm = await deps.realms.get(organizationId, input.realmId, tx);
      if (realm === null) return { kind: "not_allowed" };
      const access = checkVlobWriteAccess(realm, session.userId, input.encryptionRevision, input.timestamp);
      if (access.kind !== "ok") return access;
      const sequester = checkSequesterBlob(sequesterSetupOf(await deps.organizations.get(organizationId, tx)), input.sequesterBlob);
      if (sequester.kind !== "ok") return sequester;
      const checkpoint = await deps.vlobs.create(tx, organizationId, input.realmId, input.vlobId, input.encryptionRevision, {
        blob: input.blob,
        author: session.deviceId,
        timestamp: input.timestamp,
      });
      if (checkpoint === "already_exists") return { kind: "already_exists" };
      publishVlobsUpdated(deps.events, tx, {
        organizationId,
        author: session.deviceId,
        realmId: input.realmId,
        checkpoint,
        vlobId: input.vlobId,
        version: 1,
      });
      return { kind: "ok" };
    });
  };
