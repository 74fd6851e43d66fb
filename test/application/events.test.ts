import { describe, expect, it } from "vitest";
import { EVENT_QUEUE_CAPACITY } from "../../src/application/events/index.js";
import type { BackendEvent, RealmRepository } from "../../src/application/ports/index.js";
import { InvitationToken, RealmID, VlobID, type OrganizationID, type UserID } from "../../src/domain/ids.js";
import { buildTestApp, deviceId, orgId, userId, type TestApp } from "../support/app.js";
import { ObservedEventBus } from "../support/event-bus.js";
import { fakeSession, parsed, realmWithGrants, storeRealm, type Grant } from "../support/world.js";

const ORG = orgId("CoolOrg");
const OTHER_ORG = orgId("OtherOrg");
const realmId = parsed(RealmID.parse("0000000000000000000000000000000a"));
const vlobId = parsed(VlobID.parse("0000000000000000000000000000000b"));
const token = parsed(InvitationToken.parse("0000000000000000000000000000000c"));

const session = fakeSession;

const setup = (realms?: (base: RealmRepository) => RealmRepository) => {
  let bus!: ObservedEventBus;
  const t = buildTestApp({
    overrides: (base) => {
      bus = new ObservedEventBus(base.events);
      return { events: bus, ...(realms && { realms: realms(base.realms) }) };
    },
  });
  /** Publishes `events` outside any transaction, in order, and waits until the bus delivered them. */
  const deliver = async (...events: BackendEvent[]): Promise<void> => {
    for (const event of events) await t.deps.events.publishNow(event);
    await t.events.idle();
  };
  return { t, bus, deliver };
};

/** Saves the realm with `grants` (in order), straight in the memory store. */
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
    const { t, deliver } = setup();
    expect(await t.app.subscribeEvents(alice)).toEqual({ kind: "ok" });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
    await deliver(pinged("alice@dev1", "bar"), pinged("alice@dev2", "foo"), pinged("bob@dev1", "spam"));
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "ok", event: pinged("alice@dev2", "foo") });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "ok", event: pinged("bob@dev1", "spam") });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
  });

  it("receives nothing before subscribing, and resubscribing neither duplicates nor drops events", async () => {
    const { t, bus, deliver } = setup();
    await deliver(pinged("bob@dev1", "before"));
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
    await t.app.subscribeEvents(alice);
    await deliver(pinged("bob@dev1", "foo"));
    await t.app.subscribeEvents(alice);
    expect(bus.live).toBe(1);
    await deliver(pinged("bob@dev1", "bar"));
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "foo" } });
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "bar" } });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
  });

  it("ignores other organizations and events that are not client events", async () => {
    const { t, deliver } = setup();
    await t.app.subscribeEvents(alice);
    await deliver(
      pinged("bob@dev1", "elsewhere", OTHER_ORG),
      { type: "user.revoked", organizationId: ORG, userId: userId("bob") },
      { type: "organization.expired", organizationId: ORG },
      { type: "invite.conduit_updated", organizationId: ORG, token },
    );
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
  });

  it("delivers only what the user may see, after the commit, on a later turn (never inside the transaction)", async () => {
    const { t } = setup();
    await t.app.subscribeEvents(alice);
    await t.app.subscribeEvents(bob);
    await t.deps.uow.run(ORG, async (tx) => {
      await t.deps.events.publish(tx, { type: "message.received", organizationId: ORG, author: deviceId("bob@dev1"), recipient: userId("alice"), index: 1 });
      await t.deps.events.publish(tx, { type: "invite.status_changed", organizationId: ORG, greeter: userId("bob"), token, status: "READY" });
      expect(t.published).toEqual([]);
      expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
    });
    expect(t.published.map((e) => e.type)).toEqual(["message.received", "invite.status_changed"]);
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
    await t.events.idle();
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { type: "message.received", index: 1 } });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
    expect(await t.app.listenEvents(bob, false, live())).toMatchObject({ event: { type: "invite.status_changed", status: "READY" } });
    expect(await t.app.listenEvents(bob, false, live())).toEqual({ kind: "no_events" });
  });

  it("never delivers the events of a rolled back transaction", async () => {
    const { t, deliver } = setup();
    await t.app.subscribeEvents(alice);
    await expect(
      t.deps.uow.run(ORG, async (tx) => {
        await t.deps.events.publish(tx, pinged("bob@dev1", "rolled back"));
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await deliver(pinged("bob@dev1", "kept"));
    expect(t.published).toEqual([pinged("bob@dev1", "kept")]);
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "kept" } });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
  });

  it("sends realm.roles_updated to the target user only, even when authored by one of its devices", async () => {
    const { t, deliver } = setup();
    await t.app.subscribeEvents(alice);
    await t.app.subscribeEvents(bob);
    const event: BackendEvent = { type: "realm.roles_updated", organizationId: ORG, author: deviceId("alice@dev1"), realmId, userId: userId("alice"), role: "OWNER" };
    await deliver(event);
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "ok", event });
    expect(await t.app.listenEvents(bob, false, live())).toEqual({ kind: "no_events" });
  });
});

