import type { InvitationToken, OrganizationID, UserID } from "../../domain/ids.js";
import type { Conduit, Invitation, InvitationRequest } from "../../domain/invite/index.js";
import type { Tx } from "./unit-of-work.js";

/**
 * Persistence of invitations and of their SAS-exchange conduit.
 * Reads given a transaction see its writes, and the PostgreSQL adapter locks the invitation row
 * for the rest of the transaction (`SELECT … FOR UPDATE`), so that conduit updates never interleave.
 */
export interface InvitationRepository {
  /** The invitation (deleted ones included), or null when unknown in this organization. */
  get(organizationId: OrganizationID, token: InvitationToken, tx?: Tx): Promise<Invitation | null>;
  /** Inserts or replaces the invitation of the same token (with a transaction, undone on rollback). */
  save(organizationId: OrganizationID, invitation: Invitation, tx?: Tx): Promise<void>;
  /** The oldest invitation that answers `request` instead of a new one (see `isReusableFor`), or null. */
  findReusable(tx: Tx, organizationId: OrganizationID, request: InvitationRequest): Promise<Invitation | null>;
  /** The invitations of `greeter` that are not deleted, oldest first. */
  listActive(organizationId: OrganizationID, greeter: UserID): Promise<readonly Invitation[]>;
  /** The conduit of an existing invitation (the initial one when never written). */
  getConduit(tx: Tx, organizationId: OrganizationID, token: InvitationToken): Promise<Conduit>;
  /** Replaces the conduit of an existing invitation. */
  saveConduit(tx: Tx, organizationId: OrganizationID, token: InvitationToken, conduit: Conduit): Promise<void>;
}
