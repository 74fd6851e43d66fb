import type { MessageRepository, Tx } from "../../../application/ports/index.js";
import type { DeviceID, OrganizationID, UserID } from "../../../domain/ids.js";
import type { Message } from "../../../domain/message/index.js";
import type { DateTime } from "../../../domain/time.js";
import type { MemoryStore } from "./store.js";
import type { MemoryTx } from "./unit-of-work.js";

/** {@link MessageRepository} on the memory store. */
export class MemoryMessageRepository implements MessageRepository {
  constructor(private readonly store: MemoryStore) {}

  async post(tx: Tx, organizationId: OrganizationID, recipient: UserID, message: { sender: DeviceID; timestamp: DateTime; body: Buffer }): Promise<number> {
    const data = this.store.organizations.get(organizationId);
    if (!data) throw new Error(`organization ${organizationId} is not in the memory store`);
    let inbox = data.messages.get(recipient);
    if (!inbox) data.messages.set(recipient, (inbox = []));
    const stored: Message = { index: inbox.length + 1, ...message };
    inbox.push(stored);
    const box = inbox;
    (tx as MemoryTx).onRollback(() => box.pop());
    return stored.index;
  }

  async list(organizationId: OrganizationID, recipient: UserID, offset: number): Promise<readonly Message[]> {
    return this.store.organizations.get(organizationId)?.messages.get(recipient)?.slice(offset) ?? [];
  }
}
