import { badTimestamp, timestampsInTheBallpark } from "../../domain/certificates/index.js";
import { checkNewVersion, type BadVersion } from "../../domain/vlob/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { VlobUpdateFacts } from "../ports/index.js";
import {
  NOT_FOUND,
  checkVlobWrite,
  publishVlobsUpdated,
  vlobsUpdatedEvent,
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
 * checkpoint increments and `realm.vlobs_updated` is published with the transaction. Where the store offers
 * `updateIfUnchanged` (PostgreSQL), the same checks run on an unlocked read and the write happens only if what they
 * saw is still true, in one step; when that keeps failing, the locked path above decides.
 * Source: Parsec v2.16.3 `vlob.py` (`api_vlob_update`) and `memory/vlob.py` (`update`).
 */
export const updateVlob =
  (deps: Pick<ApplicationDeps, "uow" | "vlobs" | "events" | "clock">) =>
  async (session: VlobSession, input: UpdateVlobInput): Promise<UpdateVlobOutcome> => {
    const now = deps.clock.now();
    if (!timestampsInTheBallpark(input.timestamp, now)) return badTimestamp(input.timestamp, now);
    const { organizationId } = session;
    /** The rules, on what the store read: a refusal, or null when the write may go. */
    const check = ({ realm, head }: VlobUpdateFacts): Exclude<UpdateVlobOutcome, { kind: "ok" }> | null => {
      const allowed = checkVlobWrite(session, realm, input);
      if (allowed.kind !== "ok") return allowed;
      const next = checkNewVersion(head, input.version, input.timestamp);
      return next.kind === "ok" ? null : next;
    };
    if (deps.vlobs.updateIfUnchanged) {
      const fast = await deps.vlobs.updateIfUnchanged(organizationId, input.vlobId, session.userId, check, {
        version: input.version,
        atom: writtenVersion(session, input),
        event: (realmId, checkpoint) => vlobsUpdatedEvent(session, { realmId, checkpoint, vlobId: input.vlobId, version: input.version }),
      });
      if (fast.kind === "not_found") return NOT_FOUND;
      if (fast.kind === "refused") return fast.outcome;
      if (fast.kind === "written") return { kind: "ok" };
    }
    return deps.uow.run(organizationId, async (tx): Promise<UpdateVlobOutcome> => {
      const found = await deps.vlobs.getForUpdate(tx, organizationId, input.vlobId, session.userId);
      if (found === null) return NOT_FOUND;
      const refused = check(found);
      if (refused) return refused;
      const { realmId } = found.realm;
      const checkpoint = await deps.vlobs.append(tx, organizationId, realmId, input.vlobId, input.version, writtenVersion(session, input));
      await publishVlobsUpdated(deps.events, tx, session, { realmId, checkpoint, vlobId: input.vlobId, version: input.version });
      return { kind: "ok" };
    });
  };
