import type { OrganizationID, UserID } from "../../../domain/ids.js";
import type { Invitation } from "../../../domain/invite/index.js";
import type { Message } from "../../../domain/message/index.js";
import type { Organization } from "../../../domain/organization/index.js";
import type { Device, User } from "../../../domain/user/index.js";

/** Everything the memory adapters keep for one organization. */
export interface MemoryOrganizationData {
  organization: Organization;
  readonly users: Map<string, User>;
  readonly devices: Map<string, Device>;
  readonly invitations: Map<string, Invitation>;
  /** Inbox of each user, oldest first. */
  readonly messages: Map<UserID, Message[]>;
}

/** The shared in-memory state behind every memory repository (one per server process). */
export class MemoryStore {
  readonly organizations = new Map<OrganizationID, MemoryOrganizationData>();
}