describe("realm events", () => {
  it("reach current members only, not the authoring device", async () => {
    const { t, deliver } = setup();
    await saveRealm(t, [["alice", "OWNER"]]);
    for (const s of [alice, alice2, bob]) await t.app.subscribeEvents(s);
    await deliver(vlobsUpdated("alice@dev1"), { type: "realm.maintenance_started", organizationId: ORG, author: deviceId("alice@dev1"), realmId, encryptionRevision: 2 });
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "no_events" });
    expect(await t.app.listenEvents(alice2, false, live())).toEqual({ kind: "ok", event: vlobsUpdated("alice@dev1") });
    expect(await t.app.listenEvents(alice2, false, live())).toMatchObject({ event: { type: "realm.maintenance_started", encryptionRevision: 2 } });
    expect(await t.app.listenEvents(bob, false, live())).toEqual({ kind: "no_events" });
  });

  it("follow membership as it was when they happened, tracked through the user's realm.roles_updated events (as Parsec)", async () => {
    const { t, deliver } = setup();
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
    await deliver(vlobsUpdated("alice@dev1", 1), roleOfBob(null), vlobsUpdated("alice@dev1", 2), roleOfBob("CONTRIBUTOR"), vlobsUpdated("alice@dev1", 3));
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
    const { t, deliver } = setup();
    await saveRealm(t, [["alice", "OWNER"]]);
    await t.app.subscribeEvents(bob, () => (overflowed = true));
    await deliver(...Array.from({ length: EVENT_QUEUE_CAPACITY + 10 }, (_, i) => vlobsUpdated("alice@dev1", i + 1)));
    expect(overflowed).toBe(false);
    expect(await t.app.listenEvents(bob, false, live())).toEqual({ kind: "no_events" });
  });

  it("are dropped for an unknown realm", async () => {
    const { t, deliver } = setup();
    await t.app.subscribeEvents(bob);
    await deliver(vlobsUpdated("alice@dev1"));
    expect(await t.app.listenEvents(bob, false, live())).toEqual({ kind: "no_events" });
  });
});

describe("events_listen with wait", () => {
  it("blocks until the next event", async () => {
    const { t, deliver } = setup();
    await t.app.subscribeEvents(alice);
    let outcome: unknown = null;
    const pending = t.app.listenEvents(alice, true, live()).then((o) => (outcome = o));
    await settle();
    expect(outcome).toBeNull();
    await deliver(pinged("alice@dev1", "own"));
    await settle();
    expect(outcome).toBeNull();
    await t.deps.events.publishNow(pinged("bob@dev1", "foo"));
    await pending;
    expect(outcome).toEqual({ kind: "ok", event: pinged("bob@dev1", "foo") });
  });

  it("keeps waiting past events the user may not see", async () => {
    const { t, deliver } = setup();
    await t.app.subscribeEvents(bob);
    const pending = t.app.listenEvents(bob, true, live());
    await deliver(vlobsUpdated("alice@dev1"));
    await settle();
    await t.deps.events.publishNow(pinged("alice@dev1", "visible"));
    expect(await pending).toMatchObject({ event: { ping: "visible" } });
  });

  it("is cancelled by an abort (new request or disconnection), leaving the next events queued", async () => {
    const { t, bus, deliver } = setup();
    await t.app.subscribeEvents(alice);
    const controller = new AbortController();
    const pending = t.app.listenEvents(alice, true, controller.signal);
    await settle();
    controller.abort();
    expect(await pending).toEqual({ kind: "cancelled" });
    await deliver(pinged("bob@dev1", "later"));
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "later" } });
    expect(bus.live).toBe(1);
  });

  it("answers cancelled at once for an already aborted signal", async () => {
    const { t, deliver } = setup();
    await t.app.subscribeEvents(alice);
    await deliver(pinged("bob@dev1", "kept"));
    const controller = new AbortController();
    controller.abort();
    expect(await t.app.listenEvents(alice, true, controller.signal)).toEqual({ kind: "cancelled" });
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "kept" } });
  });

  it("without a subscription, waits until aborted", async () => {
    const { t, bus, deliver } = setup();
    const controller = new AbortController();
    const pending = t.app.listenEvents(alice, true, controller.signal);
    await deliver(pinged("bob@dev1", "unseen"));
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

  it(`overflows past ${EVENT_QUEUE_CAPACITY} unread events: the queue is dropped, the bus listener released, onLost told "overflow"`, async () => {
    const { t, bus, deliver } = setup();
    const lost: string[] = [];
    await t.app.subscribeEvents(alice, (reason) => lost.push(reason));
    await deliver(...Array.from({ length: EVENT_QUEUE_CAPACITY }, (_, i) => pinged("bob@dev1", `${i}`)));
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "0" } });
    await deliver(pinged("bob@dev1", "fills"));
    expect(bus.live).toBe(1);
    expect(lost).toEqual([]);
    await deliver(pinged("bob@dev1", "overflows"));
    expect(bus.live).toBe(0);
    expect(lost).toEqual(["overflow"]);
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "overflowed" });
    expect(await t.app.listenEvents(alice, true, live())).toEqual({ kind: "overflowed" });
    await deliver(pinged("bob@dev1", "too late"));
    expect(lost).toEqual(["overflow"]);
  });

  it("wakes a waiting listen when overflowing", async () => {
    const { t } = setup();
    await saveRealm(t, [["alice", "OWNER"]]);
    await t.app.subscribeEvents(alice);
    const pending = t.app.listenEvents(alice, true, live());
    for (let i = 0; i <= EVENT_QUEUE_CAPACITY; i++) await t.deps.events.publishNow(vlobsUpdated("bob@dev1", i + 1));
    expect(await pending).toEqual({ kind: "overflowed" });
  });
});

