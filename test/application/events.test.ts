import { describe, expect, it } from "vitest";
import { EVENT_QUEUE_CAPACITY } from "../../src/application/events/index.js";
import type { BackendEvent, EventBus, RealmRepository, Tx, Unsubscribe } from "../../src/application/ports/index.js";
import { InvitationToken, RealmID, VlobID, type OrganizationID } from "../../src/domain/ids.js";
import { buildTestApp, deviceId, orgId, userId, type TestApp } from "../support/app.js";
import { fakeSession, parsed, realmWithGrants, storeRealm, type Grant } from "../support/world.js";

const ORG = orgId("CoolOrg");
const OTHER_ORG = orgId("OtherOrg");
const realmId = parsed(RealmID.parse("0000000000000000000000000000000a"));
const vlobId = parsed(VlobID.parse("0000000000000000000000000000000b"));
const token = parsed(InvitationToken.parse("0000000000000000000000000000000c"));

const session = fakeSession;

/** An {@link EventBus} that counts its live subscriptions, over the test app's memory bus. */
class CountingBus implements EventBus {
  live = 0;
  constructor(private readonly inner: EventBus) {}
  publish(event: BackendEvent, tx?: Tx): void {
    this.inner.publish(event, tx);
  }
  subscribe(listener: (event: BackendEvent) => void): Unsubscribe {
    this.live += 1;
    const unsubscribe = this.inner.subscribe(listener);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.live -= 1;
      unsubscribe();
    };
  }
}

const setup = (realms?: (base: RealmRepository) => RealmRepository) => {
  let bus!: CountingBus;
  const t = buildTestApp({
    overrides: (base) => {
      bus = new CountingBus(base.events);
      return { events: bus, ...(realms && { realms: realms(base.realms) }) };
    },
  });
  return { t, bus };
};

/** Saves the realm with `grants` (in order), straight through the repository. */
const saveRealm = (t: TestApp, grants: readonly Grant[]): Promise<void> => storeRealm(t, ORG, realmWithGrants(t, realmId, grants));

const alice = session("alice@dev1");
const alice2 = session("alice@dev2");
const bob = session("bob@dev1");

const pinged = (author: string, ping: string, organizationId: OrganizationID = ORG): BackendEvent => ({
  type: "pinged",
  organizationId,
  author: deviceId(author),
  ping,
});
const vlobsUpdated = (author: string, checkpoint = 1): BackendEvent => ({
  type: "realm.vlobs_updated",
  organizationId: ORG,
  author: deviceId(author),
  realmId,
  checkpoint,
  srcId: vlobId,
  srcVersion: 1,
});

