import type { DeviceID, RealmID, VlobID } from "../ids.js";
import type { DateTime } from "../time.js";

/** One version of a vlob: the encrypted blob as received, who wrote it and the client timestamp of the write. */
export interface VlobAtom {
  readonly blob: Buffer;
  readonly author: DeviceID;
  readonly timestamp: DateTime;
}

/**
 * A vlob (versioned encrypted metadata) of a realm. `versions[i]` is version `i + 1`; timestamps never decrease
 * from one version to the next (see {@link checkNewVersion}). Every version is encrypted with `encryptionRevision`,
 * the realm revision it was written (or last re-encrypted) at.
 * Source: Parsec v2.16.3 `parsec/backend/memory/vlob.py` (`Vlob`).
 */
export interface Vlob {
  readonly id: VlobID;
  readonly realmId: RealmID;
  readonly encryptionRevision: number;
  readonly versions: readonly VlobAtom[];
}

/** Schema `ReencryptionBatchEntry`: one vlob version to re-encrypt (blob at the previous revision) or re-encrypted. */
export interface ReencryptionEntry {
  readonly vlobId: VlobID;
  readonly version: number;
  readonly blob: Buffer;
}

/** Progress of a re-encryption maintenance: `total` vlob versions of the realm, `done` of them re-encrypted. */
export interface ReencryptionProgress {
  readonly total: number;
  readonly done: number;
}

/** The changes of a realm after a checkpoint (`vlob_poll_changes`). */
export interface VlobChanges {
  /** The realm's change counter: the number of vlob writes (creations and updates) it has seen. */
  readonly checkpoint: number;
  /** The latest version of each vlob written after the requested checkpoint. */
  readonly changes: ReadonlyMap<VlobID, number>;
}
