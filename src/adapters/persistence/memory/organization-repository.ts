import type { OrganizationBootstrap, OrganizationRepository, Tx } from "../../../application/ports/index.js";
import type { OrganizationID } from "../../../domain/ids.js";
import { applyPatch, isBootstrapped, userStatsFrom, type Organization, type OrganizationPatch, type OrganizationStats } from "../../../domain/organization/index.js";
import type { DateTime } from "../../../domain/time.js";
import { isRevoked } from "../../../domain/user/index.js";
import type { MemoryStore } from "./store.js";
import type { MemoryTx } from "./unit-of-work.js";

/** {@link OrganizationRepository} on the memory store (the memory unit of work serialises each organization). */
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

  async create(tx: Tx, organization: Organization): Promise<"ok" | "already_exists"> {
    if (this.store.organizations.has(organization.id)) return "already_exists";
    this.store.organizations.set(organization.id, { organization, users: new Map(), devices: new Map(), invitations: new Map(), messages: new Map() });
    (tx as MemoryTx).onRollback(() => this.store.organizations.delete(organization.id));
    return "ok";
  }

  async replaceNotBootstrapped(tx: Tx, organization: Organization): Promise<"ok" | "not_found" | "already_bootstrapped"> {
    const data = this.store.organizations.get(organization.id);
    if (!data) return "not_found";
    if (isBootstrapped(data.organization)) return "already_bootstrapped";
    this.replace(tx, organization.id, organization);
    return "ok";
  }

  async bootstrap(tx: Tx, id: OrganizationID, bootstrap: OrganizationBootstrap): Promise<"ok" | "not_found" | "already_bootstrapped" | "bad_token"> {
    const data = this.store.organizations.get(id);
    if (!data) return "not_found";
    if (isBootstrapped(data.organization)) return "already_bootstrapped";
    if (data.organization.bootstrapToken !== bootstrap.bootstrapToken) return "bad_token";
    this.replace(tx, id, {
      ...data.organization,
      rootVerifyKey: bootstrap.rootVerifyKey,
      bootstrappedOn: bootstrap.bootstrappedOn,
      sequesterAuthority: bootstrap.sequesterAuthority,
      sequesterServicesCertificates: bootstrap.sequesterAuthority ? [] : null,
    });
    return "ok";
  }

  async update(tx: Tx, id: OrganizationID, patch: OrganizationPatch): Promise<"ok" | "not_found"> {
    const data = this.store.organizations.get(id);
    if (!data) return "not_found";
    this.replace(tx, id, applyPatch(data.organization, patch));
    return "ok";
  }

  private replace(tx: Tx, id: OrganizationID, organization: Organization): void {
    const data = this.store.organizations.get(id)!;
    const before = data.organization;
    data.organization = organization;
    (tx as MemoryTx).onRollback(() => (data.organization = before));
  }

  /**
   * The user figures as of `at`; `realms`, `dataSize` and `metadataSize` are 0 here (the application takes them from
   * the realm, vlob and block repositories).
   */
  async stats(id: OrganizationID, at?: DateTime): Promise<OrganizationStats> {
    const when = at ?? this.now();
    const users = this.store.organizations.get(id)?.users.values() ?? [];
    return userStatsFrom(
      [...users]
        .filter((user) => !user.createdOn.isAfter(when))
        .map((user) => (isRevoked(user, when) ? { profile: user.profile, active: 0, revoked: 1 } : { profile: user.profile, active: 1, revoked: 0 })),
    );
  }
}
