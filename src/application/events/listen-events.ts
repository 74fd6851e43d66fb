import type { RealmID } from "../../domain/ids.js";
import type { ApplicationDeps } from "../deps.js";
import type { BackendEvent } from "../ports/index.js";
import type { AuthenticatedSession } from "../session/session.js";
import { isRealmClientEvent, mayConcern, type ClientEvent } from "./client-events.js";
import { SessionEvents } from "./session-events.js";

/** Pending events kept per connection before it is deemed too slow (Parsec `AUTHENTICATED_CLIENT_CHANNEL_SIZE`). */
export const EVENT_QUEUE_CAPACITY = 100;

/**
 * Outcome of `events_listen`. `cancelled`: the call was aborted (the client sent another request or left)
 * and gets no reply. `overflowed`: more than {@link EVENT_QUEUE_CAPACITY} events piled up unread; Parsec
 * then closes the connection so that the client reconnects and resynchronises. `lost`: the event bus reported
 * that events may have been lost (e.g. its connection to the other server processes was cut); the connection is
 * closed likewise.
 */
export type ListenEventsOutcome =
  | { readonly kind: "ok"; readonly event: ClientEvent }
  | { readonly kind: "no_events" }
  | { readonly kind: "cancelled" }
  | { readonly kind: "overflowed" }
  | { readonly kind: "lost" };

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

  return {
    /**
     * Authenticated `events_subscribe`: from now on the connection collects the events its user may see. Idempotent.
     * As in Parsec, the user's realms are loaded once, then kept up to date by the `realm.roles_updated` events of
     * the user: an event of a realm reaches the connection only if the user is a member when it happens.
     * `onLost` is called once if more than the queue's capacity piles up unread (`overflow`), or if the bus reports
     * that events may have been lost (`gap`): the connection should then close so that its client resynchronises.
     */
    subscribeEvents: async (session: AuthenticatedSession, onLost: (reason: "overflow" | "gap") => void = () => {}): Promise<{ kind: "ok" }> => {
      if (subscriptions.has(session)) return { kind: "ok" };
      const queue = new SessionEvents(capacity, onLost);
      subscriptions.set(session, queue);
      let realms: Set<RealmID> | null = null;
      const early: BackendEvent[] = [];
      const take = (event: BackendEvent): void => {
        if (!mayConcern(session, event)) return;
        if (event.type === "realm.roles_updated") {
          if (event.role === null) realms!.delete(event.realmId);
          else realms!.add(event.realmId);
        } else if (isRealmClientEvent(event) && !realms!.has(event.realmId)) return;
        queue.push(event);
      };
      queue.attach(
        deps.events.subscribe(session.organizationId, {
          event: (event) => (realms === null ? early.push(event) : take(event)),
          gap: () => queue.lose("gap"),
        }),
      );
      realms = new Set(await deps.realms.listForUser(session.organizationId, session.userId));
      for (const event of early.splice(0)) take(event);
      return { kind: "ok" };
    },

    /**
     * Authenticated `events_listen`: the oldest pending event. With
     * `wait`, blocks until one arrives or `signal` aborts; without, `no_events` when none is pending.
     * A connection that never subscribed has no events: `no_events`, or a wait that only `signal` ends.
     * A wait also ends, `cancelled`, when the connection's subscription is released.
     */
    listenEvents: async (session: AuthenticatedSession, wait: boolean, signal: AbortSignal): Promise<ListenEventsOutcome> => {
      for (;;) {
        if (signal.aborted) return CANCELLED;
        const queue = subscriptions.get(session);
        if (queue?.lost) return { kind: queue.lost === "overflow" ? "overflowed" : "lost" };
        const event = queue?.shift();
        if (event) return { kind: "ok", event };
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
