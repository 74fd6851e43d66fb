import type { Tx, VlobRead, VlobRepository, VlobVersionInfo } from "../../../application/ports/index.js";
import type { OrganizationID, RealmID, UserID, VlobID } from "../../../domain/ids.js";
import { DeviceID } from "../../../domain/ids.js";
import { accessOf, lastGrantOf, type RealmAccess } from "../../../domain/realm/index.js";
import type { DateTime } from "../../../domain/time.js";
import {
  selectVersion,
  type ReencryptionEntry,
  type ReencryptionProgress,
  type VersionSelector,
  type VlobAtom,
  type VlobChanges,
  type VlobHead,
} from "../../../domain/vlob/index.js";
import type { MemoryStore } from "./store.js";
import type { MemoryTx } from "./unit-of-work.js";

/** A vlob as stored: the domain shape, mutable in place by this adapter only. */
interface StoredVlob {
  readonly id: VlobID;
  readonly realmId: RealmID;
  encryptionRevision: number;
  versions: VlobAtom[];
}

/** A re-encryption under way: what is left to do and what is done, keyed by {@link atomKey}. */
interface Reencryption {
  readonly encryptionRevision: number;
  readonly total: number;
  /** In the order the batches hand them out. */
  readonly pending: Map<string, ReencryptionEntry>;
  readonly done: Map<string, ReencryptionEntry>;
}

/** Per-realm bookkeeping. */
interface RealmVlobs {
  /** Entry `i` is the write that brought the checkpoint to `i + 1`. */
  readonly log: { readonly vlobId: VlobID; readonly version: number }[];
  /** The realm's vlobs, in creation order. */
  readonly vlobIds: VlobID[];
  readonly lastWriteBy: Map<UserID, DateTime>;
  /** Bytes of the current blobs. */
  size: number;
  reencryption: Reencryption | null;
}

interface OrganizationVlobs {
  readonly vlobs: Map<VlobID, StoredVlob>;
  readonly realms: Map<RealmID, RealmVlobs>;
}

const atomKey = (vlobId: VlobID, version: number): string => `${vlobId}:${version}`;

const journal = (tx: Tx, undo: () => void): void => (tx as MemoryTx).onRollback(undo);

/**
 * {@link VlobRepository} in memory. Lookups by vlob id are O(1), versions are arrays indexed by version − 1, polling
 * reads the realm's write log from the checkpoint on, and blobs are kept as received (never copied). Every change is
 * journaled on the transaction for rollback.
 */
export class MemoryVlobRepository implements VlobRepository {
  private readonly organizations = new Map<OrganizationID, OrganizationVlobs>();

  /** @param store Where the realms are (for the readers' and writers' realm access). */
  constructor(private readonly store: MemoryStore) {}

  private accessTo(organizationId: OrganizationID, realmId: RealmID, userId: UserID): RealmAccess {
    const realm = this.store.realms.get(organizationId)?.get(realmId);
    if (!realm) throw new Error(`MemoryVlobRepository: vlob of unknown realm ${realmId}`);
    return accessOf(realm, userId);
  }

  private organization(organizationId: OrganizationID): OrganizationVlobs {
    let data = this.organizations.get(organizationId);
    if (!data) this.organizations.set(organizationId, (data = { vlobs: new Map(), realms: new Map() }));
    return data;
  }

  private realm(organizationId: OrganizationID, realmId: RealmID): RealmVlobs {
    const realms = this.organization(organizationId).realms;
    let realm = realms.get(realmId);
    if (!realm) realms.set(realmId, (realm = { log: [], vlobIds: [], lastWriteBy: new Map(), size: 0, reencryption: null }));
    return realm;
  }

  /** Records a write in the realm's log and causality table; returns the new checkpoint. */
  private recordWrite(tx: Tx, realm: RealmVlobs, vlobId: VlobID, version: number, atom: VlobAtom): number {
    const userId = DeviceID.userId(atom.author);
    const previousLastWrite = realm.lastWriteBy.get(userId);
    if (previousLastWrite === undefined || previousLastWrite.isBefore(atom.timestamp)) realm.lastWriteBy.set(userId, atom.timestamp);
    realm.log.push({ vlobId, version });
    realm.size += atom.blob.length;
    journal(tx, () => {
      realm.size -= atom.blob.length;
      realm.log.pop();
      if (previousLastWrite === undefined) realm.lastWriteBy.delete(userId);
      else realm.lastWriteBy.set(userId, previousLastWrite);
    });
    return realm.log.length;
  }

