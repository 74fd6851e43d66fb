import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe } from "vitest";
import type { DatabasePool } from "slonik";
import { PostgresBlockStore } from "../../src/adapters/blockstore/postgres/index.js";
import { PostgresEventBus } from "../../src/adapters/events/postgres/index.js";
import { createParsecPool, createPostgresPersistence } from "../../src/adapters/persistence/postgres/index.js";
import { DateTime } from "../../src/domain/time.js";
import { createTestDatabase, dropTestDatabase } from "../support/postgres.js";
import { blockStoreContract, eventBusContract, persistenceContracts, type Make, type PersistencePorts } from "./index.js";

/**
 * Every contract suite on the PostgreSQL adapters, on a real PostgreSQL (the test cluster), in one migrated database
 * for this file: the suites keep to organizations of their own, so the adapters are shared by every test.
 */

let database: { name: string; url: string };
let pool: DatabasePool;
let persistence: ReturnType<typeof createPostgresPersistence>;
const buses: PostgresEventBus[] = [];
/** What the buses reported (a contract test makes a subscriber throw on purpose). */
const busErrors: { message: string; context: Record<string, unknown> }[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = await createParsecPool(database.url, { minConnections: 2, maxConnections: 30 });
  persistence = createPostgresPersistence(pool, { processId: randomUUID(), now: () => DateTime.fromEpochMilliseconds(Date.now()) });
  await persistence.processes.start();
});

afterAll(async () => {
  for (const bus of buses) await bus.close();
  await persistence?.processes.stop();
  await pool?.end();
  if (database) await dropTestDatabase(database.name);
});

const postgresPersistence: Make<PersistencePorts> = async () => persistence;

const newBus = async (): Promise<PostgresEventBus> => {
  const bus = new PostgresEventBus({
    listenUrl: database.url,
    executorOf: (tx) => persistence.uow.executorOf(tx),
    processId: randomUUID(),
    onError: (message, context) => busErrors.push({ message, context }),
  });
  await bus.start();
  buses.push(bus);
  return bus;
};

describe("postgresql persistence", () => {
  for (const contract of persistenceContracts) contract(postgresPersistence);
});

describe("postgresql block store", () => {
  blockStoreContract(async () => ({ store: new PostgresBlockStore(pool) }));
});

describe("postgresql event bus", () => {
  let events: PostgresEventBus;
  let peer: PostgresEventBus;
  beforeAll(async () => {
    events = await newBus();
    peer = await newBus();
  });
  eventBusContract(async () => ({ uow: persistence.uow, events, peer }));
});
