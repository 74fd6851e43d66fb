/**
 * The contract suites: one per driven port, written against the ports only (and the builders of `fixtures.ts`), so
 * that every adapter of a port runs the very same tests.
 *
 * Plugging in an adapter family (e.g. PostgreSQL) takes one test file, `test/contract/<family>.test.ts`:
 *
 * ```ts
 * const persistence: Make<PersistencePorts> = async () => {
 *   const ports = await openMyAdapters();            // every repository and the unit of work, on one store
 *   return { ...ports, cleanup: () => ports.close() }; // `cleanup` runs after each test (close pools, listeners)
 * };
 * describe("<family> persistence", () => {
 *   for (const contract of persistenceContracts) contract(persistence);
 * });
 * describe("<family> event bus", () => {
 *   // `uow` must hand out the transactions this bus publishes in; `peer`: a second bus on the same store, if any
 *   eventBusContract(async () => ({ uow, events, peer, cleanup }));
 * });
 * describe("<family> block store", () => blockStoreContract(async () => ({ store })));
 * ```
 *
 * Rules the suites rely on, so that a store shared by every test (one database per test file) needs no cleaning:
 * - every test works in organizations of its own (`newOrganizationId`) and random realm, vlob, block and token ids;
 * - each test creates, through the ports, every row the others refer to (organization, users, devices, realms), so a
 *   store with foreign keys accepts the writes;
 * - `Make` may return the same adapters for every test, or fresh ones; `cleanup` is optional;
 * - concurrency cases (`race`) start about 20 transactions at once: a pool needs no more connections than that, as no
 *   test reads outside its transaction while holding a lock.
 */
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

/** Every persistence suite, to run on one adapter family's {@link PersistencePorts}. */
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
