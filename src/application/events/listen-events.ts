import { roleOf } from "../../domain/realm/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession } from "../session/session.js";
import { isRealmClientEvent, mayConcern, type ClientEvent } from "./client-events.js";
import { SessionEvents } from "./session-events.js";

/** Pending events kept per connection before it is deemed too slow (Parsec `AUTHENTICATED_CLIENT_CHANNEL_SIZE`). */
export const EVENT_QUEUE_CAPACITY = 100;

/**
 * Outcome of `events_listen`. `cancelled`: the call was aborted (the client sent another request or left)
 * and gets no reply. `overflowed`: more than {@link EVENT_QUEUE_CAPACITY} events piled up unread; Parsec
 * then closes the connection so that the client reconnects and resynchronises.
 */
export type ListenEventsOutcome =
  | { readonly kind: "ok"; readonly event: ClientEvent }
  | { readonly kind: "no_events" }
  | { readonly kind: "cancelled" }
  | { readonly kind: "overflowed" };

const NO_EVENTS: ListenEventsOutcome = { kind: "no_events" };
const CANCELLED: ListenEventsOutcome = { kind: "cancelled" };

/** Resolves when `signal` aborts. */
const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });

/**
 * The event use cases of authenticated connections, sharing the per-connection subscriptions they create.
 * A subscription lives until {@link endEventSession} (the connection closed) or until it overflows.
 * Source: Parsec v2.16.3 `EventsComponent` (`events.py`) and `AuthenticatedClientContext`.
 */
export const eventSessions = (deps: Pick<ApplicationDeps, "events" | "realms">, capacity: number = EVENT_QUEUE_CAPACITY) => {
  const subscriptions = new WeakMap<AuthenticatedSession, SessionEvents>();

  /** Whether the session's user may see `event` now: realm events need a current role in their realm. */
  const visible = async (session: AuthenticatedSession, event: ClientEvent): Promise<boolean> => {
    if (!isRealmClientEvent(event)) return true;
    const realm = await deps.realms.get(session.organizationId, event.realmId);
    return realm !== null && roleOf(realm, session.userId) !== null;
  };

  return {
    /** Authenticated `events_subscribe`: from now on the connection collects the events its user may see. Idempotent. */
    subscribeEvents: async (session: AuthenticatedSession): Promise<{ kind: "ok" }> => {
      if (!subscriptions.has(session)) {
        const queue = new SessionEvents(capacity);
        subscriptions.set(session, queue);
        queue.attach(
          deps.events.subscribe((event) => {
            if (mayConcern(session, event)) queue.push(event);
          }),
        );
      }
      return { kind: "ok" };
    },

    /**
     * Authenticated `events_listen`: the oldest pending event the user may still see (realm membership is
     * checked when the event is handed over, so an event of a realm the user just left is skipped). With
     * `wait`, blocks until one arrives or `signal` aborts; without, `no_events` when none is pending.
     * A connection that never subscribed has no events: `no_events`, or a wait that only `signal` ends.
     * A wait also ends, `cancelled`, when the connection's subscription is released.
     */
    listenEvents: async (session: AuthenticatedSession, wait: boolean, signal: AbortSignal): Promise<ListenEventsOutcome> => {
      for (;;) {
        if (signal.aborted) return CANCELLED;
        const queue = subscriptions.get(session);
        if (queue?.overflowed) return { kind: "overflowed" };
        const event = queue?.shift();
        if (event) {
          const shown = await visible(session, event);
          if (signal.aborted) {
            queue!.unshift(event);
            return CANCELLED;
          }
          if (shown) return { kind: "ok", event };
          continue;
        }
        if (!wait) return NO_EVENTS;
        if (!queue) {
          await aborted(signal);
          return CANCELLED;
        }
        await queue.next(signal);
        if (subscriptions.get(session) !== queue) return CANCELLED;
      }
    },

    /** The connection closed: releases its subscription (bus listener, pending events, waiting calls). */
    endEventSession: (session: AuthenticatedSession): void => {
      subscriptions.get(session)?.close();
      subscriptions.delete(session);
    },
  };
};
