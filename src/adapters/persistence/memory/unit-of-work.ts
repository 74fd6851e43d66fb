import type { OrganizationID } from "../../../domain/ids.js";
import type { Tx, UnitOfWork } from "../../../application/ports/index.js";

/** A memory transaction: collects commit callbacks and journals undo steps for rollback. */
export class MemoryTx implements Tx {
  private readonly commitCallbacks: (() => void)[] = [];
  private readonly undoSteps: (() => void)[] = [];

  onCommit(callback: () => void): void {
    this.commitCallbacks.push(callback);
  }

  /** Registers how to revert a change made in this transaction (applied in reverse order on rollback). */
  onRollback(undo: () => void): void {
    this.undoSteps.push(undo);
  }

  /** @internal Runs every commit callback, then rethrows the first error one of them threw (the commit stands). */
  commit(): void {
    let failure: { error: unknown } | null = null;
    for (const callback of this.commitCallbacks) {
      try {
        callback();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** @internal */
  rollback(): void {
    for (const undo of this.undoSteps.reverse()) undo();
  }
}

/**
 * Serialises units of work per organization (a promise chain per organization id):
 * two runs on one organization never interleave, runs on different organizations do.
 */
export class MemoryUnitOfWork implements UnitOfWork {
  private readonly tails = new Map<OrganizationID, Promise<unknown>>();

  async run<T>(organizationId: OrganizationID, work: (tx: Tx) => Promise<T>): Promise<T> {
    const previous = this.tails.get(organizationId) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(organizationId, tail);
    await previous;
    const tx = new MemoryTx();
    try {
      let result: T;
      try {
        result = await work(tx);
      } catch (err) {
        tx.rollback();
        throw err;
      }
      tx.commit();
      return result;
    } finally {
      release();
      if (this.tails.get(organizationId) === tail) this.tails.delete(organizationId);
    }
  }
}
