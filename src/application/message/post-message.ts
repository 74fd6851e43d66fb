import type { DeviceID, OrganizationID, UserID } from "../../domain/ids.js";
import type { DateTime } from "../../domain/time.js";
import type { ApplicationDeps } from "../deps.js";
import type { Tx } from "../ports/index.js";

/**
 * Posts a message to a user's inbox inside the caller's unit of work and publishes
 * `message.received` with the transaction (delivered after commit). Used by the realm use cases (sharing notices, re-encryption).
 */
export const postMessage =
  (deps: Pick<ApplicationDeps, "messages" | "events">) =>
  async (tx: Tx, organizationId: OrganizationID, recipient: UserID, message: { sender: DeviceID; timestamp: DateTime; body: Buffer }): Promise<number> => {
    const index = await deps.messages.post(tx, organizationId, recipient, message);
    await deps.events.publish(tx, { type: "message.received", organizationId, author: message.sender, recipient, index });
    return index;
  };
