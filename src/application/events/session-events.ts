import type { Unsubscribe } from "../ports/index.js";
import type { ClientEvent } from "./client-events.js";

/**
 * The events waiting for one subscribed connection (Parsec's per-connection event channel): a bounded
 * FIFO fed by the event bus, and the `events_listen` calls waiting for it to fill.
 */
export class SessionEvents {
  private readonly queue: ClientEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private unsubscribe: Unsubscribe | null = null;
  private overflowedFlag = false;

  /**
   * @param capacity Events kept before the subscription is deemed overflowed.
   * @param onOverflow Called once, at the overflow.
   */
  constructor(
    private readonly capacity: number,
    private readonly onOverflow: () => void = () => {},
  ) {}

  /** Binds the bus subscription this queue is fed by, released by {@link close} or an overflow. */
  attach(unsubscribe: Unsubscribe): void {
    this.unsubscribe = unsubscribe;
  }

  /** True once more than `capacity` events were pending: the queue was dropped and no more events are taken. */
  get overflowed(): boolean {
    return this.overflowedFlag;
  }

  /** Queues an event and wakes the waiting listeners; past capacity, overflows instead. */
  push(event: ClientEvent): void {
    if (this.overflowedFlag) return;
    if (this.queue.length >= this.capacity) {
      this.overflowedFlag = true;
      this.queue.length = 0;
      this.release();
      this.onOverflow();
    } else this.queue.push(event);
    this.wakeAll();
  }

  /** The oldest pending event, removed from the queue. */
  shift(): ClientEvent | undefined {
    return this.queue.shift();
  }

  /** Resolves at the next {@link push}, overflow or {@link close}, or when `signal` aborts. */
  next(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Stops taking events and wakes the waiting listeners. */
  close(): void {
    this.release();
    this.queue.length = 0;
    this.wakeAll();
  }

  private release(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
