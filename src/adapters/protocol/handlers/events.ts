import type { ClientEvent } from "../../../application/events/index.js";
import type { ApiEvent } from "../commands/events.js";
import type { Handler, HandlerTable } from "./types.js";

/**
 * Raised when a connection's event subscription can no longer be trusted: too many events piled up (Parsec closes
 * the connection, code 1008) or the event bus reported a gap (events may have been lost, code 1013 "try again
 * later"). The engine closes the connection with `code` and `reason`, so that the client reconnects and resyncs.
 */
export class EventQueueOverflowError extends Error {
  override readonly name = "EventQueueOverflowError";
  constructor(
    message: string,
    readonly code: number,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** How a connection whose subscription was lost is closed. */
const LOST_CLOSE = {
  overflow: { code: 1008, reason: "Too many pending events" },
  gap: { code: 1013, reason: "Events may have been lost, please reconnect" },
} as const;

/** A delivered event → the `APIEvent` fields of the `events_listen` `ok` reply. */
const apiEvent = (event: ClientEvent): ApiEvent => {
  switch (event.type) {
    case "pinged":
      return { event: event.type, ping: event.ping };
    case "message.received":
      return { event: event.type, index: event.index };
    case "invite.status_changed":
      return { event: event.type, token: event.token, invitation_status: event.status };
    case "realm.roles_updated":
      return { event: event.type, realm_id: event.realmId, role: event.role };
    case "realm.vlobs_updated":
      return { event: event.type, realm_id: event.realmId, checkpoint: event.checkpoint, src_id: event.srcId, src_version: event.srcVersion };
    case "realm.maintenance_started":
    case "realm.maintenance_finished":
      return { event: event.type, realm_id: event.realmId, encryption_revision: event.encryptionRevision };
  }
};

/**
 * Authenticated `events_listen`: the event flattened next to `status: "ok"`, or `no_events`. An aborted
 * call (another request arrived, or the connection closed) sends no reply, as in Parsec, which never
 * answers `cancelled`. An overflowed subscription throws so that the transport closes the connection.
 */
const eventsListen: Handler<"authenticated", "events_listen"> = async ({ app, session, signal }, req) => {
  const outcome = await app.listenEvents(session, req.wait, signal);
  switch (outcome.kind) {
    case "ok":
      return { status: "ok", ...apiEvent(outcome.event) };
    case "no_events":
      return { status: "no_events" };
    case "cancelled":
      return null;
    case "overflowed":
      throw new EventQueueOverflowError(`Too many pending events for ${session.deviceId}`, LOST_CLOSE.overflow.code, LOST_CLOSE.overflow.reason);
    case "lost":
      throw new EventQueueOverflowError(`Events may have been lost for ${session.deviceId}`, LOST_CLOSE.gap.code, LOST_CLOSE.gap.reason);
  }
};

/** Authenticated `events_subscribe`; a subscription lost later closes the connection (see {@link EventQueueOverflowError}). */
const eventsSubscribe: Handler<"authenticated", "events_subscribe"> = async ({ app, session, closeConnection }) => ({
  status: (await app.subscribeEvents(session, (reason) => closeConnection(LOST_CLOSE[reason].code, LOST_CLOSE[reason].reason))).kind,
});

/** The events commands. */
export const eventHandlers = { events_listen: eventsListen, events_subscribe: eventsSubscribe } satisfies HandlerTable<"authenticated">;
