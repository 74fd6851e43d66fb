import type { Logger } from "pino";
import { createApplication, type Application } from "../application/index.js";
import { randomUUID } from "node:crypto";
import type { ApplicationDeps } from "../application/index.js";
import type { BlockStore, EmailSender, EventBus } from "../application/ports/index.js";
import { DEFAULT_ORGANIZATION_SETTINGS } from "../domain/organization/index.js";
import { MockedEmailSender, SmtpEmailSender, type SmtpSecurity } from "../adapters/email/index.js";
import { MemoryBlockStore } from "../adapters/blockstore/memory/index.js";
import { PostgresBlockStore } from "../adapters/blockstore/postgres/index.js";
import { Raid0BlockStore, Raid1BlockStore, Raid5BlockStore, TimeoutBlockStore, type RaidOptions } from "../adapters/blockstore/raid/index.js";
import { S3BlockStore } from "../adapters/blockstore/s3/index.js";
import { SwiftBlockStore } from "../adapters/blockstore/swift/index.js";
import { PostgresEventBus } from "../adapters/events/postgres/index.js";
import {
  asPermissionError,
  checkPrivileges,
  checkSchema,
  connectDatabase,
  createParsecPool,
  createPostgresPersistence,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  type SessionIdentity,
} from "../adapters/persistence/postgres/index.js";
import { MemoryEventBus } from "../adapters/events/memory/index.js";
import { createMemoryPersistence } from "../adapters/persistence/memory/index.js";
import { createWireEngine } from "../adapters/protocol/engine.js";
import { CryptoRandom, SystemClock } from "../adapters/system/index.js";
import { DEFAULT_LIMITS, startUwsServer, type TransportLimits } from "../adapters/transport/uws/index.js";
import type { BackendSettings, BlockStoreSettings, EmailSecurity, EmailSettings } from "./settings.js";

/** A started backend. */
export interface RunningBackend {
  /** The TCP port actually bound (useful with `port: 0`). */
  readonly port: number;
  readonly application: Application;
  /** Stops accepting connections, closes every session with 1001 (going away), resolves when done. */
  stop(): Promise<void>;
}

/** Raised for settings that are valid but name something this build cannot run yet. */
export class UnsupportedSettingError extends Error {
  override readonly name = "UnsupportedSettingError";
}

/** `MOCKED`, `S3`, `RAID1(MOCKED,S3)`… for logs. */
export const describeBlockStore = (b: BlockStoreSettings): string => ("nodes" in b ? `${b.type}(${b.nodes.map(describeBlockStore).join(",")})` : b.type);

const SMTP_SECURITY: Readonly<Record<EmailSecurity, SmtpSecurity>> = { NONE: "none", STARTTLS: "starttls", IMPLICIT_TLS: "implicit_tls" };

/**
 * The email sender the settings name: SMTP, or the mocked one, whose fresh folder is logged at startup and each
 * written email logged as Parsec does.
 */
export const buildEmailSender = async (settings: EmailSettings, logger: Logger): Promise<EmailSender> => {
  const transport = settings.transport;
  if (transport.type === "SMTP") {
    return new SmtpEmailSender({
      host: transport.host,
      port: transport.port,
      auth: transport.auth,
      security: SMTP_SECURITY[transport.security],
      sender: settings.sender,
    });
  }
  const mocked = await MockedEmailSender.create({
    sender: settings.sender,
    onWritten: ({ to, subject, file }) =>
      logger.info({ to, subject, file }, `A request to send an e-mail to ${to} has been triggered and mocked; the mail file can be found here: ${file}`),
  });
  logger.info({ folder: mocked.folder }, `Emails are mocked: they are written to ${mocked.folder}`);
  return mocked;
};

/** Time bounds of the PostgreSQL storage, in milliseconds; the defaults suit production, tests shorten them. */
export interface PostgresTimeouts {
  /**
   * A query PostgreSQL does not answer within this fails its command (HTTP 503, WebSocket closed with 1013) and its
   * connection is destroyed; default: the statement timeout (30 000) + 5 000.
   */
  readonly queryTimeoutMs?: number;
  /** A new pool connection not established within this fails (tried twice); default 5 000. */
  readonly connectionTimeoutMs?: number;
  /**
   * Each step of closing the storage (event bus, process deregistration, pool) is given up after this, with an
   * error logged, so that a stopped database cannot hold the process at shutdown; default 5 000.
   */
  readonly closeStepTimeoutMs?: number;
}

