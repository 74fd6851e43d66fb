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
  private lostBecause: "overflow" | "gap" | null = null;

  /**
   * @param capacity Events kept before the subscription is deemed overflowed.
   * @param onLost Called once, when the subscription overflows or the bus reports a gap (events may be missing).
   */
  constructor(
    private readonly capacity: number,
    private readonly onLost: (reason: "overflow" | "gap") => void = () => {},
  ) {}

  /** Binds the bus subscription this queue is fed by, released by {@link close} or an overflow. */
  attach(unsubscribe: Unsubscribe): void {
    this.unsubscribe = unsubscribe;
  }

  /**
   * Why the subscription stopped being trustworthy, or null: `overflow` once more than `capacity` events were pending,
   * `gap` once the bus reported that events may have been lost. Either way the queue was dropped, no more events are
   * taken, and the connection should be closed so that its client reconnects and resynchronises.
   */
  get lost(): "overflow" | "gap" | null {
    return this.lostBecause;
  }

  /** Queues an event and wakes the waiting listeners; past capacity, the subscription is lost instead. */
  push(event: ClientEvent): void {
    if (this.lostBecause) return;
    if (this.queue.length >= this.capacity) this.lose("overflow");
    else {
      this.queue.push(event);
      this.wakeAll();
    }
  }

  /** Events may be missing (`gap`) or too many piled up (`overflow`): drops the queue and calls `onLost` once. */
  lose(reason: "overflow" | "gap"): void {
    if (this.lostBecause) return;
    this.lostBecause = reason;
    this.queue.length = 0;
    this.release();
    this.onLost(reason);
    this.wakeAll();
  }

  /** The oldest pending event, removed from the queue. */
  shift(): ClientEvent | undefined {
    return this.queue.shift();
  }

  /** Resolves at the next {@link push}, loss or {@link close}, or when `signal` aborts. */
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
