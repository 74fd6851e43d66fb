import { randomUUID } from "node:crypto";
import { PostgresBlockStore } from "../../src/adapters/blockstore/postgres/index.js";
import { PostgresEventBus } from "../../src/adapters/events/postgres/index.js";
import { createParsecPool, createPostgresPersistence } from "../../src/adapters/persistence/postgres/index.js";
import { buildTestApp, FakeClock, type TestApp, type TestAppOptions } from "./app.js";
import { createTestDatabase, dropTestDatabase } from "./postgres.js";

/** A {@link TestApp} whose persistence, events and block store are the PostgreSQL adapters, on a fresh test database. */
export interface PostgresTestApp extends TestApp {
  readonly database: { readonly name: string; readonly url: string };
  /** Transactions the unit of work ran again after a deadlock or serialization failure. */
  readonly retries: readonly { readonly attempt: number; readonly sqlState: string }[];
  /** What the event bus reported. */
  readonly busErrors: readonly { message: string; context: Record<string, unknown> }[];
  /** Closes the bus, the process registry and the pool, and drops the database. */
  close(): Promise<void>;
}

/**
 * Builds the application on PostgreSQL (a database copied from the migrated template): the use cases run against the
 * real adapters, with their real transactions and locks. `options` as for `buildTestApp` (clock, randomness, config).
 */
export const buildPostgresTestApp = async (
  options: TestAppOptions & {
    readonly maxConnections?: number;
    /** Without the one-statement `vlob_update` (the event bus's notifications not given to the persistence). */
    readonly lockedVlobUpdates?: boolean;
    /** `block_read` asks the block store for payloads (by default the block repository reads them with the metadata). */
    readonly blocksFromStore?: boolean;
  } = {},
): Promise<PostgresTestApp> => {
  const database = await createTestDatabase();
  const pool = await createParsecPool(database.url, { minConnections: 1, maxConnections: options.maxConnections ?? 20 });
  const clock = options.clock ?? new FakeClock(options.start);
  const processId = randomUUID();
  const retries: { attempt: number; sqlState: string }[] = [];
  const busErrors: { message: string; context: Record<string, unknown> }[] = [];
  const events: PostgresEventBus = new PostgresEventBus({
    listenUrl: database.url,
    executorOf: (tx) => persistence.uow.executorOf(tx),
    processId,
    onError: (message, context) => busErrors.push({ message, context }),
  });
  const persistence = createPostgresPersistence(pool, {
    processId,
    now: () => clock.now(),
    events: { retried: (info) => void retries.push(info) },
    ...(options.lockedVlobUpdates ? {} : { notifications: events }),
    blockPayloads: !options.blocksFromStore,
  });
  await persistence.processes.start();
  await events.start();
  const t = buildTestApp({
    ...options,
    clock,
    overrides: (base) => ({
      uow: persistence.uow,
      organizations: persistence.organizations,
      users: persistence.users,
      invitations: persistence.invitations,
      messages: persistence.messages,
      realms: persistence.realms,
      vlobs: persistence.vlobs,
      blocks: persistence.blocks,
      blockStore: new PostgresBlockStore(pool),
      events,
      ...options.overrides?.(base),
    }),
  });
  return {
    ...t,
    database,
    busErrors,
    retries,
    close: async () => {
      await events.close();
      await persistence.processes.stop();
      await pool.end();
      await dropTestDatabase(database.name);
    },
  };
};
