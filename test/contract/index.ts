import { blockRepositoryContract } from "./block-repository.contract.js";
import { invitationRepositoryContract } from "./invitation-repository.contract.js";
import { messageRepositoryContract } from "./message-repository.contract.js";
import { organizationRepositoryContract } from "./organization-repository.contract.js";
import { realmRepositoryContract } from "./realm-repository.contract.js";
import { unitOfWorkContract } from "./unit-of-work.contract.js";
import { userRepositoryContract } from "./user-repository.contract.js";
import { vlobRepositoryContract } from "./vlob-repository.contract.js";
import type { Make, PersistencePorts } from "./fixtures.js";

export { blockStoreContract } from "./block-store.contract.js";
export { eventBusContract, type EventBusPorts } from "./event-bus.contract.js";
export type { Fixture, Make, PersistencePorts } from "./fixtures.js";
export {
  blockRepositoryContract,
  invitationRepositoryContract,
  messageRepositoryContract,
  organizationRepositoryContract,
  realmRepositoryContract,
  unitOfWorkContract,
  userRepositoryContract,
  vlobRepositoryContract,
};

export const persistenceContracts: readonly ((make: Make<PersistencePorts>) => void)[] = [
  unitOfWorkContract,
  organizationRepositoryContract,
  userRepositoryContract,
  invitationRepositoryContract,
  messageRepositoryContract,
  realmRepositoryContract,
  vlobRepositoryContract,
  blockRepositoryContract,
];
