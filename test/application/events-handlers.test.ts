import { describe, expect, it } from "vitest";
import { createWireEngine } from "../../src/adapters/protocol/engine.js";
import { EventQueueOverflowError, eventHandlers } from "../../src/adapters/protocol/handlers/events.js";
import { decodeReply, encodeTypedReply } from "../../src/adapters/protocol/registry.js";
import type { BackendEvent } from "../../src/application/ports/index.js";
import { InvitationToken, RealmID, VlobID } from "../../src/domain/ids.js";
import { deviceId } from "../support/app.js";
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
    for (const event of events) t.deps.events.publish(event);
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
    await eventHandlers.events_subscribe({ ...ctx(t, alice), closeConnection: (code, reason) => void closes.push([code, reason]) }, { cmd: "events_subscribe" });
    for (let i = 0; i < 100; i++) t.deps.events.publish({ type: "pinged", organizationId: alice.organizationId, author: deviceId("bob@dev1"), ping: `${i}` });
    expect(closes).toEqual([]);
    t.deps.events.publish({ type: "pinged", organizationId: alice.organizationId, author: deviceId("bob@dev1"), ping: "one too many" });
    expect(closes).toEqual([[1008, "Too many pending events"]]);
    for (let i = 0; i <= 100; i++) t.deps.events.publish({ type: "pinged", organizationId: alice.organizationId, author: deviceId("bob@dev1"), ping: `${i}` });
    await expect(eventHandlers.events_listen(ctx(t, alice), { cmd: "events_listen", wait: false })).rejects.toThrow(EventQueueOverflowError);
  });

  it("the wire engine releases the subscription when the session closes", async () => {
    const { t, alice } = await setup();
    const engine = createWireEngine(t.app);
    await t.app.subscribeEvents(alice);
    const waiting = t.app.listenEvents(alice, true, new AbortController().signal);
    await engine.sessionClosed(alice);
    t.deps.events.publish({ type: "pinged", organizationId: alice.organizationId, author: deviceId("bob@dev1"), ping: "late" });
    expect(await waiting).toEqual({ kind: "cancelled" });
    expect(await t.app.listenEvents(alice, false, new AbortController().signal)).toEqual({ kind: "no_events" });
  });
});
