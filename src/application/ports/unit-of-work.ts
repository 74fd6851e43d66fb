import type { OrganizationID } from "../../domain/ids.js";

/** An open transaction handed out by {@link UnitOfWork.run}; adapters keep their own state (connection, journal) behind it. */
export interface Tx {
  /** Runs `callback` once the transaction has committed (never after a rollback, never for an attempt that was retried). */
  onCommit(callback: () => void): void;
}

/**
 * Runs rules that must hold under concurrency as one atomic step.
 *
 * - PostgreSQL: a transaction (READ COMMITTED) whose repositories take the row locks their TSDoc names, always in
 *   this order: organization row (bootstrap; user creation under an active-users limit) → per-email lock (user
 *   creation) → realm row (`FOR UPDATE`: role changes, maintenance, vlob writes; `FOR KEY SHARE`: block creation) →
 *   invitation row → recipient inbox counter. A deadlock or serialization failure (40P01, 40001) re-runs `work` a
 *   bounded number of times, so `work` must have no effect outside `tx` (events go through `EventBus.publish(tx, …)`).
 * - Memory: runs of one organization are serialised (no interleaving), runs of different organizations are not.
 *
 * `work`'s result is committed; a throw rolls everything back (and rethrows). `organizationId` scopes the memory
 * adapter's serialisation; the PostgreSQL adapter uses it only for logs.
 */
export interface UnitOfWork {
  run<T>(organizationId: OrganizationID, work: (tx: Tx) => Promise<T>): Promise<T>;
}