  async getForUpdate(_tx: Tx, organizationId: OrganizationID, vlobId: VlobID, userId: UserID): Promise<{ readonly realm: RealmAccess; readonly head: VlobHead } | null> {
    const vlob = this.organizations.get(organizationId)?.vlobs.get(vlobId);
    if (!vlob) return null;
    const last = vlob.versions[vlob.versions.length - 1]!;
    return { realm: this.accessTo(organizationId, vlob.realmId, userId), head: { version: vlob.versions.length, timestamp: last.timestamp } };
  }

  async read(organizationId: OrganizationID, vlobId: VlobID, selector: VersionSelector, readerId: UserID): Promise<VlobRead | null> {
    const vlob = this.organizations.get(organizationId)?.vlobs.get(vlobId);
    if (!vlob) return null;
    const realm = this.store.realms.get(organizationId)?.get(vlob.realmId);
    if (!realm) throw new Error(`MemoryVlobRepository: vlob of unknown realm ${vlob.realmId}`);
    const selection = selectVersion(vlob.versions, selector);
    if (selection.kind !== "ok") return { realm: accessOf(realm, readerId), selected: null, authorLastRoleGrantedOn: null };
    const atom = vlob.versions[selection.version - 1]!;
    return {
      realm: accessOf(realm, readerId),
      selected: { version: selection.version, ...atom },
      authorLastRoleGrantedOn: lastGrantOf(realm, DeviceID.userId(atom.author))?.grantedOn ?? null,
    };
  }

  async listVersions(
    organizationId: OrganizationID,
    vlobId: VlobID,
    readerId: UserID,
  ): Promise<{ readonly realm: RealmAccess; readonly versions: readonly VlobVersionInfo[] } | null> {
    const vlob = this.organizations.get(organizationId)?.vlobs.get(vlobId);
    if (!vlob) return null;
    return {
      realm: this.accessTo(organizationId, vlob.realmId, readerId),
      versions: vlob.versions.map((atom, i) => ({ version: i + 1, timestamp: atom.timestamp, author: atom.author })),
    };
  }

  async create(
    tx: Tx,
    organizationId: OrganizationID,
    realmId: RealmID,
    vlobId: VlobID,
    encryptionRevision: number,
    atom: VlobAtom,
  ): Promise<number | "already_exists"> {
    const vlobs = this.organization(organizationId).vlobs;
    if (vlobs.has(vlobId)) return "already_exists";
    const realm = this.realm(organizationId, realmId);
    vlobs.set(vlobId, { id: vlobId, realmId, encryptionRevision, versions: [atom] });
    realm.vlobIds.push(vlobId);
    journal(tx, () => {
      realm.vlobIds.pop();
      vlobs.delete(vlobId);
    });
    return this.recordWrite(tx, realm, vlobId, 1, atom);
  }

  async append(tx: Tx, organizationId: OrganizationID, realmId: RealmID, vlobId: VlobID, version: number, atom: VlobAtom): Promise<number> {
    const vlob = this.organizations.get(organizationId)?.vlobs.get(vlobId);
    if (!vlob || vlob.realmId !== realmId) throw new Error(`MemoryVlobRepository.append: no vlob ${vlobId} in realm ${realmId}`);
    if (version !== vlob.versions.length + 1) throw new Error(`MemoryVlobRepository.append: version ${version} after ${vlob.versions.length}`);
    const versions = vlob.versions;
    versions.push(atom);
    journal(tx, () => versions.pop());
    return this.recordWrite(tx, this.realm(organizationId, vlob.realmId), vlobId, version, atom);
  }

  async pollChanges(organizationId: OrganizationID, realmId: RealmID, lastCheckpoint: number): Promise<VlobChanges> {
    const log = this.organizations.get(organizationId)?.realms.get(realmId)?.log ?? [];
    const changes = new Map<VlobID, number>();
    for (let i = Math.max(0, lastCheckpoint); i < log.length; i++) changes.set(log[i]!.vlobId, log[i]!.version);
    return { checkpoint: log.length, changes };
  }

