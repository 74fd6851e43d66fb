import { sql, type CommonQueryMethods, type DatabasePool, type QuerySqlToken } from "slonik";
import { z } from "zod";
import type { Tx, UnitOfWork } from "../../../application/ports/index.js";
import type { OrganizationID } from "../../../domain/ids.js";
import { guarded, guardedPool, translateError } from "./errors.js";

/** A PostgreSQL transaction: its slonik connection, and the callbacks to run once it has committed. */
export class PgTx implements Tx {
  private readonly commitCallbacks: (() => void)[] = [];
  /** The transaction's connection, reporting outages as `StorageUnavailableError`. */
  readonly connection: CommonQueryMethods;

  constructor(connection: CommonQueryMethods) {
    this.connection = guarded(connection);
  }

  onCommit(callback: () => void): void {
    this.commitCallbacks.push(callback);
  }

  /** @internal Runs the commit callbacks; a throwing one is reported, the others still run (the commit stands). */
  committed(onError: (err: unknown) => void): void {
    for (const callback of this.commitCallbacks) {
      try {
        callback();
      } catch (err) {
        onError(err);
      }
    }
  }
}

const BEGIN = sql.unsafe`BEGIN`;
const COMMIT = sql.unsafe`COMMIT`;
const ROLLBACK = sql.unsafe`ROLLBACK`;

/** SQLSTATEs after which a whole transaction may simply be run again: serialization failure, deadlock. */
const RETRYABLE = new Set(["40001", "40P01"]);

const sqlStateOf = (err: unknown): string | undefined => {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return undefined;
};

/** Whether `err` is a deadlock or serialization failure: what simply running the same work again may not meet. */
export const isRetryable = (err: unknown): boolean => {
  const sqlState = sqlStateOf(err);
  return sqlState !== undefined && RETRYABLE.has(sqlState);
};

/** What {@link PgUnitOfWork} reports. */
export interface PgUnitOfWorkEvents {
  /** A transaction hit a deadlock or serialization failure and is run again (`attempt` starts at 1). */
  readonly retried?: (info: { readonly organizationId: OrganizationID; readonly attempt: number; readonly sqlState: string }) => void;
  /** A commit callback threw. */
  readonly callbackFailed?: (err: unknown) => void;
}

/**
 * {@link UnitOfWork} on a slonik pool: each run is one READ COMMITTED transaction on one pooled connection, whose
 * {@link PgTx} the repositories use (their row locks are documented on the ports). A run that fails with a deadlock
 * (40P01) or serialization failure (40001) is rolled back and run again, up to `maxAttempts` times with a short
 * random pause, so that a concurrency outcome is never an internal error; any other throw rolls back and rethrows
 * (an unreachable or lost database as `StorageUnavailableError`).
 */
export class PgUnitOfWork implements UnitOfWork {
  private readonly guardedPool: CommonQueryMethods;

  constructor(
    private readonly pool: DatabasePool,
    private readonly events: PgUnitOfWorkEvents = {},
    private readonly maxAttempts = 5,
  ) {
    this.guardedPool = guardedPool(pool);
  }

  async run<T>(organizationId: OrganizationID, work: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let tx: PgTx | null = null;
      try {
        // A transaction by hand on one pooled connection rather than `pool.transaction`: slonik tracks the latter with
        // an AsyncLocalStorage, which on Node 20 turns on promise hooks for the whole process (measured: every query
        // and every WebSocket request pays ~20 % more CPU from then on).
        const result = await this.pool.connect(async (connection) => {
          await connection.query(BEGIN);
          try {
            tx = new PgTx(connection);
            const value = await work(tx);
            await connection.query(COMMIT);
            return value;
          } catch (err) {
            await connection.query(ROLLBACK).catch(() => undefined);
            throw err;
          }
        });
        (tx as PgTx | null)?.committed((err) => this.events.callbackFailed?.(err));
        return result;
      } catch (err) {
        const sqlState = sqlStateOf(err);
        if (sqlState === undefined || !RETRYABLE.has(sqlState) || attempt >= this.maxAttempts) return translateError(err);
        this.events.retried?.({ organizationId, attempt, sqlState });
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  }

  /** The connection repositories run on: the transaction's, or the pool's outside a transaction. */
  connectionOf(tx: Tx | undefined | null): CommonQueryMethods {
    return tx ? (tx as PgTx).connection : this.guardedPool;
  }

  /**
   * A raw-SQL executor (`$1`-style placeholders) on the transaction's connection or the pool, for adapters of other
   * families that must write in the same transaction (the PostgreSQL event bus's `pg_notify`), handed over by the
   * composition root.
   */
  executorOf(tx: Tx | null): { query(text: string, values: readonly unknown[]): Promise<{ readonly rows: readonly unknown[] }> } {
    const connection = this.connectionOf(tx);
    return {
      query: async (text, values) => {
        const token = { type: Symbol.for("SLONIK_TOKEN_QUERY"), sql: text, values, parser: z.any() } as unknown as QuerySqlToken;
        const result = await connection.query(token);
        return { rows: result.rows };
      },
    };
  }
}
