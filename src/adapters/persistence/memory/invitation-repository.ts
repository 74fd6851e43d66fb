import type { InvitationRepository, Tx } from "../../../application/ports/index.js";
import type { InvitationToken, OrganizationID, UserID } from "../../../domain/ids.js";
import {
  INITIAL_CONDUIT,
  deleteInvitation,
  isReusableFor,
  type Conduit,
  type Invitation,
  type InvitationDeletedReason,
  type InvitationStatus,
} from "../../../domain/invite/index.js";
import type { DateTime } from "../../../domain/time.js";
import type { MemoryInvitationRecord, MemoryOrganizationData, MemoryStore } from "./store.js";
import type { MemoryTx } from "./unit-of-work.js";

const statusOf = (record: MemoryInvitationRecord): InvitationStatus =>
  record.invitation.deleted ? "DELETED" : record.presence.size > 0 ? "READY" : "IDLE";

const withStatus = (record: MemoryInvitationRecord): Invitation => {
  const status = statusOf(record);
  return record.invitation.status === status ? record.invitation : { ...record.invitation, status };
};

/** {@link InvitationRepository} on the memory store (the memory unit of work already serialises each organization). */
export class MemoryInvitationRepository implements InvitationRepository {
  constructor(private readonly store: MemoryStore) {}

  async get(organizationId: OrganizationID, token: InvitationToken): Promise<Invitation | null> {
    const record = this.store.organizations.get(organizationId)?.invitations.get(token);
    return record ? withStatus(record) : null;
  }

  async createOrReuse(tx: Tx, organizationId: OrganizationID, invitation: Invitation): Promise<{ readonly created: boolean; readonly invitation: Invitation }> {
    const invitations = this.data(organizationId).invitations;
    const request = { greeterUserId: invitation.greeterUserId, type: invitation.type as "USER" | "DEVICE", claimerEmail: invitation.claimerEmail };
    let reusable: MemoryInvitationRecord | null = null;
    for (const record of invitations.values())
      if (isReusableFor(record.invitation, request) && (!reusable || record.invitation.createdOn.isBefore(reusable.invitation.createdOn))) reusable = record;
    if (reusable) return { created: false, invitation: withStatus(reusable) };
    if (invitations.has(invitation.token)) throw new Error(`invitation token ${invitation.token} already used`);
    const record: MemoryInvitationRecord = { invitation: { ...invitation, status: "IDLE", deleted: null }, conduit: INITIAL_CONDUIT, presence: new Set() };
    invitations.set(invitation.token, record);
    (tx as MemoryTx).onRollback(() => invitations.delete(invitation.token));
    return { created: true, invitation: withStatus(record) };
  }

  async markDeleted(tx: Tx, organizationId: OrganizationID, token: InvitationToken, on: DateTime, reason: InvitationDeletedReason): Promise<void> {
    const record = this.record(organizationId, token);
    const before = record.invitation;
    record.invitation = deleteInvitation(before, on, reason);
    (tx as MemoryTx).onRollback(() => (record.invitation = before));
  }

  async listActive(organizationId: OrganizationID, greeter: UserID): Promise<readonly Invitation[]> {
    return [...(this.store.organizations.get(organizationId)?.invitations.values() ?? [])]
      .filter((record) => record.invitation.greeterUserId === greeter && record.invitation.deleted === null)
      .sort((a, b) => a.invitation.createdOn.compare(b.invitation.createdOn))
      .map(withStatus);
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

  async setClaimerPresence(tx: Tx, organizationId: OrganizationID, token: InvitationToken, connectionId: string, present: boolean): Promise<InvitationStatus> {
    const record = this.record(organizationId, token);
    const had = record.presence.has(connectionId);
    if (present && !had) {
      record.presence.add(connectionId);
      (tx as MemoryTx).onRollback(() => record.presence.delete(connectionId));
    } else if (!present && had) {
      record.presence.delete(connectionId);
      (tx as MemoryTx).onRollback(() => record.presence.add(connectionId));
    }
    return statusOf(record);
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
