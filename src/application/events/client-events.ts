import type { AuthenticatedSession } from "../session/session.js";
import type { BackendEvent } from "../ports/index.js";

/** The {@link BackendEvent}s a client may receive through `events_listen` (Parsec `APIEvent`). */
export type ClientEvent = Extract<
  BackendEvent,
  {
    readonly type:
      | "pinged"
      | "message.received"
      | "invite.status_changed"
      | "realm.roles_updated"
      | "realm.vlobs_updated"
      | "realm.maintenance_started"
      | "realm.maintenance_finished";
  }
>;

/** A {@link ClientEvent} that reaches only the members of its realm. */
export type RealmClientEvent = Extract<ClientEvent, { readonly type: "realm.vlobs_updated" | "realm.maintenance_started" | "realm.maintenance_finished" }>;

/**
 * Whether `event` may concern `session`, judged from the event alone (Parsec v2.16.3 `connect_events`):
 * same organization; `pinged` and realm events not authored by the session's own device; `message.received`
 * for its user; `invite.status_changed` for its user as greeter; `realm.roles_updated` for its user as the
 * target, even when authored by the session's device. Realm events also need the user to be a member of
 * the realm when they happen, which the subscription tracks (see `subscribeEvents`).
 */
export const mayConcern = (session: AuthenticatedSession, event: BackendEvent): event is ClientEvent => {
  if (event.organizationId !== session.organizationId) return false;
  switch (event.type) {
    case "pinged":
    case "realm.vlobs_updated":
    case "realm.maintenance_started":
    case "realm.maintenance_finished":
      return event.author !== session.deviceId;
    case "message.received":
      return event.recipient === session.userId;
    case "invite.status_changed":
      return event.greeter === session.userId;
    case "realm.roles_updated":
      return event.userId === session.userId;
    default:
      return false;
  }
};

/** Whether delivering `event` depends on the recipient's membership in its realm. */
export const isRealmClientEvent = (event: ClientEvent): event is RealmClientEvent =>
  event.type === "realm.vlobs_updated" || event.type === "realm.maintenance_started" || event.type === "realm.maintenance_finished";
