import type { InvitationRepository, Tx } from "../../../application/ports/index.js";
import type { InvitationToken, OrganizationID, UserID } from "../../../domain/ids.js";
import { INITIAL_CONDUIT, isReusableFor, type Conduit, type Invitation, type InvitationRequest } from "../../../domain/invite/index.js";
import type { MemoryInvitationRecord, MemoryOrganizationData, MemoryStore } from "./store.js";
import type { MemoryTx } from "./unit-of-work.js";

/** {@link InvitationRepository} on the memory store (the memory unit of work already serialises each organization). */
export class MemoryInvitationRepository implements InvitationRepository {
  constructor(private readonly store: MemoryStore) {}

  async get(organizationId: OrganizationID, token: InvitationToken): Promise<Invitation | null> {
    return this.store.organizations.get(organizationId)?.invitations.get(token)?.invitation ?? null;
  }

  async save(organizationId: OrganizationID, invitation: Invitation, tx?: Tx): Promise<void> {
    const invitations = this.data(organizationId).invitations;
    const record = invitations.get(invitation.token);
    if (record) {
      const before = record.invitation;
      record.invitation = invitation;
      (tx as MemoryTx | undefined)?.onRollback(() => (record.invitation = before));
    } else {
      invitations.set(invitation.token, { invitation, conduit: INITIAL_CONDUIT });
      (tx as MemoryTx | undefined)?.onRollback(() => invitations.delete(invitation.token));
    }
  }

  async findReusable(_tx: Tx, organizationId: OrganizationID, request: InvitationRequest): Promise<Invitation | null> {
    let found: Invitation | null = null;
    for (const { invitation } of this.store.organizations.get(organizationId)?.invitations.values() ?? [])
      if (isReusableFor(invitation, request) && (!found || invitation.createdOn.isBefore(found.createdOn))) found = invitation;
    return found;
  }

  async listActive(organizationId: OrganizationID, greeter: UserID): Promise<readonly Invitation[]> {
    return [...(this.store.organizations.get(organizationId)?.invitations.values() ?? [])]
      .map((record) => record.invitation)
      .filter((invitation) => invitation.greeterUserId === greeter && invitation.deleted === null)
      .sort((a, b) => a.createdOn.compare(b.createdOn));
  }

  async getConduit(_tx: Tx, organizationId: OrganizationID, token: InvitationToken): Promise<Conduit> {
    return this.record(organizationId, token).conduit;
  }

  async saveConduit(tx: Tx, organizationId: OrganizationID, token: InvitationToken, conduit: Conduit): Promise<void> {
    const record = this.record(organizationId, token);
    const before = record.conduit;
    record.conduit = conduit;
    (tx as MemoryTx).onRollback(() => (record.conduit = before));
  }

  private data(organizationId: OrganizationID): MemoryOrganizationData {
    const data = this.store.organizations.get(organizationId);
    if (!data) throw new Error(`organization ${organizationId} is not in the memory store`);
    return data;
  }

  private record(organizationId: OrganizationID, token: InvitationToken): MemoryInvitationRecord {
    const record = this.data(organizationId).invitations.get(token);
    if (!record) throw new Error(`invitation ${token} is not in the memory store`);
    return record;
  }
}
