import type { OrganizationRepository, Tx } from "../../../application/ports/index.js";
import type { OrganizationID, UserProfile } from "../../../domain/ids.js";
import type { Organization, OrganizationStats } from "../../../domain/organization/index.js";
import type { DateTime } from "../../../domain/time.js";
import type { MemoryStore } from "./store.js";
import type { MemoryTx } from "./unit-of-work.js";

/** {@link OrganizationRepository} on the memory store. */
export class MemoryOrganizationRepository implements OrganizationRepository {
  constructor(
    private readonly store: MemoryStore,
    private readonly now: () => DateTime,
  ) {}

  async get(id: OrganizationID): Promise<Organization | null> {
    return this.store.organizations.get(id)?.organization ?? null;
  }

  async list(): Promise<readonly Organization[]> {
    return [...this.store.organizations.values()].map((data) => data.organization);
  }

  async save(tx: Tx, organization: Organization): Promise<void> {
    const previous = this.store.organizations.get(organization.id);
    if (previous) {
      const before = previous.organization;
      previous.organization = organization;
      (tx as MemoryTx).onRollback(() => (previous.organization = before));
    } else {
      this.store.organizations.set(organization.id, { organization, users: new Map(), devices: new Map(), invitations: new Map(), messages: new Map() });
      (tx as MemoryTx).onRollback(() => this.store.organizations.delete(organization.id));
    }
  }

  /**
   * The user figures as of `at`; `realms`, `dataSize` and `metadataSize` are 0 here because this store
   * does not hold realms, vlobs or blocks (the application takes them from their own repositories).
   */
  async stats(id: OrganizationID, at?: DateTime): Promise<OrganizationStats> {
    const when = at ?? this.now();
    const data = this.store.organizations.get(id);
    const detail = new Map<UserProfile, { active: number; revoked: number }>([
      ["ADMIN", { active: 0, revoked: 0 }],
      ["STANDARD", { active: 0, revoked: 0 }],
      ["OUTSIDER", { active: 0, revoked: 0 }],
    ]);
    let users = 0;
    let activeUsers = 0;
    for (const user of data?.users.values() ?? []) {
      if (user.createdOn.isAfter(when)) continue;
      users += 1;
      const counts = detail.get(user.profile)!;
      if (user.revokedOn && !user.revokedOn.isAfter(when)) counts.revoked += 1;
      else {
        counts.active += 1;
        activeUsers += 1;
      }
    }
    return {
      dataSize: 0,
      metadataSize: 0,
      realms: 0,
      users,
      activeUsers,
      usersPerProfileDetail: [...detail].map(([profile, counts]) => ({ profile, ...counts })),
    };
  }
}