describe("a gap in the bus (events may have been lost)", () => {
  it("makes events_listen answer lost, drops the pending events, releases the bus listener and tells onLost \"gap\" once", async () => {
    const { t, bus, deliver } = setup();
    const lost: string[] = [];
    await t.app.subscribeEvents(alice, (reason) => lost.push(reason));
    await deliver(pinged("bob@dev1", "pending"));
    bus.gap(ORG);
    expect(lost).toEqual(["gap"]);
    expect(bus.live).toBe(0);
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "lost" });
    expect(await t.app.listenEvents(alice, true, live())).toEqual({ kind: "lost" });
    bus.gap(ORG);
    await deliver(pinged("bob@dev1", "after"));
    expect(lost).toEqual(["gap"]);
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "lost" });
  });

  it("wakes a waiting events_listen with lost", async () => {
    const { t, bus } = setup();
    await t.app.subscribeEvents(alice);
    let outcome: unknown = null;
    const pending = t.app.listenEvents(alice, true, live()).then((o) => (outcome = o));
    await settle();
    expect(outcome).toBeNull();
    bus.gap(ORG);
    await pending;
    expect(outcome).toEqual({ kind: "lost" });
  });

  it("concerns only the subscriptions of its organization", async () => {
    const { t, bus, deliver } = setup();
    const lost: string[] = [];
    const elsewhere = session("alice@dev1", OTHER_ORG);
    await t.app.subscribeEvents(alice, (reason) => lost.push(`alice:${reason}`));
    await t.app.subscribeEvents(elsewhere, (reason) => lost.push(`elsewhere:${reason}`));
    bus.gap(OTHER_ORG);
    expect(lost).toEqual(["elsewhere:gap"]);
    await deliver(pinged("bob@dev1", "still here"));
    expect(await t.app.listenEvents(alice, false, live())).toMatchObject({ event: { ping: "still here" } });
    expect(await t.app.listenEvents(elsewhere, false, live())).toEqual({ kind: "lost" });
  });

  it("signalled while the subscription loads its realms still counts", async () => {
    let gapWhileLoading: (() => void) | null = null;
    const { t, bus } = setup((base) =>
      Object.assign(Object.create(base) as RealmRepository, {
        listForUser: async (organizationId: OrganizationID, user: UserID) => {
          gapWhileLoading?.();
          return base.listForUser(organizationId, user);
        },
      }),
    );
    const lost: string[] = [];
    gapWhileLoading = () => bus.gap(ORG);
    await t.app.subscribeEvents(alice, (reason) => lost.push(reason));
    expect(lost).toEqual(["gap"]);
    expect(await t.app.listenEvents(alice, false, live())).toEqual({ kind: "lost" });
  });
});
