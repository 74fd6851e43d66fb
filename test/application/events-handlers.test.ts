import { describe, expect, it } from "vitest";
import { createWireEngine } from "../../src/adapters/protocol/engine.js";
import { EventQueueOverflowError, eventHandlers } from "../../src/adapters/protocol/handlers/events.js";
import { decodeReply, encodeTypedReply } from "../../src/adapters/protocol/registry.js";
import type { BackendEvent } from "../../src/application/ports/index.js";
import { InvitationToken, RealmID, VlobID } from "../../src/domain/ids.js";
import { pack } from "../../src/domain/serialization/msgpack.js";
import { authenticate, bootstrapOrganization, buildTestApp, deviceId } from "../support/app.js";
import { ObservedEventBus } from "../support/event-bus.js";
import { handlerContext, parsed, setupRealmOwner } from "../support/world.js";

const realmId = parsed(RealmID.parse("0000000000000000000000000000000a"));
const vlobId = parsed(VlobID.parse("0000000000000000000000000000000b"));
const token = parsed(InvitationToken.parse("0000000000000000000000000000000c"));

/** `CoolOrg` where alice owns realm {@link realmId}. */
const setup = () => setupRealmOwner(realmId);
const ctx = handlerContext;

/** Encodes then decodes the reply with the `events_listen` codec, as a client would read it. */
const onTheWire = (reply: Parameters<typeof encodeTypedReply<"authenticated", "events_listen">>[2]) => {
  const decoded = decodeReply("authenticated", "events_listen", encodeTypedReply("authenticated", "events_listen", reply));
  if (decoded.kind !== "ok") throw new Error(JSON.stringify(decoded));
  return decoded.rep;
};

describe("events handlers (outcome → reply)", () => {
  it("flattens every client event next to status ok, with the schema's field names", async () => {
    const { t, alice } = await setup();
    const organizationId = alice.organizationId;
    const bob = deviceId("bob@dev1");
    expect(await eventHandlers.events_subscribe(ctx(t, alice), { cmd: "events_subscribe" })).toEqual({ status: "ok" });
    const events: BackendEvent[] = [
      { type: "pinged", organizationId, author: bob, ping: "foo" },
      { type: "message.received", organizationId, author: bob, recipient: alice.userId, index: 3 },
      { type: "invite.status_changed", organizationId, greeter: alice.userId, token, status: "READY" },
      { type: "realm.roles_updated", organizationId, author: bob, realmId, userId: alice.userId, role: "READER" },
      { type: "realm.vlobs_updated", organizationId, author: bob, realmId, checkpoint: 7, srcId: vlobId, srcVersion: 2 },
      { type: "realm.maintenance_started", organizationId, author: bob, realmId, encryptionRevision: 2 },
      { type: "realm.maintenance_finished", organizationId, author: bob, realmId, encryptionRevision: 2 },
    ];
    for (const event of events) await t.deps.events.publishNow(event);
    await t.events.idle();
    const replies = [];
    for (let i = 0; i <= events.length; i++) replies.push(await eventHandlers.events_listen(ctx(t, alice), { cmd: "events_listen", wait: false }));
    expect(replies).toEqual([
      { status: "ok", event: "pinged", ping: "foo" },
      { status: "ok", event: "message.received", index: 3 },
      { status: "ok", event: "invite.status_changed", token, invitation_status: "READY" },
      { status: "ok", event: "realm.roles_updated", realm_id: realmId, role: "READER" },
      { status: "ok", event: "realm.vlobs_updated", realm_id: realmId, checkpoint: 7, src_id: vlobId, src_version: 2 },
      { status: "ok", event: "realm.maintenance_started", realm_id: realmId, encryption_revision: 2 },
      { status: "ok", event: "realm.maintenance_finished", realm_id: realmId, encryption_revision: 2 },
      { status: "no_events" },
    ]);
    for (const reply of replies) expect(onTheWire(reply!)).toEqual(reply);
  });

  it("sends no reply when a waiting listen is aborted", async () => {
    const { t, alice } = await setup();
    await eventHandlers.events_subscribe(ctx(t, alice), { cmd: "events_subscribe" });
    const controller = new AbortController();
    const pending = eventHandlers.events_listen(ctx(t, alice, controller.signal), { cmd: "events_listen", wait: true });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect(await pending).toBeNull();
  });

  it("closes the connection (1008) at once when the subscription overflows, and throws on a later listen", async () => {
    const { t, alice } = await setup();
    const closes: [number, string][] = [];
    const ping = (value: string) => t.deps.events.publishNow({ type: "pinged", organizationId: alice.organizationId, author: deviceId("bob@dev1"), ping: value });
    await eventHandlers.events_subscribe({ ...ctx(t, alice), closeConnection: (code, reason) => void closes.push([code, reason]) }, { cmd: "events_subscribe" });
    for (let i = 0; i < 100; i++) await ping(`${i}`);
    await t.events.idle();
    expect(closes).toEqual([]);
    await ping("one too many");
    expect(closes).toEqual([]);
    await t.events.idle();
    expect(closes).toEqual([[1008, "Too many pending events"]]);
    for (let i = 0; i <= 100; i++) await ping(`${i}`);
    await t.events.idle();
    expect(closes).toHaveLength(1);
    const listened = eventHandlers.events_listen(ctx(t, alice), { cmd: "events_listen", wait: false });
    await expect(listened).rejects.toThrow(EventQueueOverflowError);
    await expect(listened).rejects.toMatchObject({ code: 1008, reason: "Too many pending events" });
  });

  it("closes the connection (1013) at once when the bus reports a gap, and throws on a later listen", async () => {
    let bus!: ObservedEventBus;
    const t = buildTestApp({ overrides: (deps) => ({ events: (bus = new ObservedEventBus(deps.events)) }) });
    const alice = await authenticate(t, await bootstrapOrganization(t));
    const closes: [number, string][] = [];
    await eventHandlers.events_subscribe({ ...ctx(t, alice), closeConnection: (code, reason) => void closes.push([code, reason]) }, { cmd: "events_subscribe" });
    const waiting = eventHandlers.events_listen(ctx(t, alice), { cmd: "events_listen", wait: true });
    bus.gap(alice.organizationId);
    expect(closes).toEqual([[1013, "Events may have been lost, please reconnect"]]);
    await expect(waiting).rejects.toMatchObject({ name: "EventQueueOverflowError", code: 1013, reason: "Events may have been lost, please reconnect" });
    await expect(eventHandlers.events_listen(ctx(t, alice), { cmd: "events_listen", wait: false })).rejects.toMatchObject({ code: 1013 });
    const engine = createWireEngine(t.app);
    const never = () => new AbortController().signal;
    const step = await engine.command(alice, pack({ cmd: "events_listen", wait: false }), false, { newRequest: never(), closed: never() }, () => {});
    expect(step).toEqual({ close: { code: 1013, reason: "Events may have been lost, please reconnect" }, cmd: "events_listen" });
  });

  it("the wire engine releases the subscription when the session closes", async () => {
    const { t, alice } = await setup();
    const engine = createWireEngine(t.app);
    await t.app.subscribeEvents(alice);
    const waiting = t.app.listenEvents(alice, true, new AbortController().signal);
    await engine.sessionClosed(alice);
    await t.deps.events.publishNow({ type: "pinged", organizationId: alice.organizationId, author: deviceId("bob@dev1"), ping: "late" });
    await t.events.idle();
    expect(await waiting).toEqual({ kind: "cancelled" });
    expect(await t.app.listenEvents(alice, false, new AbortController().signal)).toEqual({ kind: "no_events" });
  });
});
