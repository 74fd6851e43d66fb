import type { DeviceID, VlobID } from "../../domain/ids.js";
import type { DateTime } from "../../domain/time.js";
import {
  checkVlobReadAccess,
  versionSelector,
  type BadEncryptionRevision,
  type BadVersion,
  type InMaintenance,
  type NotAllowed,
} from "../../domain/vlob/index.js";
import type { ApplicationDeps } from "../deps.js";
import { NOT_FOUND, type NotFound, type VlobSession } from "./common.js";

const BAD_VERSION: BadVersion = { kind: "bad_version" };

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
 * at others); the version exists (`bad_version`). A hot read: one repository lookup, no unit of work.
 * Source: Parsec v2.16.3 `vlob.py` (`api_vlob_read`), `memory/vlob.py` (`read`), `postgresql/vlob_queries/read.py`.
 */
export const readVlob =
  (deps: Pick<ApplicationDeps, "vlobs">) =>
  async (session: VlobSession, input: ReadVlobInput): Promise<ReadVlobOutcome> => {
    const read = await deps.vlobs.read(session.organizationId, input.vlobId, versionSelector(input.version, input.timestamp), session.userId);
    if (read === null) return NOT_FOUND;
    const access = checkVlobReadAccess(read.realm, input.encryptionRevision);
    if (access.kind !== "ok") return access;
    const selected = read.selected;
    if (selected === null) return BAD_VERSION;
    return {
      kind: "ok",
      version: selected.version,
      blob: selected.blob,
      author: selected.author,
      timestamp: selected.timestamp,
      authorLastRoleGrantedOn: read.authorLastRoleGrantedOn,
    };
  };
