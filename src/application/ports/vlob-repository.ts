import type { DeviceID, OrganizationID, RealmID, UserID, VlobID } from "../../domain/ids.js";
import type { RealmAccess } from "../../domain/realm/index.js";
import type { DateTime } from "../../domain/time.js";
import type { ReencryptionEntry, ReencryptionProgress, VersionSelector, VlobAtom, VlobChanges, VlobHead } from "../../domain/vlob/index.js";
import type { BackendEvent } from "./events.js";
import type { Tx } from "./unit-of-work.js";

/** One vlob version as `vlob_read` returns it. */
export interface VlobVersionRead extends VlobAtom {
  readonly version: number;
}

/** What `vlob_read` needs, in one lookup: the reader's access to the vlob's realm and the version selected. */
export interface VlobRead {
  readonly realm: RealmAccess;
  /** The selected version, or null when the selector names none. */
  readonly selected: VlobVersionRead | null;
  /** When the selected version's author's user last had its role changed in the realm; null without selection or grant. */
  readonly authorLastRoleGrantedOn: DateTime | null;
}

/** One entry of `vlob_list_versions` (no blob). */
export interface VlobVersionInfo {
  readonly version: number;
  readonly timestamp: DateTime;
  readonly author: DeviceID;
}

/** What {@link VlobRepository.updateIfUnchanged} checks: `userId`'s access to the vlob's realm and the vlob's last version. */
export interface VlobUpdateFacts {
  readonly realm: RealmAccess;
  readonly head: VlobHead;
}

/** The version {@link VlobRepository.updateIfUnchanged} writes when its check passes, and the event announcing it. */
export interface VlobUpdateWrite {
  readonly version: number;
  readonly atom: VlobAtom;
  /** The event published with the write, given the vlob's realm and the realm's checkpoint after the write. */
  readonly event: (realmId: RealmID, checkpoint: number) => Extract<BackendEvent, { type: "realm.vlobs_updated" }>;
}

/**
 * Outcome of {@link VlobRepository.updateIfUnchanged}: no such vlob, the check's refusal, written, or `contended`
 * (nothing written: the facts kept changing between the read and the write; the caller takes the locked path).
 */
export type VlobUpdateResult<R> =
  | { readonly kind: "not_found" }
  | { readonly kind: "refused"; readonly outcome: R }
  | { readonly kind: "written" }
  | { readonly kind: "contended" };

/**
 * Persistence of vlobs (versioned encrypted metadata) and of each realm's change checkpoint.
 *
 * Every write (`create`, `append`) appends one version, increments the realm's checkpoint by exactly one — under the
 * realm row's lock, held until commit, so checkpoints commit in order and a poller never skips one — and records the
 * write in the realm's change log, in the caller's transaction. Callers hold the realm `write` (through
 * `RealmRepository.getAccess` or {@link getForUpdate}), so that its roles and maintenance cannot change before they
 * commit, and check the rules of `src/domain/vlob` first. Sequestered copies of blobs are not kept: no
 * organization has enabled sequester services, so none is ever accepted.
 */
export interface VlobRepository {
  /**
   * `vlob_update`'s lookup: holds the vlob's realm `write` until `tx` ends, then returns `userId`'s access to the realm and the vlob's last version; null when the
   * organization has no such vlob.
   */
  getForUpdate(tx: Tx, organizationId: OrganizationID, vlobId: VlobID, userId: UserID): Promise<{ readonly realm: RealmAccess; readonly head: VlobHead } | null>;
  /**
   * Creates `vlobId` in the realm with `atom` as version 1, encrypted with `encryptionRevision`. Returns the realm's
   * checkpoint after this write, or `already_exists` (nothing written) when the organization already has this vlob id.
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
   * Appends `atom` as `version` of an existing vlob of `realmId`; the caller checked under the same hold that `version`
   * is the last one plus one (a duplicate version is refused by the store: it throws). Returns the realm's checkpoint
   * after this write.
   */
  append(tx: Tx, organizationId: OrganizationID, realmId: RealmID, vlobId: VlobID, version: number, atom: VlobAtom): Promise<number>;
  /**
   * Optional fast path of `vlob_update`, for adapters where holding the realm across several round trips costs most of
   * a write (PostgreSQL): reads the {@link VlobUpdateFacts} without holding anything, runs `check` on them (the rules
   * of `src/domain/vlob`: a refusal is returned as is; null lets the write go), then, in one atomic step, writes
   * `write.version`, increments the realm's checkpoint and publishes `write.event` — only if every fact `check` saw
   * is still true then (the vlob's head, the realm's encryption revision and maintenance, the user's last grant);
   * otherwise it reads again, a bounded number of times, before answering `contended`. `check` may thus run more
   * than once and must be pure. Adapters without it leave it undefined: callers use {@link getForUpdate} and
   * {@link append} in a unit of work.
   */
  updateIfUnchanged?<R>(
    organizationId: OrganizationID,
    vlobId: VlobID,
    userId: UserID,
    check: (facts: VlobUpdateFacts) => R | null,
    write: VlobUpdateWrite,
  ): Promise<VlobUpdateResult<R>>;
  /** `vlob_read`'s lookup for `readerId` (see {@link VlobRead}); null when the organization has no such vlob. A hot read. */
  read(organizationId: OrganizationID, vlobId: VlobID, selector: VersionSelector, readerId: UserID): Promise<VlobRead | null>;
  /** `vlob_list_versions`'s lookup: the reader's access and every version without blobs, in version order; null when unknown. */
  listVersions(organizationId: OrganizationID, vlobId: VlobID, readerId: UserID): Promise<{ readonly realm: RealmAccess; readonly versions: readonly VlobVersionInfo[] } | null>;
  /**
   * The realm's current checkpoint and the latest version of each vlob written after `lastCheckpoint`, read in one
   * consistent snapshot.
   */
  pollChanges(organizationId: OrganizationID, realmId: RealmID, lastCheckpoint: number): Promise<VlobChanges>;
  /**
   * Up to `size` vlob versions of the realm not re-encrypted yet for `encryptionRevision`, with their blobs at the
   * previous revision (in vlob creation order, then version order); null when no re-encryption to that revision is
   * under way.
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
   * otherwise nothing changes and `not_finished`. Without a re-encryption to that revision (never started: a bug), a
   * realm without vlobs is `ok` and any other throws.
   */
  finishReencryption(tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<"ok" | "not_finished">;
  /** Bytes of every vlob version of the realm (`realm_stats` `vlobs_size`). */
  realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number>;
  /** Bytes of every vlob version of the organization written at or before `at` (`metadata_size`). */
  metadataSize(organizationId: OrganizationID, at: DateTime): Promise<number>;
}
