import { describe } from "vitest";
import { MemoryBlockStore } from "../../src/adapters/blockstore/memory/index.js";
import { MemoryEventBus } from "../../src/adapters/events/memory/index.js";
import { createMemoryPersistence, MemoryUnitOfWork } from "../../src/adapters/persistence/memory/index.js";
import { DateTime } from "../../src/domain/time.js";
import { blockStoreContract, eventBusContract, persistenceContracts, type Make, type PersistencePorts } from "./index.js";

const memoryPersistence: Make<PersistencePorts> = async () => createMemoryPersistence(() => DateTime.fromEpochMilliseconds(Date.now()));

describe("memory persistence", () => {
  for (const contract of persistenceContracts) contract(memoryPersistence);
});

describe("memory block store", () => {
  blockStoreContract(async () => ({ store: new MemoryBlockStore() }));
});

describe("memory event bus", () => {
  eventBusContract(async () => ({ uow: new MemoryUnitOfWork(), events: new MemoryEventBus() }));
});
