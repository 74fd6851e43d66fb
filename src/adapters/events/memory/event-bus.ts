import type { BackendEvent, EventBus, Tx, Unsubscribe } from "../../../application/ports/index.js";

/** {@link EventBus} inside one process: synchronous fan-out, deferred to commit when published with a transaction. */
export class MemoryEventBus implements EventBus {
  private readonly listeners = new Set<(event: BackendEvent) => void>();

  constructor(private readonly onListenerError: (err: unknown, event: BackendEvent) => void = () => {}) {}

  publish(event: BackendEvent, tx?: Tx): void {
    if (tx) tx.onCommit(() => this.deliver(event));
    else this.deliver(event);
  }

  subscribe(listener: (event: BackendEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private deliver(event: BackendEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
