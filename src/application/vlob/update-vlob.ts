import { badTimestamp, timestampsInTheBallpark, type BadTimestamp } from "../../domain/certificates/index.js";
import type { SequesterServiceID, VlobID } from "../../domain/ids.js";
import type { DateTime } from "../../domain/time.js";
import {
  checkNewVersion,
  checkSequesterBlob,
  checkVlobWriteAccess,
  type BadEncryptionRevision,
  type BadVersion,
  type InMaintenance,
  type NotAllowed,
  type NotASequesteredOrganization,
  type RequireGreaterTimestamp,
  type SequesterInconsistency,
} from "../../domain/vlob/index.js";
import type { ApplicationDeps } from "../deps.js";
import { NOT_FOUND, publishVlobsUpdated, sequesterSetupOf, type NotFound, type VlobSession } from "./common.js";

/** Input of `vlob_update`. */
export interface UpdateVlobInput {
  readonly encryptionRevision: number;
  readonly vlobId: VlobID;
  /** The client's timestamp of the write. */
  readonly timestamp: DateTime;
  /** The version written: the current last version plus one. */
  readonly version: number;
  readonly blob: Buffer;
  /** Copies of the blob for each sequester service (API 2.8); null when the client sent none. */
  readonly sequesterBlob: ReadonlyMap<SequesterServiceID, Buffer> | null;
}

/**
 * Every status of `vlob_update` this server returns. Not returned: `realm_archived` and `realm_deleted` (no realm
 * archiving yet), `rejected_by_sequester_service` and `timeout` (no sequester services).
 */
export type UpdateVlobOutcome =
  | { readonly kind: "ok" }
  | NotFound
  | NotAllowed
  | BadVersion
  | BadEncryptionRevision
  | InMaintenance
  | RequireGreaterTimestamp
  | BadTimestamp
  | NotASequesteredOrganization
  | SequesterInconsistency;

/**
 * `vlob_update` (authenticated): writes the next version of a vlob. Order of the checks, as Parsec's: the timestamp
 * is in the ballpark (`bad_timestamp`); then in one unit of work, so that two concurrent updates of one version
 * cannot both succeed: the vlob exists (`not_found`), the author may write its realm at this revision
 * (`checkVlobWriteAccess`), the sequester blobs fit (`checkSequesterBlob`), the version is the last plus one
 * (`bad_version`) and the timestamp is not older than the last version's (`require_greater_timestamp`). The realm's
 * checkpoint increments and `realm.vlobs_updated` is published with the transaction.
 * Source: Parsec v2.16.3 `vlob.py` (`api_vlob_update`) and `memory/vlob.py` (`update`).
 */
export const updateVlob =
  (deps: Pick<ApplicationDeps, "uow" | "organizations" | "realms" | "vlobs" | "events" | "clock">) =>
  async (session: VlobSession, input: UpdateVlobInput): Promise<UpdateVlobOutcome> => {
    const now = deps.clock.now();
    if (!timestampsInTheBallpark(input.timestamp, now)) return badTimestamp(input.timestamp, now);
    const { organizationId } = session;
    return deps.uow.run(organizationId, async (tx): Promise<UpdateVlobOutcome> => {
      const vlob = await deps.vlobs.get(organizationId, input.vlobId, tx);
      if (vlob === null) return NOT_FOUND;
      const realm = await deps.realms.get(organizationId, vlob.realmId, tx);
      if (realm === null) return NOT_FOUND;
      const access = checkVlobWriteAccess(realm, session.userId, input.encryptionRevision, input.timestamp);
      if (access.kind !== "ok") return access;
      const sequester = checkSequesterBlob(sequesterSetupOf(await deps.organizations.get(organizationId, tx)), input.sequesterBlob);
      if (sequester.kind !== "ok") return sequester;
      const next = checkNewVersion(vlob.versions, input.version, input.timestamp);
      if (next.kind !== "ok") return next;
      const checkpoint = await deps.vlobs.append(tx, organizationId, input.vlobId, input.version, {
        blob: input.blob,
        author: session.deviceId,
        timestamp: input.timestamp,
      });
      publishVlobsUpdated(deps.events, tx, {
        organizationId,
        author: session.deviceId,
        realmId: vlob.realmId,
        checkpoint,
        vlobId: input.vlobId,
        version: input.version,
      });
      return { kind: "ok" };
    });
  };
