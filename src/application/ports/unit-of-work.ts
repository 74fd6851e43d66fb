import type { OrganizationID } from "../../domain/ids.js";

/** An open transaction handed out by {@link UnitOfWork.run}; adapters keep their own state behind it. */
export interface Tx {
  /** Runs `callback` once the transaction has committed (never after a rollback). */
  onCommit(callback: () => void): void;
}

/**
 * Runs rules that must hold under concurrency as one atomic step, scoped to an organization.
 * PostgreSQL: a transaction with row locks; memory: serialised per organization.
 * Events published with the transaction are delivered only after it commits; a throw rolls back.
 */
export interface UnitOfWork {
  run<T>(organizationId: OrganizationID, work: (tx: Tx) => Promise<T>): Promise<T>;
}