/** Default {@link PostgresTimeouts.closeStepTimeoutMs}. */
export const DEFAULT_CLOSE_STEP_TIMEOUT_MS = 5_000;

/** Runs `work`, logging its failure, or giving up on it (logged too) after `timeoutMs`. */
const closeStep = async (logger: Logger, what: string, timeoutMs: number, work: () => Promise<unknown>): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    Promise.resolve()
      .then(work)
      .then(
        () => "done" as const,
        (err: unknown) => ({ err }),
      ),
    new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome === "timeout") logger.error({ timeout_ms: timeoutMs }, `${what} did not finish within ${timeoutMs / 1000} s (PostgreSQL not answering?); given up`);
  else if (outcome !== "done") logger.error({ err: outcome.err }, `${what} failed`);
};

/**
 * Why this build cannot serve the `--blockstore` settings, or null when it can: a RAID node cannot be POSTGRESQL (every node would be the one table of the database), POSTGRESQL needs a PostgreSQL
 * `--db`.
 */
export const blockStoreProblem = (blockstore: BlockStoreSettings, db: BackendSettings["db"]): string | null => {
  switch (blockstore.type) {
    case "MOCKED":
      return null;
    case "POSTGRESQL":
      return db.type === "POSTGRESQL" ? null : "--blockstore=POSTGRESQL stores blocks in the --db database: it needs --db=postgresql://…";
    case "S3":
    case "SWIFT":
      return null;
    default: {
      for (const [index, node] of blockstore.nodes.entries()) {
        if (node.type === "POSTGRESQL")
          return `--blockstore: ${blockstore.type} node ${index} is POSTGRESQL; every node would be the same table of the --db database (use POSTGRESQL alone)`;
        const problem = blockStoreProblem(node, db);
        if (problem !== null) return problem;
      }
      return null;
    }
  }
};

/** The S3 and Swift block stores {@link buildBlockStore} made, to check at start-up and to close at shutdown. */
type ObjectStores = (S3BlockStore | SwiftBlockStore)[];

/** Bound of one block store call on an object storage node, in milliseconds (each request is bounded too). */
const OBJECT_STORE_CALL_TIMEOUT_MS = 15_000;

/**
 * A node of the object storage could not be used at start-up (no such bucket, access denied, unreachable):
 * `parsec backend run` exits 1 with the message, which names the node, never its credentials.
 */
export class BlockStoreUnavailableError extends Error {
  override readonly name = "BlockStoreUnavailableError";
}

/** Checks every object storage node of the block store (S3 HeadBucket, Swift authentication and HEAD container). @throws BlockStoreUnavailableError */
const checkObjectStores = async (stores: ObjectStores, what: string): Promise<void> => {
  for (const [index, store] of stores.entries()) {
    try {
      await store.checkReady();
    } catch (err) {
      const node = stores.length > 1 ? ` (object storage node ${index})` : "";
      throw new BlockStoreUnavailableError(`--blockstore ${what}${node}: ${(err as Error).message}`, { cause: err });
    }
  }
};

/**
 * The block store of the settings (checked by {@link blockStoreProblem}): memory, the `--db` database's table, an
 * S3 bucket or a Swift container (each call bounded by {@link OBJECT_STORE_CALL_TIMEOUT_MS}), or a RAID of those
 * whose node failures are logged as warnings naming the node. S3 and Swift stores are added to `objectStores`.
 */
const buildBlockStore = (
  blockstore: BlockStoreSettings,
  pool: ConstructorParameters<typeof PostgresBlockStore>[0] | null,
  logger: Logger,
  objectStores: ObjectStores,
): BlockStore => {
  switch (blockstore.type) {
    case "MOCKED":
      return new MemoryBlockStore();
    case "POSTGRESQL":
      if (!pool) throw new UnsupportedSettingError("--blockstore=POSTGRESQL needs --db=postgresql://…");
      return new PostgresBlockStore(pool);
    case "S3": {
      const store = new S3BlockStore({
        endpointUrl: blockstore.endpointUrl,
        region: blockstore.region,
        bucket: blockstore.bucket,
        accessKeyId: blockstore.key,
        secretAccessKey: blockstore.secret,
      });
      objectStores.push(store);
      return new TimeoutBlockStore(store, OBJECT_STORE_CALL_TIMEOUT_MS);
    }
    case "SWIFT": {
      const store = new SwiftBlockStore({
        authUrl: blockstore.authUrl,
        tenant: blockstore.tenant,
        container: blockstore.container,
        user: blockstore.user,
        password: blockstore.password,
      });
      objectStores.push(store);
      return new TimeoutBlockStore(store, OBJECT_STORE_CALL_TIMEOUT_MS);
    }
    default: {
      const nodes = blockstore.nodes.map((node) => buildBlockStore(node, pool, logger, objectStores));
      const options: RaidOptions = {
        onNodeError: (node, operation, err) => logger.warn({ raid: blockstore.type, node, operation, err: err.message }, "RAID block store node failed"),
      };
      if (blockstore.type === "RAID0") return new Raid0BlockStore(nodes);
      return blockstore.type === "RAID1" ? new Raid1BlockStore(nodes, options) : new Raid5BlockStore(nodes, options);
    }
  }
};

