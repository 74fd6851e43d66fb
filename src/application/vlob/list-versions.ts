import type { DeviceID, VlobID } from "../../domain/ids.js";
import type { DateTime } from "../../domain/time.js";
import { checkRealmReadAccess, type InMaintenance, type NotAllowed } from "../../domain/vlob/index.js";
import type { ApplicationDeps } from "../deps.js";
import { NOT_FOUND, type NotFound, type VlobSession } from "./common.js";

/** Every status of `vlob_list_versions` this server returns (`realm_deleted` is not: no realm archiving yet). */
export type ListVlobVersionsOutcome =
  | {
      readonly kind: "ok";
      /** Version number → when and by whom it was written, in version order. */
      readonly versions: ReadonlyMap<number, { readonly timestamp: DateTime; readonly author: DeviceID }>;
    }
  | NotFound
  | NotAllowed
  | InMaintenance;

/**
 * `vlob_list_versions` (authenticated, any role): every version of a vlob with its timestamp and author. The vlob
 * exists (`not_found`); the user has a role in its realm (`not_allowed`); no maintenance other than a re-encryption
 * (`in_maintenance`).
 * Source: Parsec v2.16.3 `vlob.py` (`api_vlob_list_versions`) and `memory/vlob.py` (`list_versions`).
 */
export const listVlobVersions =
  (deps: Pick<ApplicationDeps, "vlobs">) =>
  async (session: VlobSession, vlobId: VlobID): Promise<ListVlobVersionsOutcome> => {
    const found = await deps.vlobs.listVersions(session.organizationId, vlobId, session.userId);
    if (found === null) return NOT_FOUND;
    const access = checkRealmReadAccess(found.realm);
    if (access.kind !== "ok") return access;
    const versions = new Map<number, { timestamp: DateTime; author: DeviceID }>();
    for (const entry of found.versions) versions.set(entry.version, { timestamp: entry.timestamp, author: entry.author });
    return { kind: "ok", versions };
  };
