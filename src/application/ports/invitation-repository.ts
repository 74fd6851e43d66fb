import type { InvitationToken, OrganizationID, UserID } from "../../domain/ids.js";
import type { Conduit, Invitation, InvitationDeletedReason, InvitationStatus } from "../../domain/invite/index.js";
import type { DateTime } from "../../domain/time.js";
import type { Tx } from "./unit-of-work.js";

/**
 * Persistence of invitations, of their SAS-exchange conduit and of claimer presence.
 *
 * An invitation's `status` is computed on every read: DELETED once deleted, otherwise READY while at least one claimer
 * connection (of any server process still alive) is present, IDLE else. Reads given a transaction lock the invitation
 * row until its end (PostgreSQL `FOR UPDATE`), so that conduit steps and deletions never interleave.
 */
export interface InvitationRepository {
  /** The invitation (deleted ones included), or null when unknown in this organization. */
  get(organizationId: OrganizationID, token: InvitationToken, tx?: Tx): Promise<Invitation | null>;
  /**
   * `invite_new`'s creation: the greeter's invitation not deleted of the same type (and, for USER, claimer email —
   * domain `isReusableFor`) when there is one (`created: false`), else `invitation` inserted (`created: true`).
   * Atomic: two concurrent calls for one claimer create one invitation (PostgreSQL: a unique index on the active
   * invitations of a greeter, type and email).
   */
  createOrReuse(tx: Tx, organizationId: OrganizationID, invitation: Invitation): Promise<{ readonly created: boolean; readonly invitation: Invitation }>;
  /** Marks an existing invitation deleted on `on` for `reason` (the caller checked it is not deleted yet). */
  markDeleted(tx: Tx, organizationId: OrganizationID, token: InvitationToken, on: DateTime, reason: InvitationDeletedReason): Promise<void>;
  /** The invitations of `greeter` that are not deleted, oldest first. */
  listActive(organizationId: OrganizationID, greeter: UserID): Promise<readonly Invitation[]>;
  /** The conduit of an existing invitation (the initial one when never written); read under the invitation's row lock. */
  getConduit(tx: Tx, organizationId: OrganizationID, token: InvitationToken): Promise<Conduit>;
  /** Replaces the conduit of an existing invitation. */
  saveConduit(tx: Tx, organizationId: OrganizationID, token: InvitationToken, conduit: Conduit): Promise<void>;
  /**
   * Claimer presence: `connectionId` (unique per connection of this process) joined or left the invitation. Returns
   * the invitation's status afterwards (READY while any claimer connection is present; DELETED when deleted meanwhile).
   * Presence of a server process that stopped without leaving (crash) is dropped by the adapter (PostgreSQL: per-process
   * rows, ignored and cleaned once the process no longer heartbeats).
   */
  setClaimerPresence(tx: Tx, organizationId: OrganizationID, token: InvitationToken, connectionId: string, present: boolean): Promise<InvitationStatus>;
}
