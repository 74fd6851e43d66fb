import type { BackendEvent, EventBus, EventSubscriber, Tx, Unsubscribe } from "../../../application/ports/index.js";
import type { OrganizationID } from "../../../domain/ids.js";

/**
 * {@link EventBus} inside one process (`--db=MOCKED`). An event published with a transaction is queued when that
 * transaction commits; queued events are delivered in order on a later turn of the event loop (`setImmediate`), so a
 * publisher's reply is sent before any subscriber runs. Never reports a gap: nothing can be lost in one process.
 */
export class MemoryEventBus implements EventBus {
  private readonly subscribers = new Map<OrganizationID, Set<EventSubscriber>>();
  private readonly queue: BackendEvent[] = [];
  private scheduled = false;
  private readonly idleWaiters: (() => void)[] = [];

  /**
   * @param onSubscriberError Told about a subscriber that threw (the other subscribers still get the event).
   * @param onCommitted Sees every event synchronously when it becomes deliverable (its transaction committed, or
   *   `publishNow`), before any subscriber does — a hook for tests and metrics.
   */
  constructor(
    private readonly onSubscriberError: (err: unknown, event: BackendEvent) => void = () => {},
    private readonly onCommitted: (event: BackendEvent) => void = () => {},
  ) {}

  async publish(tx: Tx, event: BackendEvent): Promise<void> {
    tx.onCommit(() => this.enqueue(event));
  }

  async publishNow(event: BackendEvent): Promise<void> {
    this.enqueue(event);
  }

  subscribe(organizationId: OrganizationID, subscriber: EventSubscriber): Unsubscribe {
    let set = this.subscribers.get(organizationId);
    if (!set) this.subscribers.set(organizationId, (set = new Set()));
    const entry = { ...subscriber };
    set.add(entry);
    return () => {
      const current = this.subscribers.get(organizationId);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) this.subscribers.delete(organizationId);
    };
  }

  /** Resolves once every event queued so far has been delivered (for tests and orderly shutdown). */
  idle(): Promise<void> {
    if (!this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(event: BackendEvent): void {
    this.onCommitted(event);
    this.queue.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    // Events published by subscribers while draining join this same pass, after the ones already queued.
    for (let event = this.queue.shift(); event !== undefined; event = this.queue.shift()) {
      const current = this.subscribers.get(event.organizationId);
      for (const subscriber of [...(current ?? [])]) {
        if (!current!.has(subscriber)) continue; // unsubscribed by an earlier subscriber of this very event
        try {
          subscriber.event(event);
        } catch (err) {
          this.onSubscriberError(err, event);
        }
      }
    }
    this.scheduled = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
