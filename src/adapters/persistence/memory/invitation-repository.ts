import type { InvitationRepository } from "../../../application/ports/index.js";
import type { InvitationToken, OrganizationID } from "../../../domain/ids.js";
import type { Invitation } from "../../../domain/invite/index.js";
import type { MemoryStore } from "./store.js";

/** {@link InvitationRepository} on the memory store. */
export class MemoryInvitationRepository implements InvitationRepository {
  constructor(private readonly store: MemoryStore) {}

  async get(organizationId: OrganizationID, token: InvitationToken): Promise<Invitation | null> {
    return this.store.organizations.get(organizationId)?.invitations.get(token) ?? null;
  }

  async save(organizationId: OrganizationID, invitation: Invitation): Promise<void> {
    const data = this.store.organizations.get(organizationId);
    if (!data) throw new Error(`organization ${organizationId} is not in the memory store`);
    data.invitations.set(invitation.token, invitation);
  }
}