  async getReencryptionBatch(
    organizationId: OrganizationID,
    realmId: RealmID,
    encryptionRevision: number,
    size: number,
  ): Promise<readonly ReencryptionEntry[] | null> {
    const reencryption = this.organizations.get(organizationId)?.realms.get(realmId)?.reencryption;
    if (!reencryption || reencryption.encryptionRevision !== encryptionRevision) return null;
    const batch: ReencryptionEntry[] = [];
    if (size <= 0) return batch;
    for (const entry of reencryption.pending.values()) {
      batch.push(entry);
      if (batch.length >= size) break;
    }
    return batch;
  }

  async saveReencryptionBatch(
    tx: Tx,
    organizationId: OrganizationID,
    realmId: RealmID,
    encryptionRevision: number,
    batch: readonly ReencryptionEntry[],
  ): Promise<ReencryptionProgress | null> {
    const reencryption = this.organizations.get(organizationId)?.realms.get(realmId)?.reencryption;
    if (!reencryption || reencryption.encryptionRevision !== encryptionRevision) return null;
    const { pending, done } = reencryption;
    const moved: [string, ReencryptionEntry][] = [];
    for (const entry of batch) {
      const key = atomKey(entry.vlobId, entry.version);
      const original = pending.get(key);
      if (original === undefined) continue;
      pending.delete(key);
      done.set(key, { vlobId: original.vlobId, version: original.version, blob: entry.blob });
      moved.push([key, original]);
    }
    if (moved.length > 0)
      journal(tx, () => {
        for (const [key, original] of moved) {
          done.delete(key);
          pending.set(key, original);
        }
      });
    return { total: reencryption.total, done: done.size };
  }

  async lastWriteBy(organizationId: OrganizationID, realmId: RealmID, userId: UserID): Promise<DateTime | null> {
    return this.organizations.get(organizationId)?.realms.get(realmId)?.lastWriteBy.get(userId) ?? null;
  }

  async startReencryption(tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<void> {
    const vlobs = this.organization(organizationId).vlobs;
    const realm = this.realm(organizationId, realmId);
    const pending = new Map<string, ReencryptionEntry>();
    for (const vlobId of realm.vlobIds) {
      const versions = vlobs.get(vlobId)!.versions;
      for (let i = 0; i < versions.length; i++) pending.set(atomKey(vlobId, i + 1), { vlobId, version: i + 1, blob: versions[i]!.blob });
    }
    const previous = realm.reencryption;
    realm.reencryption = { encryptionRevision, total: pending.size, pending, done: new Map() };
    journal(tx, () => (realm.reencryption = previous));
  }

  async finishReencryption(tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<"ok" | "not_finished"> {
    const vlobs = this.organization(organizationId).vlobs;
    const realm = this.realm(organizationId, realmId);
    const reencryption = realm.reencryption;
    if (!reencryption || reencryption.encryptionRevision !== encryptionRevision) {
      if (realm.vlobIds.length === 0) return "ok";
      throw new Error(`MemoryVlobRepository.finishReencryption: no re-encryption to revision ${encryptionRevision} in realm ${realmId}`);
    }
    if (reencryption.pending.size > 0) return "not_finished";
    const before = realm.vlobIds.map((vlobId) => {
      const vlob = vlobs.get(vlobId)!;
      return { vlob, encryptionRevision: vlob.encryptionRevision, versions: vlob.versions };
    });
    const sizeBefore = realm.size;
    let size = 0;
    for (const { vlob, versions } of before) {
      vlob.versions = versions.map((atom, i) => {
        const blob = reencryption.done.get(atomKey(vlob.id, i + 1))!.blob;
        size += blob.length;
        return { ...atom, blob };
      });
      vlob.encryptionRevision = encryptionRevision;
    }
    realm.size = size;
    realm.reencryption = null;
    journal(tx, () => {
      for (const saved of before) {
        saved.vlob.versions = saved.versions;
        saved.vlob.encryptionRevision = saved.encryptionRevision;
      }
      realm.size = sizeBefore;
      realm.reencryption = reencryption;
    });
    return "ok";
  }

  async realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number> {
    return this.organizations.get(organizationId)?.realms.get(realmId)?.size ?? 0;
  }

  async metadataSize(organizationId: OrganizationID, at: DateTime): Promise<number> {
    let size = 0;
    for (const vlob of this.organizations.get(organizationId)?.vlobs.values() ?? [])
      for (const atom of vlob.versions) if (!atom.timestamp.isAfter(at)) size += atom.blob.length;
    return size;
  }
}