const live = () => new AbortController().signal;
/** Lets pending promise continuations run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("events_subscribe / events_listen without waiting", () => {
  it("answers no_events, then the queued events in order, skipping the session's own pings", async () => {
    const { t } = setup();
    expect(await t.app.subscribeEvents(alice)).toEqual({ kind: "ok" });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
    t.deps.events.publish(pinged("alice@dev1", "bar"));
    t.deps.events.publish(pinged("alice@dev2", "foo"));
    t.deps.events.publish(pinged("bob@dev1", "spam"));
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "ok", event: pinged("alice@dev2", "foo") });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "ok", event: pinged("bob@dev1", "spam") });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
  });

  it("receives nothing before subscribing, and resubscribing neither duplicates nor drops events", async () => {
    const { t, bus } = setup();
    t.deps.events.publish(pinged("bob@dev1", "before"));
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
    await t.app.subscribeEvents(alice);
    t.deps.events.publish(pinged("bob@dev1", "foo"));
    await t.app.subscribeEvents(alice);
    expect(bus.live).toBe(1);
    t.deps.events.publish(pinged("bob@dev1", "bar"));
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "foo" } });
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "bar" } });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
  });

  it("ignores other organizations and events that are not client events", async () => {
    const { t } = setup();
    await t.app.subscribeEvents(alice);
    t.deps.events.publish(pinged("bob@dev1", "elsewhere", OTHER_ORG));
    t.deps.events.publish({ type: "user.revoked", organizationId: ORG, userId: userId("bob") });
    t.deps.events.publish({ type: "organization.expired", organizationId: ORG });
    t.deps.events.publish({ type: "invite.conduit_updated", organizationId: ORG, token });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
  });

  it("delivers only what the user may see, when the event is committed", async () => {
    const { t } = setup();
    await t.app.subscribeEvents(alice);
    await t.app.subscribeEvents(bob);
    await t.deps.uow.run(ORG, async (tx) => {
      t.deps.events.publish({ type: "message.received", organizationId: ORG, author: deviceId("bob@dev1"), recipient: userId("alice"), index: 1 }, tx);
      t.deps.events.publish({ type: "invite.status_changed", organizationId: ORG, greeter: userId("bob"), token, status: "READY" }, tx);
      expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
    });
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { type: "message.received", index: 1 } });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
    expect(await t.app.listenEvents(bob, false, live())).toMatchObject({ event: { type: "invite.status_changed", status: "READY" } });
    expect(await t.app.listenEvents(bob, false, live())).toEqual({ kind: "no_events" });
  });

  it("sends realm.roles_updated to the target user only, even when authored by one of its devices", async () => {
    const { t } = setup();
    await t.app.subscribeEvents(alice);
    await t.app.subscribeEvents(bob);
    const event: BackendEvent = { type: "realm.roles_updated", organizationId: ORG, author: deviceId("alice@dev1"), realmId, userId: userId("alice"), role: "OWNER" };
    t.deps.events.publish(event);
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "ok", event });
    expect(await t.app.listenEvents(bob, false, live())).toEqual({ kind: "no_events" });
  });
});

describe("realm events", () => {
  it("reach current members only, not the authoring device", async () => {
    const { t } = setup();
    await saveRealm(t, [["alice", "OWNER"]]);
    for (const s of [alice, alice2, bob]) await t.app.subscribeEvents(s);
    t.deps.events.publish(vlobsUpdated("alice@dev1"));
    t.deps.events.publish({ type: "realm.maintenance_started", organizationId: ORG, author: deviceId("alice@dev1"), realmId, encryptionRevision: 2 });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
    expect(await t.app.listenEvents(alice2, false, live())).toEqual({ kind: "ok", event: vlobsUpdated("alice@dev1") });
    expect(await t.app.listenEvents(alice2, false, live())).toMatchObject({ event: { type: "realm.maintenance_started", encryptionRevision: 2 } });
    expect(await t.app.listenEvents(bob, false, live())).toEqual({ kind: "no_events" });
  });

  it("follow membership as it was when they happened, tracked through the user's realm.roles_updated events (as Parsec)", async () => {
    const { t } = setup();
    await saveRealm(t, [
      ["alice", "OWNER"],
      ["bob", "READER"],
    ]);
    await t.app.subscribeEvents(bob);
    const roleOfBob = (role: "READER" | "CONTRIBUTOR" | null): BackendEvent => ({
      type: "realm.roles_updated",
      organizationId: ORG,
      author: deviceId("alice@dev1"),
      realmId,
      userId: bob.userId,
      role,
    });
    t.deps.events.publish(vlobsUpdated("alice@dev1", 1));
    t.deps.events.publish(roleOfBob(null));
    t.deps.events.publish(vlobsUpdated("alice@dev1", 2));
    t.deps.events.publish(roleOfBob("CONTRIBUTOR"));
    t.deps.events.publish(vlobsUpdated("alice@dev1", 3));
    const received = [];
    for (;;) {
      const outcome = await t.app.listenEvents(bob, false, live());
      if (outcome.kind !== "ok") break;
      received.push(outcome.event);
    }
    expect(received).toEqual([vlobsUpdated("alice@dev1", 1), roleOfBob(null), roleOfBob("CONTRIBUTOR"), vlobsUpdated("alice@dev1", 3)]);
  });

  it("of a realm the user was not in do not fill the queue (no overflow for a non-member)", async () => {
    let overflowed = false;
    const { t } = setup();
    await saveRealm(t, [["alice", "OWNER"]]);
    await t.app.subscribeEvents(bob, () => (overflowed = true));
    for (let i = 1; i <= EVENT_QUEUE_CAPACITY + 10; i++) t.deps.events.publish(vlobsUpdated("alice@dev1", i));
    expect(overflowed).toBe(false);
    expect(await t.app.listenEvents(bob, false, live())).toEqual({ kind: "no_events" });
  });

  it("are dropped for an unknown realm", async () => {
    const { t } = setup();
    await t.app.subscribeEvents(bob);
    t.deps.events.publish(vlobsUpdated("alice@dev1"));
    expect(await t.app.listenEvents(bob, false, live())).toEqual({ kind: "no_events" });
  });
});

describe("events_listen with wait", () => {
  it("blocks until the next event", async () => {
    const { t } = setup();
    await t.app.subscribeEvents(alice);
    let outcome: unknown = null;
    const pending = t.app.listenEvents(alice, true, live()).then((o) => (outcome = o));
    await settle();
    expect(outcome).toBeNull();
    t.deps.events.publish(pinged("alice@dev1", "own"));
    await settle();
    expect(outcome).toBeNull();
    t.deps.events.publish(pinged("bob@dev1", "foo"));
    await pending;
    expect(outcome).toEqual({ kind: "ok", event: pinged("bob@dev1", "foo") });
  });

  it("keeps waiting past events the user may not see", async () => {
    const { t } = setup();
    await t.app.subscribeEvents(bob);
    const pending = t.app.listenEvents(bob, true, live());
    t.deps.events.publish(vlobsUpdated("alice@dev1"));
    await settle();
    t.deps.events.publish(pinged("alice@dev1", "visible"));
    expect(await pending).toMatchObject({ event: { ping: "visible" } });
  });

  it("is cancelled by an abort (new request or disconnection), leaving the next events queued", async () => {
    const { t, bus } = setup();
    await t.app.subscribeEvents(alice);
    const controller = new AbortController();
    const pending = t.app.listenEvents(alice, true, controller.signal);
    await settle();
    controller.abort();
    expect(await pending).toEqual({ kind: "cancelled" });
    t.deps.events.publish(pinged("bob@dev1", "later"));
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "later" } });
    expect(bus.live).toBe(1);
  });

  it("answers cancelled at once for an already aborted signal", async () => {
    const { t } = setup();
    await t.app.subscribeEvents(alice);
    t.deps.events.publish(pinged("bob@dev1", "kept"));
    const controller = new AbortController();
    controller.abort();
    expect(await t.app.listenEvents(alice, true, controller.signal)).toEqual({ kind: "cancelled" });
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "kept" } });
  });

  it("without a subscription, waits until aborted", async () => {
    const { t, bus } = setup();
    const controller = new AbortController();
    const pending = t.app.listenEvents(alice, true, controller.signal);
    t.deps.events.publish(pinged("bob@dev1", "unseen"));
    await settle();
    controller.abort();
    expect(await pending).toEqual({ kind: "cancelled" });
    expect(bus.live).toBe(0);
  });
});

describe("subscription lifetime", () => {
  it("ends with the connection: the bus listener is released and a waiting listen ends", async () => {
    const { t, bus } = setup();
    await t.app.subscribeEvents(alice);
    await t.app.subscribeEvents(bob);
    expect(bus.live).toBe(2);
    const controller = new AbortController();
    const pending = t.app.listenEvents(alice, true, controller.signal);
    await settle();
    t.app.endEventSession(alice);
    controller.abort();
    expect(await pending).toEqual({ kind: "cancelled" });
    expect(bus.live).toBe(1);
    t.app.endEventSession(alice);
    t.app.endEventSession(bob);
    expect(bus.live).toBe(0);
  });

  it(`overflows past ${EVENT_QUEUE_CAPACITY} unread events: the queue is dropped and the bus listener released`, async () => {
    const { t, bus } = setup();
    await t.app.subscribeEvents(alice);
    for (let i = 0; i < EVENT_QUEUE_CAPACITY; i++) t.deps.events.publish(pinged("bob@dev1", `${i}`));
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "0" } });
    t.deps.events.publish(pinged("bob@dev1", "fills"));
    expect(bus.live).toBe(1);
    t.deps.events.publish(pinged("bob@dev1", "overflows"));
    expect(bus.live).toBe(0);
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "overflowed" });
    expect(await t.app.listenEvents(alice, true, live())).toEqual({ kind: "overflowed" });
  });

  it("wakes a waiting listen when overflowing", async () => {
    const { t } = setup();
    await saveRealm(t, [["alice", "OWNER"]]);
    await t.app.subscribeEvents(alice);
    const pending = t.app.listenEvents(alice, true, live());
    for (let i = 0; i <= EVENT_QUEUE_CAPACITY; i++) t.deps.events.publish(vlobsUpdated("bob@dev1", i + 1));
    expect(await pending).toEqual({ kind: "overflowed" });
  });
});
