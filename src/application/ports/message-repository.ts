import type { DeviceID, OrganizationID, UserID } from "../../domain/ids.js";
import type { Message } from "../../domain/message/index.js";
import type { DateTime } from "../../domain/time.js";
import type { Tx } from "./unit-of-work.js";

/** Persistence of users' inboxes. */
export interface MessageRepository {
  /**
   * Appends a message to `recipient`'s inbox and returns its 1-based index. Indexes are dense per recipient: the
   * recipient's counter is incremented under its own row lock (PostgreSQL), never computed as `MAX + 1`.
   */
  post(tx: Tx, organizationId: OrganizationID, recipient: UserID, message: { sender: DeviceID; timestamp: DateTime; body: Buffer }): Promise<number>;
  /** The messages of `recipient` after the first `offset` ones, oldest first. */
  list(organizationId: OrganizationID, recipient: UserID, offset: number): Promise<readonly Message[]>;
}
