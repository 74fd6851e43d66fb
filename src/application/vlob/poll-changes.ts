import type { RealmID, VlobID } from "../../domain/ids.js";
import { checkRealmReadAccess, type InMaintenance, type NotAllowed } from "../../domain/vlob/index.js";
import type { ApplicationDeps } from "../deps.js";
import { NOT_FOUND, type NotFound, type VlobSession } from "./common.js";

/** Every status of `vlob_poll_changes` this server returns (`realm_deleted` is not: no realm archiving yet). */
export type PollVlobChangesOutcome =
  | {
      readonly kind: "ok";
      /** The latest version of each vlob written after the client's checkpoint. */
      readonly changes: ReadonlyMap<VlobID, number>;
      /** The realm's checkpoint: the number of vlob writes it has seen. */
      readonly currentCheckpoint: number;
    }
  | NotFound
  | NotAllowed
  | InMaintenance;

/**
 * `vlob_poll_changes` (authenticated, any role): what changed in a realm since `lastCheckpoint`. The realm exists
 * (`not_found`); the user has a role (`not_allowed`); no maintenance other than a re-encryption (`in_maintenance`).
 * The checkpoint counts the realm's vlob creations and updates; a checkpoint beyond it yields no change.
 * Source: Parsec v2.16.3 `vlob.py` (`api_vlob_poll_changes`) and `memory/vlob.py` (`poll_changes`).
 */
export const pollVlobChanges =
  (deps: Pick<ApplicationDeps, "realms" | "vlobs">) =>
  async (session: VlobSession, realmId: RealmID, lastCheckpoint: number): Promise<PollVlobChangesOutcome> => {
    const realm = await deps.realms.getAccess(session.organizationId, realmId, session.userId);
    if (realm === null) return NOT_FOUND;
    const access = checkRealmReadAccess(realm);
    if (access.kind !== "ok") return access;
    const { checkpoint, changes } = await deps.vlobs.pollChanges(session.organizationId, realmId, lastCheckpoint);
    return { kind: "ok", changes, currentCheckpoint: checkpoint };
  };