/** Whether some payloads of `blockstore` live in the server's memory (MOCKED, or a RAID with MOCKED nodes). */
const keepsBlocksInMemory = (blockstore: BlockStoreSettings): boolean =>
  blockstore.type === "MOCKED" || ("nodes" in blockstore && blockstore.nodes.some(keepsBlocksInMemory));

/** The storage adapters the settings name, with how to release them. */
interface Storage {
  readonly persistence: Pick<ApplicationDeps, "uow" | "organizations" | "users" | "invitations" | "messages" | "realms" | "vlobs" | "blocks">;
  readonly events: EventBus;
  readonly blockStore: BlockStore;
  /** Releases connections and timers (after the transport stopped). */
  close(): Promise<void>;
}

const memoryStorage = (blockstore: BlockStoreSettings, clock: SystemClock, logger: Logger, objectStores: ObjectStores): Storage => {
  logger.warn("--db=MOCKED: every organization, user and vlob is kept in memory and lost when the server stops");
  return {
    persistence: createMemoryPersistence(() => clock.now()),
    events: new MemoryEventBus((err, event) => logger.error({ err, event: event.type }, "Event subscriber failed")),
    blockStore: buildBlockStore(blockstore, null, logger, objectStores),
    close: async () => {
      for (const store of objectStores) store.destroy();
    },
  };
};

/**
 * PostgreSQL storage: refuses (DatabasePermissionError, exit 2) a role that lacks privileges on the schema's tables
 * and (UnsupportedSettingError, exit 2) a database whose schema is not exactly this build's migrations; connects the
 * pool, the process registry (claimer presence) and the LISTEN/NOTIFY event bus. Every query is bounded by
 * `timeouts.queryTimeoutMs`, every step of `close` by `timeouts.closeStepTimeoutMs`.
 * @throws DatabaseUnreachableError when the database cannot be reached.
 */
const postgresStorage = async (
  db: Extract<BackendSettings["db"], { type: "POSTGRESQL" }>,
  blockstore: BlockStoreSettings,
  clock: SystemClock,
  logger: Logger,
  timeouts: PostgresTimeouts,
  objectStores: ObjectStores,
): Promise<Storage> => {
  const queryTimeoutMs = timeouts.queryTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS + 5_000;
  const closeStepTimeoutMs = timeouts.closeStepTimeoutMs ?? DEFAULT_CLOSE_STEP_TIMEOUT_MS;
  const probe = await connectDatabase(db.url, { queryTimeoutMs });
  let session: SessionIdentity | null = null;
  try {
    session = await checkPrivileges(probe);
    const schema = await checkSchema(probe);
    if (!schema.ok) throw new UnsupportedSettingError(`--db: ${schema.error}`);
  } catch (err) {
    throw (session && asPermissionError(err, session)) ?? err;
  } finally {
    await closeStep(logger, "Closing the start-up PostgreSQL session", closeStepTimeoutMs, () => probe.end());
  }
  const processId = randomUUID();
  const pool = await createParsecPool(db.url, {
    minConnections: db.minConnections,
    maxConnections: db.maxConnections,
    queryTimeoutMs,
    ...(timeouts.connectionTimeoutMs !== undefined && { connectionTimeoutMs: timeouts.connectionTimeoutMs }),
  });
  // The bus writes on the persistence's transactions, and the persistence announces some writes through the bus.
  const events: PostgresEventBus = new PostgresEventBus({
    listenUrl: db.url,
    executorOf: (tx) => persistence.uow.executorOf(tx),
    processId,
    onError: (message, context) => logger.error(context, message),
  });
  const persistence = createPostgresPersistence(pool, {
    processId,
    notifications: events,
    blockPayloads: blockstore.type === "POSTGRESQL",
    now: () => clock.now(),
    onHeartbeatError: (err) => logger.warn({ err: (err as Error).message }, "Server process heartbeat failed (claimer presence)"),
    events: {
      retried: (info) => logger.warn(info, "Transaction retried after a deadlock or serialization failure"),
      callbackFailed: (err) => logger.error({ err }, "Commit callback failed"),
    },
  });
  try {
    await persistence.processes.start();
    await events.start();
  } catch (err) {
    await closeStep(logger, "Event bus close", closeStepTimeoutMs, () => events.close());
    await closeStep(logger, "Pool close", closeStepTimeoutMs, () => pool.end());
    throw asPermissionError(err, session) ?? err;
  }
  logger.info({ process_id: processId }, "Connected to PostgreSQL");
  if (keepsBlocksInMemory(blockstore))
    logger.warn(`--blockstore=${describeBlockStore(blockstore)}: block payloads are kept in this process's memory, lost when it stops and not seen by other server processes`);
  return {
    persistence,
    events,
    blockStore: buildBlockStore(blockstore, pool, logger, objectStores),
    close: async () => {
      await closeStep(logger, "Event bus close", closeStepTimeoutMs, () => events.close());
      await closeStep(logger, "Process deregistration", closeStepTimeoutMs, () => persistence.processes.stop());
      await closeStep(logger, "Pool close", closeStepTimeoutMs, () => pool.end());
      for (const store of objectStores) store.destroy();
    },
  };
};

