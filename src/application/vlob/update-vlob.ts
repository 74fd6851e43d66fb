import { badTimestamp, timestampsInTheBallpark } from "../../domain/certificates/index.js";
import { checkNewVersion, type BadVersion } from "../../domain/vlob/index.js";
import type { ApplicationDeps } from "../deps.js";
import {
  NOT_FOUND,
  checkVlobWrite,
  publishVlobsUpdated,
  writtenVersion,
  type NotFound,
  type VlobSession,
  type VlobWrite,
  type VlobWriteOutcome,
} from "./common.js";

/** Input of `vlob_update`. */
export interface UpdateVlobInput extends VlobWrite {
  /** The version written: the current last version plus one. */
  readonly version: number;
}

/** Every status of `vlob_update` this server returns: those of every vlob write, `not_found` and `bad_version`. */
export type UpdateVlobOutcome = VlobWriteOutcome | NotFound | BadVersion;

/**
 * `vlob_update` (authenticated): writes the next version of a vlob. Order of the checks, as Parsec's: the timestamp
 * is in the ballpark (`bad_timestamp`); then in one unit of work holding the vlob's realm (`write`), so
 * that two concurrent updates of one version cannot both succeed and no role change interleaves: the vlob exists
 * (`not_found`), the author may write its realm at this revision
 * (`checkVlobWriteAccess`), the sequester blobs fit (`checkSequesterBlob`), the version is the last plus one
 * (`bad_version`) and the timestamp is not older than the last version's (`require_greater_timestamp`). The realm's
 * checkpoint increments and `realm.vlobs_updated` is published with the transaction.
 * Source: Parsec v2.16.3 `vlob.py` (`api_vlob_update`) and `memory/vlob.py` (`update`).
 */
export const updateVlob =
  (deps: Pick<ApplicationDeps, "uow" | "vlobs" | "events" | "clock">) =>
  async (session: VlobSession, input: UpdateVlobInput): Promise<UpdateVlobOutcome> => {
    const now = deps.clock.now();
    if (!timestampsInTheBallpark(input.timestamp, now)) return badTimestamp(input.timestamp, now);
    const { organizationId } = session;
    return deps.uow.run(organizationId, async (tx): Promise<UpdateVlobOutcome> => {
      const found = await deps.vlobs.getForUpdate(tx, organizationId, input.vlobId, session.userId);
      if (found === null) return NOT_FOUND;
      const { realm, head } = found;
      const allowed = checkVlobWrite(session, realm, input);
      if (allowed.kind !== "ok") return allowed;
      const next = checkNewVersion(head, input.version, input.timestamp);
      if (next.kind !== "ok") return next;
      const checkpoint = await deps.vlobs.append(tx, organizationId, realm.realmId, input.vlobId, input.version, writtenVersion(session, input));
      await publishVlobsUpdated(deps.events, tx, session, { realmId: realm.realmId, checkpoint, vlobId: input.vlobId, version: input.version });
      return { kind: "ok" };
    });
  };
