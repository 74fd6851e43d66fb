import type { OrganizationID, RealmID, UserID, VlobID } from "../../domain/ids.js";
import type { DateTime } from "../../domain/time.js";
import type { ReencryptionEntry, ReencryptionProgress, Vlob, VlobAtom, VlobChanges } from "../../domain/vlob/index.js";
import type { Tx } from "./unit-of-work.js";

/**
 * Persistence of vlobs (versioned encrypted metadata) and of each realm's change checkpoints.
 *
 * Every write (`create`, `append`) increments the realm's checkpoint by one and records the write's timestamp as
 * the author's last write in the realm, in the caller's transaction. The caller holds the realm under the unit of
 * work (`RealmRepository.get` with the transaction) and checks the rules of `src/domain/vlob` before writing.
 * Sequestered copies of blobs are not kept: no organization has enabled sequester services, so none is ever accepted.
 */
export interface VlobRepository {
  /**
   * The vlob with every version, or null when the organization has no such vlob. With a transaction, read under
   * the unit of work's lock (PostgreSQL: the vlob's rows `FOR UPDATE`). The value is read-only for the caller.
   */
  get(organizationId: OrganizationID, vlobId: VlobID, tx?: Tx): Promise<Vlob | null>;
  /**
   * Creates `vlobId` in the realm with `atom` as version 1, encrypted with `encryptionRevision`. Returns the realm's
   * checkpoint after this write, or `already_exists` when the organization already has a vlob with this id.
   */
  create(
    tx: Tx,
    organizationId: OrganizationID,
    realmId: RealmID,
    vlobId: VlobID,
    encryptionRevision: number,
    atom: VlobAtom,
  ): Promise<number | "already_exists">;
  /**
   * Appends `atom` as `version` of an existing vlob; the caller checked, under the same transaction, that `version`
   * is the last one plus one. Returns the realm's checkpoint after this write.
   */
  append(tx: Tx, organizationId: OrganizationID, vlobId: VlobID, version: number, atom: VlobAtom): Promise<number>;
  /** The realm's current checkpoint, and the latest version of each vlob written after `lastCheckpoint`. */
  pollChanges(organizationId: OrganizationID, realmId: RealmID, lastCheckpoint: number, tx?: Tx): Promise<VlobChanges>;
  /**
   * Up to `size` vlob versions of the realm not re-encrypted yet for `encryptionRevision`, with their blobs at the
   * previous revision; null when no re-encryption to that revision is under way.
   */
  getReencryptionBatch(
    organizationId: OrganizationID,
    realmId: RealmID,
    encryptionRevision: number,
    size: number,
    tx?: Tx,
  ): Promise<readonly ReencryptionEntry[] | null>;
  /**
   * Records re-encrypted blobs for `encryptionRevision`. Entries naming an unknown vlob or version, or a version
   * already re-encrypted, are ignored (the first blob stays). Returns the progress after saving; null when no
   * re-encryption to that revision is under way.
   */
  saveReencryptionBatch(
    tx: Tx,
    organizationId: OrganizationID,
    realmId: RealmID,
    encryptionRevision: number,
    batch: readonly ReencryptionEntry[],
  ): Promise<ReencryptionProgress | null>;
  /** The greatest timestamp of the vlob versions written by `userId` in the realm, or null (causality check of `realm_update_roles`). */
  lastWriteBy(organizationId: OrganizationID, realmId: RealmID, userId: UserID, tx?: Tx): Promise<DateTime | null>;
  /** Starts collecting re-encrypted versions of every vlob of the realm for `encryptionRevision` (the new revision). */
  startReencryption(tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<void>;
  /**
   * Ends the re-encryption for `encryptionRevision`: when every vlob version has been re-encrypted, the
   * re-encrypted blobs replace the old ones, the vlobs switch to `encryptionRevision` and `ok` is returned;
   * otherwise nothing changes and `not_finished`. Without a re-encryption to that revision (never started: a bug), a realm without vlobs is `ok` and any other throws.
   */
  finishReencryption(tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<"ok" | "not_finished">;
  /** Bytes of every vlob version of the realm (`realm_stats` `vlobs_size`). */
  realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number>;
  /** Bytes of every vlob version of the organization written at or before `at` (`metadata_size`). */
  metadataSize(organizationId: OrganizationID, at: DateTime): Promise<number>;
}
