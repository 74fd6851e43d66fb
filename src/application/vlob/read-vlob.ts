import { DeviceID, type VlobID } from "../../domain/ids.js";
import { lastGrantOf } from "../../domain/realm/index.js";
import type { DateTime } from "../../domain/time.js";
import {
  checkVlobReadAccess,
  selectVersion,
  type BadEncryptionRevision,
  type BadVersion,
  type InMaintenance,
  type NotAllowed,
} from "../../domain/vlob/index.js";
import type { ApplicationDeps } from "../deps.js";
import { NOT_FOUND, type NotFound, type VlobSession } from "./common.js";

/** Input of `vlob_read`: `version` wins over `timestamp`; with neither, the latest version is read. */
export interface ReadVlobInput {
  readonly encryptionRevision: number;
  readonly vlobId: VlobID;
  readonly version: number | null;
  readonly timestamp: DateTime | null;
}

/** Every status of `vlob_read` this server returns (`realm_deleted` is not: no realm archiving yet). */
export type ReadVlobOutcome =
  | {
      readonly kind: "ok";
      readonly version: number;
      readonly blob: Buffer;
      readonly author: DeviceID;
      readonly timestamp: DateTime;
      /** When the author's role in the realm last changed; null only if the realm has no grant for the author. */
      readonly authorLastRoleGrantedOn: DateTime | null;
    }
  | NotFound
  | NotAllowed
  | BadVersion
  | BadEncryptionRevision
  | InMaintenance;

/**
 * `vlob_read` (authenticated, any role): one version of a vlob. Order of the checks, as Parsec's: the vlob exists
 * (`not_found`); the reader may read its realm at this revision (`checkVlobReadAccess`: `not_allowed`, and during a
 * re-encryption only the previous revision is readable: `in_maintenance` at the new one, `bad_encryption_revision`
 * at others); the version exists (`selectVersion`: `bad_version`). A hot read: no unit of work.
 * Source: Parsec v2.16.3 `vlob.py` (`api_vlob_read`), `memory/vlob.py` (`read`), `postgresql/vlob_queries/read.py`.
 */
export const readVlob =
  (deps: Pick<ApplicationDeps, "realms" | "vlobs">) =>
  async (session: VlobSession, input: ReadVlobInput): Promise<ReadVlobOutcome> => {
    const vlob = await deps.vlobs.get(session.organizationId, input.vlobId);
    if (vlob === null) return NOT_FOUND;
    const realm = await deps.realms.get(session.organizationId, vlob.realmId);
    if (realm === null) return NOT_FOUND;
    const access = checkVlobReadAccess(realm, session.userId, input.encryptionRevision);
    if (access.kind !== "ok") return access;
    const selected = selectVersion(vlob.versions, input.version, input.timestamp);
    if (selected.kind !== "ok") return selected;
    const atom = vlob.versions[selected.version - 1]!;
    return {
      kind: "ok",
      version: selected.version,
      blob: atom.blob,
      author: atom.author,
      timestamp: atom.timestamp,
      authorLastRoleGrantedOn: lastGrantOf(realm, DeviceID.userId(atom.author))?.grantedOn ?? null,
    };
  };
