import type { BackendEvent, EventBus, EventSubscriber, Tx, Unsubscribe } from "../../src/application/ports/index.js";
import type { OrganizationID } from "../../src/domain/ids.js";

/**
 * An {@link EventBus} over another (the test app's memory bus) that lets a test see and disturb delivery as a
 * multi-process bus could: it counts live subscriptions, can swallow events on their way to subscribers (as if their
 * notification were lost), and can signal a gap to the subscribers of an organization (as after a reconnection).
 */
export class ObservedEventBus implements EventBus {
  private readonly subscriptions = new Set<{ readonly organizationId: OrganizationID; readonly subscriber: EventSubscriber }>();
  /** Events for which this returns true reach no subscriber (they are still published, and recorded by the inner bus). */
  swallow: (event: BackendEvent) => boolean = () => false;

  constructor(private readonly inner: EventBus) {}

  /** Subscriptions not released yet. */
  get live(): number {
    return this.subscriptions.size;
  }

  publish(tx: Tx, event: BackendEvent): Promise<void> {
    return this.inner.publish(tx, event);
  }

  publishNow(event: BackendEvent): Promise<void> {
    return this.inner.publishNow(event);
  }

  subscribe(organizationId: OrganizationID, subscriber: EventSubscriber): Unsubscribe {
    const entry = { organizationId, subscriber };
    this.subscriptions.add(entry);
    const unsubscribe = this.inner.subscribe(organizationId, {
      event: (event) => {
        if (!this.swallow(event)) subscriber.event(event);
      },
      gap: () => subscriber.gap?.(),
    });
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.subscriptions.delete(entry);
      unsubscribe();
    };
  }

  /** Tells every live subscriber of `organizationId` that events may have been lost. */
  gap(organizationId: OrganizationID): void {
    for (const { organizationId: subscribed, subscriber } of [...this.subscriptions]) if (subscribed === organizationId) subscriber.gap?.();
  }
}