/**
 * The composition root: builds the adapters the settings name (memory or PostgreSQL persistence and events, memory
 * or PostgreSQL block store), hands them to the application, and starts the uWebSockets.js transport.
 * @throws UnsupportedSettingError for a blockstore this build cannot serve ({@link blockStoreProblem}), or a database
 *   whose schema does not match this build's migrations.
 * @throws DatabaseUnreachableError when the PostgreSQL database cannot be reached at start-up.
 * @throws DatabasePermissionError when the role of the PostgreSQL database lacks privileges on its tables.
 * @throws BlockStoreUnavailableError when an S3 or Swift node of the block store cannot be used (no bucket or container, credentials refused…).
 * @param deps.limits overrides of the transport's {@link DEFAULT_LIMITS} (frame sizes, handshaking-connection caps,
 *   queue bounds, memory budget).
 */
export const startBackend = async (
  settings: BackendSettings,
  deps: { logger: Logger; postgres?: PostgresTimeouts; limits?: Partial<TransportLimits> },
): Promise<RunningBackend> => {
  const blockStoreRefusal = blockStoreProblem(settings.blockstore, settings.db);
  if (blockStoreRefusal !== null) throw new UnsupportedSettingError(blockStoreRefusal);

  const clock = new SystemClock();
  const objectStores: ObjectStores = [];
  const storage =
    settings.db.type === "POSTGRESQL"
      ? await postgresStorage(settings.db, settings.blockstore, clock, deps.logger, deps.postgres ?? {}, objectStores)
      : memoryStorage(settings.blockstore, clock, deps.logger, objectStores);
  await checkObjectStores(objectStores, describeBlockStore(settings.blockstore)).catch(async (err: unknown) => {
    await storage.close();
    throw err;
  });
  const email = await buildEmailSender(settings.email, deps.logger).catch(async (err: unknown) => {
    await storage.close();
    throw err;
  });
  const application = createApplication({
    ...storage.persistence,
    blockStore: storage.blockStore,
    errors: { error: (message, context) => deps.logger.error(context, message) },
    events: storage.events,
    clock,
    random: new CryptoRandom(),
    config: {
      organizationDefaults: DEFAULT_ORGANIZATION_SETTINGS,
      spontaneousOrganizationBootstrap: settings.spontaneousOrganizationBootstrap,
      debug: settings.debug,
      backendAddr: settings.backendAddr,
      emailLanguage: settings.email.language,
    },
    email,
  });
  const engine = createWireEngine(application);
  const disposeEmail = async () => {
    if (email instanceof MockedEmailSender) await email.dispose();
  };
  const server = await startUwsServer(
    { host: settings.host, port: settings.port, tls: settings.tls, administrationToken: settings.administrationToken, limits: { ...DEFAULT_LIMITS, ...deps.limits } },
    application,
    engine,
    deps.logger,
  ).catch(async (err: unknown) => {
    await disposeEmail();
    await storage.close();
    throw err;
  });
  return {
    port: server.port,
    application,
    stop: async () => {
      await server.stop();
      await disposeEmail();
      await storage.close();
    },
  };
};
