import * as t from "io-ts";
import { BooleanC, IndexC, InvitationStatusC, InvitationTokenC, RealmIDC, RealmRoleC, StringC, VlobIDC, nullable } from "../codecs/primitives.js";
import { RealmArchivingConfigurationC } from "../codecs/common.js";
import { command, reply, request, status, withReason } from "../codecs/struct.js";

/** One `APIEvent` variant flattened into an `ok` reply: `{status: "ok", event: name, ...fields}`. */
const okEvent = <N extends string, P extends t.Props>(name: N, fields: P) => status("ok", { event: t.literal(name), ...fields });

/**
 * Schema `APIEvent` as carried by `events_listen`'s `ok` reply (discriminant `event`):
 * `pinged`, `message.received` (`index` of the new message), `invite.status_changed`,
 * `realm.maintenance_started` / `realm.maintenance_finished`, `realm.vlobs_updated` (`checkpoint`
 * reached, `src_id` at `src_version`), `realm.roles_updated` (the recipient's new role, nil when
 * removed), `realm.archiving_updated` and `pki_enrollment.updated`.
 */
export const EventsListenRepOkC = t.union(
  [
    okEvent("pinged", { ping: StringC }),
    okEvent("message.received", { index: IndexC }),
    okEvent("invite.status_changed", { token: InvitationTokenC, invitation_status: InvitationStatusC }),
    okEvent("realm.maintenance_started", { realm_id: RealmIDC, encryption_revision: IndexC }),
    okEvent("realm.maintenance_finished", { realm_id: RealmIDC, encryption_revision: IndexC }),
    okEvent("realm.vlobs_updated", { realm_id: RealmIDC, checkpoint: IndexC, src_id: VlobIDC, src_version: IndexC }),
    okEvent("realm.roles_updated", { realm_id: RealmIDC, role: nullable(RealmRoleC) }),
    okEvent("realm.archiving_updated", { realm_id: RealmIDC, configuration: RealmArchivingConfigurationC }),
    okEvent("pki_enrollment.updated", {}),
  ],
  "APIEvent",
);

/** `T` without `K`, applied to each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An `APIEvent` (without the reply's `status`), as the event bus hands it to a listening connection. */
export type ApiEvent = DistributiveOmit<t.TypeOf<typeof EventsListenRepOkC>, "status">;

/**
 * Authenticated `events_listen`: the next event for this connection; with `wait: true` the call blocks
 * until one arrives, otherwise `no_events` when none is pending.
 */
export const eventsListen = command(
  "events_listen",
  request("events_listen", { wait: BooleanC }),
  reply("events_listen", EventsListenRepOkC, withReason("cancelled"), status("no_events")),
);
/** The decoded `events_listen` request: wire field names, domain value types. */
export type EventsListenReq = t.TypeOf<typeof eventsListen.req>;
/** A `events_listen` reply, one of its declared variants discriminated by `status`. */
export type EventsListenRep = t.TypeOf<typeof eventsListen.rep>;

/** Authenticated `events_subscribe`: start receiving events on this connection. */
export const eventsSubscribe = command("events_subscribe", request("events_subscribe", {}), reply("events_subscribe", status("ok")));
/** The decoded `events_subscribe` request: wire field names, domain value types. */
export type EventsSubscribeReq = t.TypeOf<typeof eventsSubscribe.req>;
/** A `events_subscribe` reply, one of its declared variants discriminated by `status`. */
export type EventsSubscribeRep = t.TypeOf<typeof eventsSubscribe.rep>;
