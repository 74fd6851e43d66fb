import type { RealmLock, RealmRepository, Tx } from "../../../application/ports/index.js";
import type { OrganizationID, RealmID, UserID } from "../../../domain/ids.js";
import { accessOf, roleOf, withGrant, type Realm, type RealmAccess, type RealmMaintenance, type RealmRoleGrant } from "../../../domain/realm/index.js";
import type { DateTime } from "../../../domain/time.js";
import type { MemoryStore } from "./store.js";
import type { MemoryTx } from "./unit-of-work.js";

/**
 * {@link RealmRepository} on the memory store: realms per organization, replaced whole on each change (journaled for
 * rollback). Locks are not needed: the memory unit of work serialises each organization.
 */
export class MemoryRealmRepository implements RealmRepository {
  constructor(private readonly store: MemoryStore) {}

  async get(organizationId: OrganizationID, realmId: RealmID): Promise<Realm | null> {
    return this.store.realms.get(organizationId)?.get(realmId) ?? null;
  }

  async getAccess(organizationId: OrganizationID, realmId: RealmID, userId: UserID, _tx?: Tx, _lock?: RealmLock): Promise<RealmAccess | null> {
    const realm = this.store.realms.get(organizationId)?.get(realmId);
    return realm ? accessOf(realm, userId) : null;
  }

  async create(tx: Tx, organizationId: OrganizationID, realm: Realm): Promise<"ok" | "already_exists"> {
    const map = this.store.realmsOf(organizationId);
    if (map.has(realm.id)) return "already_exists";
    map.set(realm.id, realm);
    (tx as MemoryTx).onRollback(() => map.delete(realm.id));
    return "ok";
  }

  async addGrant(tx: Tx, organizationId: OrganizationID, realmId: RealmID, grant: RealmRoleGrant): Promise<void> {
    this.change(tx, organizationId, realmId, (realm) => withGrant(realm, grant));
  }

  async setMaintenance(
    tx: Tx,
    organizationId: OrganizationID,
    realmId: RealmID,
    state: { readonly encryptionRevision: number; readonly maintenance: RealmMaintenance | null },
  ): Promise<void> {
    this.change(tx, organizationId, realmId, (realm) => ({ ...realm, encryptionRevision: state.encryptionRevision, maintenance: state.maintenance }));
  }

  async listForUser(organizationId: OrganizationID, userId: UserID): Promise<readonly RealmID[]> {
    return [...(this.store.realms.get(organizationId)?.values() ?? [])].filter((r) => roleOf(r, userId) !== null).map((r) => r.id);
  }

  async countCreatedBefore(organizationId: OrganizationID, at: DateTime): Promise<number> {
    let count = 0;
    for (const realm of this.store.realms.get(organizationId)?.values() ?? []) if (!realm.createdOn.isAfter(at)) count += 1;
    return count;
  }

  private change(tx: Tx, organizationId: OrganizationID, realmId: RealmID, update: (realm: Realm) => Realm): void {
    const map = this.store.realmsOf(organizationId);
    const before = map.get(realmId);
    if (!before) throw new Error(`realm ${realmId} is not in the memory store`);
    map.set(realmId, update(before));
    (tx as MemoryTx).onRollback(() => map.set(realmId, before));
  }
}
