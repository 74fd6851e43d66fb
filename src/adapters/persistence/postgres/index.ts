import type { DatabasePool } from "slonik";
import type { DateTime } from "../../../domain/time.js";
import { PgBlockRepository } from "./block-repository.js";
import { PgInvitationRepository, PgProcessRegistry } from "./invitation-repository.js";
import { PgMessageRepository } from "./message-repository.js";
import { PgOrganizationRepository } from "./organization-repository.js";
import { PgRealmRepository } from "./realm-repository.js";
import { PgUnitOfWork, type PgUnitOfWorkEvents } from "./unit-of-work.js";
import { PgUserRepository } from "./user-repository.js";
import { PgVlobRepository, type StatementNotifications } from "./vlob-repository.js";

export {
  asPermissionError,
  checkPrivileges,
  connectDatabase,
  DatabasePermissionError,
  DatabaseUnreachableError,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  pgConnectionString,
  type SessionIdentity,
} from "./connection.js";
export {
  applyMigrations,
  checkSchema,
  DEFAULT_MIGRATIONS_DIRECTORY,
  inspectMigrations,
  loadMigrations,
  MIGRATION_LOCK_KEY,
  MigrationDirectoryError,
} from "./migrations.js";
export type {
  ApplyOptions,
  ApplyOutcome,
  MigrationEvent,
  MigrationFile,
  MigrationOptions,
  MigrationRecord,
  MigrationSession,
  SchemaCheck,
  SchemaStatus,
} from "./migrations.js";
export { createParsecPool, DEFAULT_STATEMENT_TIMEOUT_MS, type PoolOptions } from "./pool.js";
export { PgTx, PgUnitOfWork, type PgUnitOfWorkEvents } from "./unit-of-work.js";
export { QueryTimeoutError } from "./errors.js";
export { PgOrganizationRepository } from "./organization-repository.js";
export { PgUserRepository } from "./user-repository.js";
export { PgInvitationRepository, PgProcessRegistry, PROCESS_LIVENESS_SECONDS } from "./invitation-repository.js";
export { PgMessageRepository } from "./message-repository.js";
export { PgRealmRepository } from "./realm-repository.js";
export { PgVlobRepository, type StatementNotifications } from "./vlob-repository.js";
export { PgBlockRepository } from "./block-repository.js";

/** Options of {@link createPostgresPersistence}. */
export interface PostgresPersistenceOptions {
  /** This server process's id (claimer presence rows belong to it). */
  readonly processId: string;
  readonly events?: PgUnitOfWorkEvents;
  /** Dates the statistics asked without a date. */
  readonly now: () => DateTime;
  /** Seconds after its last heartbeat a server process stops counting as alive (default 30; tests shorten it). */
  readonly livenessSeconds?: number;
  /** Seconds between heartbeats (default 10), and after which a silent process's rows are deleted (default 120). */
  readonly heartbeatSeconds?: number;
  readonly expireSeconds?: number;
  /** Told about failed heartbeats (database away). */
  readonly onHeartbeatError?: (err: unknown) => void;
  /**
   * The PostgreSQL event bus's notifications for statements that announce their own writes; with them `vlob_update`
   * takes one autocommit statement (`PgVlobRepository.updateIfUnchanged`), without them a locked transaction.
   */
  readonly notifications?: StatementNotifications;
  /**
   * The block store is `PostgresBlockStore` on the same pool (`--blockstore=POSTGRESQL`): `block_read` then reads
   * each payload with its metadata, in one query (`PgBlockRepository` with `payloads`).
   */
  readonly blockPayloads?: boolean;
}

/**
 * Every PostgreSQL persistence adapter on one slonik pool, sharing one unit of work, plus the process registry that
 * must be started (and stopped) with the server for claimer presence to work.
 */
export const createPostgresPersistence = (pool: DatabasePool, options: PostgresPersistenceOptions) => {
  const uow = new PgUnitOfWork(pool, options.events);
  return {
    uow,
    organizations: new PgOrganizationRepository(uow, options.now),
    users: new PgUserRepository(uow),
    invitations: new PgInvitationRepository(uow, options.processId, options.livenessSeconds),
    messages: new PgMessageRepository(uow),
    realms: new PgRealmRepository(uow),
    vlobs: new PgVlobRepository(uow, options.notifications),
    blocks: new PgBlockRepository(uow, { payloads: options.blockPayloads ?? false }),
    processes: new PgProcessRegistry(uow, options.processId, {
      heartbeatSeconds: options.heartbeatSeconds,
      expireSeconds: options.expireSeconds,
      onError: options.onHeartbeatError,
    }),
  };
};
