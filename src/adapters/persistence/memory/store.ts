import type { OrganizationID, UserID } from "../../../domain/ids.js";
import type { Conduit, Invitation } from "../../../domain/invite/index.js";
import type { Message } from "../../../domain/message/index.js";
import type { Organization } from "../../../domain/organization/index.js";
import type { Device, User } from "../../../domain/user/index.js";

/** An invitation with the state of its SAS-exchange conduit. */
export interface MemoryInvitationRecord {
  invitation: Invitation;
  conduit: Conduit;
}

/** Everything the memory adapters keep for one organization. */
export interface MemoryOrganizationData {
  organization: Organization;
  readonly users: Map<string, User>;
  readonly devices: Map<string, Device>;
  /** By token, in creation order. */
  readonly invitations: Map<string, MemoryInvitationRecord>;
  /** Inbox of each user, oldest first. */
  readonly messages: Map<UserID, Message[]>;
}

/** The shared in-memory state behind every memory repository (one per server process). */
export class MemoryStore {
  readonly organizations = new Map<OrganizationID, MemoryOrganizationData>();
}
