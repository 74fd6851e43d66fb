import type { DateTime } from "../../../domain/time.js";
import { MemoryInvitationRepository } from "./invitation-repository.js";
import { MemoryMessageRepository } from "./message-repository.js";
import { MemoryRealmRepository } from "./realm-repository.js";
import { MemoryVlobRepository } from "./vlob-repository.js";
import { MemoryBlockRepository } from "./block-repository.js";
import { MemoryOrganizationRepository } from "./organization-repository.js";
import { MemoryStore } from "./store.js";
import { MemoryUnitOfWork } from "./unit-of-work.js";
import { MemoryUserRepository } from "./user-repository.js";

export { MemoryStore } from "./store.js";
export { MemoryUnitOfWork, MemoryTx } from "./unit-of-work.js";
export { MemoryOrganizationRepository } from "./organization-repository.js";
export { MemoryUserRepository } from "./user-repository.js";
export { MemoryInvitationRepository } from "./invitation-repository.js";
export { MemoryMessageRepository } from "./message-repository.js";
export { MemoryRealmRepository } from "./realm-repository.js";
export { MemoryVlobRepository } from "./vlob-repository.js";
export { MemoryBlockRepository } from "./block-repository.js";

/** Every memory persistence adapter, sharing one store. `now` dates the statistics. */
export const createMemoryPersistence = (now: () => DateTime) => {
  const store = new MemoryStore();
  return {
    store,
    uow: new MemoryUnitOfWork(),
    organizations: new MemoryOrganizationRepository(store, now),
    users: new MemoryUserRepository(store),
    invitations: new MemoryInvitationRepository(store),
    messages: new MemoryMessageRepository(store),
    realms: new MemoryRealmRepository(store),
    vlobs: new MemoryVlobRepository(store),
    blocks: new MemoryBlockRepository(store),
  };
};
