import type { ApplicationDeps } from "../deps.js";
import { eventSessions } from "./listen-events.js";

export type { ClientEvent, RealmClientEvent } from "./client-events.js";
export { EVENT_QUEUE_CAPACITY, eventSessions, type ListenEventsOutcome } from "./listen-events.js";

/** The event subscription use cases (`events_subscribe`, `events_listen`) and the release of a closed connection's subscription. */
export const eventUseCases = (deps: ApplicationDeps) => eventSessions(deps);
