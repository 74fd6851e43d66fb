import type { RealmRepository, Tx } from "../../../application/ports/index.js";
import type { OrganizationID, RealmID, UserID } from "../../../domain/ids.js";
import { roleOf, type Realm } from "../../../domain/realm/index.js";
import type { DateTime } from "../../../domain/time.js";
import type { MemoryTx } from "./unit-of-work.js";

/** {@link RealmRepository} in memory: realms per organization, replaced whole on save (journaled for rollback). */
export class MemoryRealmRepository implements RealmRepository {
  private readonly realms = new Map<OrganizationID, Map<RealmID, Realm>>();

  private of(organizationId: OrganizationID): Map<RealmID, Realm> {
    let map = this.realms.get(organizationId);
    if (!map) this.realms.set(organizationId, (map = new Map()));
    return map;
  }

  async get(organizationId: OrganizationID, realmId: RealmID): Promise<Realm | null> {
    return this.realms.get(organizationId)?.get(realmId) ?? null;
  }

  async save(tx: Tx, organizationId: OrganizationID, realm: Realm): Promise<void> {
    const map = this.of(organizationId);
    const before = map.get(realm.id);
    map.set(realm.id, realm);
    (tx as MemoryTx).onRollback(() => (before ? map.set(realm.id, before) : map.delete(realm.id)));
  }

  async listForUser(organizationId: OrganizationID, userId: UserID): Promise<readonly RealmID[]> {
    return [...(this.realms.get(organizationId)?.values() ?? [])].filter((r) => roleOf(r, userId) !== null).map((r) => r.id);
  }

  async countCreatedBefore(organizationId: OrganizationID, at: DateTime): Promise<number> {
    let count = 0;
    for (const realm of this.realms.get(organizationId)?.values() ?? []) if (!realm.createdOn.isAfter(at)) count += 1;
    return count;
  }
}
