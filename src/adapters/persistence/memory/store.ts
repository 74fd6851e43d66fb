import type { DeviceID, OrganizationID, RealmID, UserID } from "../../../domain/ids.js";
import type { Conduit, Invitation } from "../../../domain/invite/index.js";
import type { Message } from "../../../domain/message/index.js";
import type { Organization } from "../../../domain/organization/index.js";
import type { Realm } from "../../../domain/realm/index.js";
import type { Device, User } from "../../../domain/user/index.js";

/** An invitation with the state of its SAS-exchange conduit and the claimer connections present. */
export interface MemoryInvitationRecord {
  /** As created or deleted; its `status` is computed from `deleted` and `presence` when read. */
  invitation: Invitation;
  conduit: Conduit;
  /** Connection ids of the claimers connected with this invitation. */
  readonly presence: Set<string>;
}

/** Everything the memory adapters keep for one organization's users and invitations. */
export interface MemoryOrganizationData {
  organization: Organization;
  readonly users: Map<UserID, User>;
  readonly devices: Map<DeviceID, Device>;
  /** By token, in creation order. */
  readonly invitations: Map<string, MemoryInvitationRecord>;
  /** Inbox of each user, oldest first. */
  readonly messages: Map<UserID, Message[]>;
}

/**
 * The shared in-memory state behind every memory repository (one per server process). Realms live apart from the
 * organization records so that the realm, vlob and block repositories (which read realm roles on hot paths) share
 * them without the organization having to exist first.
 */
export class MemoryStore {
  readonly organizations = new Map<OrganizationID, MemoryOrganizationData>();
  readonly realms = new Map<OrganizationID, Map<RealmID, Realm>>();

  /** The realms of an organization (created empty on first use). */
  realmsOf(organizationId: OrganizationID): Map<RealmID, Realm> {
    let map = this.realms.get(organizationId);
    if (!map) this.realms.set(organizationId, (map = new Map()));
    return map;
  }
}
