import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EVENT_CHANNEL, listenApplicationName, PostgresEventBus, type PostgresEventBusOptions } from "../../../src/adapters/events/postgres/index.js";
import { encodeInline } from "../../../src/adapters/events/postgres/notification.js";
import type { BackendEvent, EventBus, EventSubscriber, UnitOfWork } from "../../../src/application/ports/index.js";
import type { OrganizationID } from "../../../src/domain/ids.js";
import { freeLocalPort } from "../../../scripts/local-postgres.js";
import { did, newOrganizationId, newRealmId, newToken, newVlobId, pause, runAndRollBack, uid, useFixture, type Make } from "../../contract/fixtures.js";
import { adminQuery, createTestDatabase, dropTestDatabase } from "../../support/postgres.js";
import { PgUnitOfWork, TcpProxy, waitFor } from "./event-bus-support.js";

/*
 * The PostgreSQL event bus on a real PostgreSQL. `eventBusBehaviour` only uses the ports (a unit of work, a bus and a
 * peer bus of another process), so that it can become the generic contract suite; the PostgreSQL specifics follow.
 */

// ---- Port-level behaviour ---------------------------------------------------------------------------------------

interface EventBusPorts {
  readonly uow: UnitOfWork;
  readonly events: EventBus;
  /** A second bus on the same backing service (another server process), when the adapter has one. */
  readonly peer?: EventBus;
}

interface Collector {
  readonly received: BackendEvent[];
  gaps: number;
  readonly unsubscribe: () => void;
}

const collect = (bus: EventBus, organizationId: OrganizationID): Collector => {
  const collector = {
    received: [] as BackendEvent[],
    gaps: 0,
    unsubscribe: () => {},
  };
  collector.unsubscribe = bus.subscribe(organizationId, {
    event: (event) => collector.received.push(event),
    gap: () => (collector.gaps += 1),
  });
  return collector;
};

const pinged = (organizationId: OrganizationID, ping: string): BackendEvent => ({ type: "pinged", organizationId, author: did("alice@dev1"), ping });

/** Lets a delivery that should not happen show up. */
const settle = () => pause(100);

function eventBusBehaviour(make: Make<EventBusPorts>): void {
  describe("EventBus behaviour", () => {
    const fixture = useFixture(make);

    it("delivers an event published without a transaction to every subscriber of its organization, once", async () => {
      const { events, peer } = fixture.current();
      const organizationId = newOrganizationId();
      const a = collect(events, organizationId);
      const b = collect(events, organizationId);
      const remote = peer ? collect(peer, organizationId) : null;
      const event = pinged(organizationId, "hello");
      await events.publishNow(event);
      await expect.poll(() => a.received).toEqual([event]);
      await expect.poll(() => b.received).toEqual([event]);
      if (remote) await expect.poll(() => remote.received).toEqual([event]);
      await settle();
      expect(a.received).toEqual([event]);
      if (remote) expect(remote.received).toEqual([event]);
    });

    it("delivers every kind of event with all its fields intact", async () => {
      const { events, peer } = fixture.current();
      const organizationId = newOrganizationId();
      const author = did("alice@dev1");
      const realmId = newRealmId();
      const sample: BackendEvent[] = [
        { type: "pinged", organizationId, author, ping: "ping é ✓ 😀 \u0000 \n \ud800 \"'\\" },
        { type: "user.revoked", organizationId, userId: uid("bob") },
        { type: "invite.status_changed", organizationId, greeter: uid("alice"), token: newToken(), status: "READY" },
        { type: "organization.expired", organizationId },
        { type: "message.received", organizationId, author, recipient: uid("bob"), index: 3 },
        { type: "invite.conduit_updated", organizationId, token: newToken() },
        { type: "realm.roles_updated", organizationId, author, realmId, userId: uid("bob"), role: "CONTRIBUTOR" },
        { type: "realm.roles_updated", organizationId, author, realmId, userId: uid("bob"), role: null },
        { type: "realm.vlobs_updated", organizationId, author, realmId, checkpoint: 12, srcId: newVlobId(), srcVersion: 4 },
        { type: "realm.maintenance_started", organizationId, author, realmId, encryptionRevision: 2 },
        { type: "realm.maintenance_finished", organizationId, author, realmId, encryptionRevision: 2 },
      ];
      const local = collect(events, organizationId);
      const remote = collect(peer ?? events, organizationId);
      for (const event of sample) await events.publishNow(event);
      await expect.poll(() => local.received).toHaveLength(sample.length);
      await expect.poll(() => remote.received).toHaveLength(sample.length);
      expect(local.received).toEqual(sample);
      expect(remote.received).toEqual(sample);
    });

    it("delivers the events of a transaction only once it has committed, here and in another process", async () => {
      const { uow, events, peer } = fixture.current();
      const organizationId = newOrganizationId();
      const local = collect(events, organizationId);
      const remote = peer ? collect(peer, organizationId) : null;
      const published = [pinged(organizationId, "1"), pinged(organizationId, "2"), pinged(organizationId, "3")];
      await uow.run(organizationId, async (tx) => {
        for (const event of published) await events.publish(tx, event);
        await settle();
        expect(local.received).toEqual([]);
        expect(remote?.received ?? []).toEqual([]);
      });
      await expect.poll(() => local.received).toEqual(published);
      if (remote) await expect.poll(() => remote.received).toEqual(published);
    });

    it("never delivers the events of a transaction that rolls back", async () => {
      const { uow, events, peer } = fixture.current();
      const organizationId = newOrganizationId();
      const local = collect(events, organizationId);
      const remote = collect(peer ?? events, organizationId);
      await runAndRollBack(uow, organizationId, async (tx) => {
        await events.publish(tx, pinged(organizationId, "rolled back"));
        await events.publish(tx, pinged(organizationId, "x".repeat(20_000)));
      });
      const marker = pinged(organizationId, "marker");
      await uow.run(organizationId, (tx) => events.publish(tx, marker));
      await expect.poll(() => local.received).toEqual([marker]);
      await expect.poll(() => remote.received).toEqual([marker]);
      await settle();
      expect(local.received).toEqual([marker]);
    });

    it("delivers nothing to the subscribers of another organization", async () => {
      const { events, peer } = fixture.current();
      const mine = newOrganizationId();
      const other = collect(events, newOrganizationId());
      const otherRemote = collect(peer ?? events, newOrganizationId());
      const own = collect(events, mine);
      const event = pinged(mine, "mine only");
      await events.publishNow(event);
      await expect.poll(() => own.received).toEqual([event]);
      await settle();
      expect(other.received).toEqual([]);
      expect(otherRemote.received).toEqual([]);
    });

    it("stops delivering to a subscription once unsubscribed (idempotently), and to it only", async () => {
      const { events } = fixture.current();
      const organizationId = newOrganizationId();
      const received: BackendEvent[] = [];
      const subscriber: EventSubscriber = { event: (event) => received.push(event) };
      const first = events.subscribe(organizationId, subscriber);
      const second = events.subscribe(organizationId, subscriber);
      const before = pinged(organizationId, "before");
      await events.publishNow(before);
      await expect.poll(() => received).toEqual([before, before]);
      first();
      first();
      const after = pinged(organizationId, "after");
      await events.publishNow(after);
      await expect.poll(() => received).toEqual([before, before, after]);
      second();
      await events.publishNow(pinged(organizationId, "nobody"));
      await settle();
      expect(received).toEqual([before, before, after]);
    });

    it("delivers two identical events of one transaction twice", async () => {
      const { uow, events, peer } = fixture.current();
      const organizationId = newOrganizationId();
      const local = collect(events, organizationId);
      const remote = collect(peer ?? events, organizationId);
      const event: BackendEvent = { type: "user.revoked", organizationId, userId: uid("bob") };
      await uow.run(organizationId, async (tx) => {
        await events.publish(tx, event);
        await events.publish(tx, event);
      });
      await expect.poll(() => local.received).toEqual([event, event]);
      await expect.poll(() => remote.received).toEqual([event, event]);
      await settle();
      expect(local.received).toEqual([event, event]);
    });

    it("delivers the events of several transactions in commit order, not publication order", async () => {
      const { uow, events, peer } = fixture.current();
      const organizationId = newOrganizationId();
      const local = collect(events, organizationId);
      const remote = collect(peer ?? events, organizationId);
      const [a1, a2, b1, b2, c1] = ["a1", "a2", "b1", "b2", "c1"].map((ping) => pinged(organizationId, ping)) as [BackendEvent, BackendEvent, BackendEvent, BackendEvent, BackendEvent];
      let releaseA: () => void = () => {};
      const aMayCommit = new Promise<void>((resolve) => (releaseA = resolve));
      let aPublished: () => void = () => {};
      const aHasPublished = new Promise<void>((resolve) => (aPublished = resolve));
      // Transactions scoped to organizations of their own, so that a unit of work serialising per organization lets them interleave.
      const a = uow.run(newOrganizationId(), async (tx) => {
        await events.publish(tx, a1);
        aPublished();
        await aMayCommit;
        await events.publish(tx, a2);
      });
      await aHasPublished;
      await uow.run(newOrganizationId(), async (tx) => {
        await events.publish(tx, b1);
        await events.publish(tx, b2);
      });
      releaseA();
      await a;
      await uow.run(newOrganizationId(), (tx) => events.publish(tx, c1));
      const commitOrder = [b1, b2, a1, a2, c1];
      await expect.poll(() => local.received).toEqual(commitOrder);
      await expect.poll(() => remote.received).toEqual(commitOrder);
    });

    it("carries a 1 MiB ping intact, in order with the small events around it", async () => {
      const { uow, events, peer } = fixture.current();
      const organizationId = newOrganizationId();
      const local = collect(events, organizationId);
      const remote = collect(peer ?? events, organizationId);
      const big = pinged(organizationId, `${randomBytes(393_216).toString("base64")}é😀`);
      const published = [pinged(organizationId, "before"), big, pinged(organizationId, "after")];
      await uow.run(organizationId, async (tx) => {
        for (const event of published) await events.publish(tx, event);
      });
      await events.publishNow(big);
      await expect.poll(() => local.received.length).toBe(4);
      await expect.poll(() => remote.received.length).toBe(4);
      expect(local.received).toEqual([...published, big]);
      expect(remote.received).toEqual([...published, big]);
    });

    it("keeps delivering to the other subscribers when one throws", async () => {
      const { events } = fixture.current();
      const organizationId = newOrganizationId();
      const before = collect(events, organizationId);
      events.subscribe(organizationId, {
        event: () => {
          throw new Error("subscriber failure");
        },
      });
      const after = collect(events, organizationId);
      const first = pinged(organizationId, "first");
      const second = pinged(organizationId, "second");
      await events.publishNow(first);
      await events.publishNow(second);
      await expect.poll(() => before.received).toEqual([first, second]);
      await expect.poll(() => after.received).toEqual([first, second]);
    });
  });
}

// ---- PostgreSQL ------------------------------------------------------------------------------------------------

const MIGRATION = fileURLToPath(new URL("../../../migrations/0002_events.sql", import.meta.url));
const CHILD = fileURLToPath(new URL("./event-bus-exit-child.ts", import.meta.url));

let database: { name: string; url: string };
let pool: pg.Pool;
let uow: PgUnitOfWork;

interface Reported {
  readonly message: string;
  readonly context: Record<string, unknown>;
  readonly at: number;
}

interface TestBus {
  readonly bus: PostgresEventBus;
  readonly processId: string;
  readonly reported: Reported[];
}

const opened: PostgresEventBus[] = [];

/** A bus of a new "process" on the test database; closed after the test. */
const newBus = (overrides: { readonly listenUrl?: string; readonly options?: PostgresEventBusOptions } = {}): TestBus => {
  const processId = randomBytes(8).toString("hex");
  const reported: Reported[] = [];
  const bus = new PostgresEventBus({
    listenUrl: overrides.listenUrl ?? database.url,
    executorOf: uow.executorOf,
    processId,
    onError: (message, context) => reported.push({ message, context, at: Date.now() }),
    ...(overrides.options ? { options: overrides.options } : {}),
  });
  opened.push(bus);
  return { bus, processId, reported };
};

const startedBus = async (overrides: Parameters<typeof newBus>[0] = {}): Promise<TestBus> => {
  const test = newBus(overrides);
  await test.bus.start();
  return test;
};

const listenBackends = async (processId: string): Promise<number[]> =>
  (await pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [listenApplicationName(processId)])).rows.map((r) => r.pid);

const payloadRows = async (): Promise<number> => (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM event_payload")).rows[0]!.n;

const messages = (reported: readonly Reported[]) => reported.map((r) => r.message);

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  await adminQuery(readFileSync(MIGRATION, "utf8"), [], database.name);
  pool = new pg.Pool({ connectionString: database.url, max: 20 });
  uow = new PgUnitOfWork(pool);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((bus) => bus.close()));
});

afterAll(async () => {
  await pool?.end();
  if (database) await dropTestDatabase(database.name);
});

describe("PostgresEventBus", () => {
  eventBusBehaviour(async () => {
    const events = await startedBus();
    const peer = await startedBus();
    return { uow, events: events.bus, peer: peer.bus };
  });

  describe("payloads", () => {
    it("sends a notification of up to 7999 bytes inline, and stores a larger event in event_payload", async () => {
      const { bus, processId } = await startedBus();
      const organizationId = newOrganizationId();
      const got = collect(bus, organizationId);
      const overhead = encodeInline(processId, 0, pinged(organizationId, "")).length;
      const largestInline = pinged(organizationId, "a".repeat(7_999 - overhead));
      const smallestStored = pinged(organizationId, "b".repeat(8_000 - overhead));
      expect(encodeInline(processId, 0, largestInline)).toHaveLength(7_999);
      expect(encodeInline(processId, 1, smallestStored)).toHaveLength(8_000);
      const rows = await payloadRows();
      await bus.publishNow(largestInline);
      await bus.publishNow(pinged(organizationId, "é".repeat(1_000)));
      expect(await payloadRows()).toBe(rows);
      await bus.publishNow(smallestStored);
      expect(await payloadRows()).toBe(rows + 1);
      await expect.poll(() => got.received.length).toBe(3);
      expect(got.received[0]).toEqual(largestInline);
      expect(got.received[2]).toEqual(smallestStored);
    });

    it("counts non-ASCII characters by their escaped size, whatever the server encoding", async () => {
      const { bus, processId } = await startedBus();
      const organizationId = newOrganizationId();
      const got = collect(bus, organizationId);
      const event = pinged(organizationId, "😀".repeat(700));
      expect(encodeInline(processId, 0, event).length).toBeGreaterThan(7_999);
      const rows = await payloadRows();
      await bus.publishNow(event);
      expect(await payloadRows()).toBe(rows + 1);
      await expect.poll(() => got.received).toEqual([event]);
    });

    it("leaves no stored event of a transaction that rolls back", async () => {
      const { bus } = await startedBus();
      const rows = await payloadRows();
      await runAndRollBack(uow, newOrganizationId(), (tx) => bus.publish(tx, pinged(newOrganizationId(), "x".repeat(100_000))));
      expect(await payloadRows()).toBe(rows);
    });

    it("deletes stored events older than the retention, at start and periodically", async () => {
      const inserted = async (age: string) =>
        (await pool.query<{ id: string }>(`INSERT INTO event_payload (payload, created_on) VALUES ('{}', now() - $1::interval) RETURNING id`, [age])).rows[0]!.id;
      const exists = async (id: string) => (await pool.query("SELECT 1 FROM event_payload WHERE id = $1", [id])).rowCount === 1;
      const ancient = await inserted("1 hour");
      const old = await inserted("3 seconds");
      const fresh = await inserted("0 seconds");
      await startedBus({ options: { payloadRetentionMs: 2_000, payloadCleanupIntervalMs: 100 } });
      expect(await exists(ancient)).toBe(false);
      await expect.poll(() => exists(fresh), { timeout: 5_000 }).toBe(false);
      expect(await exists(old)).toBe(false);
    });

    it("does not fetch a stored event for an organization nobody here subscribes to", async () => {
      const { bus, reported } = await startedBus();
      const organizationId = newOrganizationId();
      const marker = collect(bus, organizationId);
      // A reference to a row that does not exist: fetching it would report a loss.
      await adminQuery(`SELECT pg_notify($1, $2)`, [EVENT_CHANNEL, JSON.stringify({ v: 1, process: "p", seq: 0, organizationId: newOrganizationId(), payloadId: "999999999" })], database.name);
      const event = pinged(organizationId, "marker");
      await bus.publishNow(event);
      await expect.poll(() => marker.received).toEqual([event]);
      expect(reported).toEqual([]);
      expect(marker.gaps).toBe(0);
    });
  });

  describe("malformed notifications", () => {
    it("reports and skips what it cannot decode, and signals a gap for a stored event that is gone", async () => {
      const { bus, reported } = await startedBus();
      const organizationId = newOrganizationId();
      const got = collect(bus, organizationId);
      const bystander = collect(bus, newOrganizationId());
      const notify = (payload: string) => adminQuery(`NOTIFY ${EVENT_CHANNEL}, '${payload.replaceAll("'", "''")}'`, [], database.name);
      await notify("garbage");
      await notify("[1,2]");
      await notify(JSON.stringify({ v: 2, process: "p", seq: 0, event: pinged(organizationId, "future") }));
      await notify(JSON.stringify({ v: 1, process: "p", seq: -1, event: pinged(organizationId, "bad seq") }));
      await notify(JSON.stringify({ v: 1, process: "p", seq: 0, event: { ...pinged(organizationId, "x"), author: "not a device" } }));
      await notify(JSON.stringify({ v: 1, process: "p", seq: 0, event: { type: "unknown.event", organizationId } }));
      await notify(JSON.stringify({ v: 1, process: "p", seq: 0, event: { type: "message.received", organizationId, author: "a@b", recipient: "b", index: 1.5 } }));
      await notify(JSON.stringify({ v: 1, process: "p", seq: 0, organizationId, payloadId: "0x10" }));
      await notify(JSON.stringify({ v: 1, process: "p", seq: 0, organizationId, payloadId: "999999999" }));
      const { id } = (await pool.query<{ id: string }>(`INSERT INTO event_payload (payload) VALUES ('{"type":"pinged"}') RETURNING id`)).rows[0]!;
      await notify(JSON.stringify({ v: 1, process: "p", seq: 0, organizationId, payloadId: id }));
      const good = pinged(organizationId, "good");
      await bus.publishNow(good);
      await expect.poll(() => got.received).toEqual([good]);
      expect(messages(reported)).toEqual([
        ...Array<string>(8).fill("Malformed event notification skipped"),
        "Stored event lost",
        "Stored event lost",
      ]);
      expect(reported[0]!.context).toMatchObject({ payload: "garbage", reason: "not JSON" });
      expect(reported[4]!.context.reason).toMatch(/author/);
      expect(reported[8]!.context.reason).toMatch(/missing/);
      expect(got.gaps).toBe(2);
      expect(bystander.gaps).toBe(0);
      expect(bystander.received).toEqual([]);
    });
  });

  describe("subscribers", () => {
    it("reports a throwing subscriber with its error", async () => {
      const { bus, reported } = await startedBus();
      const organizationId = newOrganizationId();
      const failure = new Error("subscriber failure");
      bus.subscribe(organizationId, {
        event: () => {
          throw failure;
        },
      });
      const after = collect(bus, organizationId);
      const event = pinged(organizationId, "x");
      await bus.publishNow(event);
      await expect.poll(() => after.received).toEqual([event]);
      expect(reported).toEqual([expect.objectContaining({ message: "Event subscriber threw", context: expect.objectContaining({ err: failure, organization_id: organizationId, event_type: "pinged" }) })]);
    });

    it("delivers asynchronously: never from inside publish", async () => {
      const { bus } = await startedBus();
      const organizationId = newOrganizationId();
      const got = collect(bus, organizationId);
      const event = pinged(organizationId, "x");
      const publishing = bus.publishNow(event);
      expect(got.received).toEqual([]);
      await publishing;
      await expect.poll(() => got.received).toEqual([event]);
    });
  });

  describe("loss of the LISTEN connection", () => {
    it("reconnects after pg_terminate_backend, signals a gap to every subscriber, then delivers again", async () => {
      const { bus, processId, reported } = await startedBus({ options: { reconnectDelaysMs: [300] } });
      const org1 = newOrganizationId();
      const org2 = newOrganizationId();
      const a = collect(bus, org1);
      const b = collect(bus, org1);
      const c = collect(bus, org2);
      const withoutGap: BackendEvent[] = [];
      bus.subscribe(org2, { event: (event) => withoutGap.push(event) });
      const [pid] = await listenBackends(processId);
      expect(pid).toBeTypeOf("number");
      await adminQuery("SELECT pg_terminate_backend($1)", [pid], database.name);
      await waitFor("loss report", () => messages(reported).includes("LISTEN connection to PostgreSQL lost; reconnecting"));
      await bus.publishNow(pinged(org1, "while disconnected"));
      await expect.poll(() => [a.gaps, b.gaps, c.gaps]).toEqual([1, 1, 1]);
      const [newPid] = await listenBackends(processId);
      expect(newPid).toBeTypeOf("number");
      expect(newPid).not.toBe(pid);
      const after1 = pinged(org1, "after");
      const after2 = pinged(org2, "after");
      await bus.publishNow(after1);
      await bus.publishNow(after2);
      await expect.poll(() => a.received.at(-1)).toEqual(after1);
      await expect.poll(() => c.received).toEqual([after2]);
      await expect.poll(() => withoutGap).toEqual([after2]);
      expect(b.received.at(-1)).toEqual(after1);
      expect(messages(reported)).toEqual(["LISTEN connection to PostgreSQL lost; reconnecting"]);
    });

    it("notices a silent network cut with its keepalive, publishes meanwhile, and recovers with a gap", async () => {
      const proxy = await TcpProxy.open({ host: "127.0.0.1", port: Number(new URL(database.url).port) });
      try {
        const { bus, reported } = await startedBus({
          listenUrl: proxy.url(database.url),
          options: { keepaliveIntervalMs: 200, keepaliveTimeoutMs: 300, connectTimeoutMs: 400, reconnectDelaysMs: [50] },
        });
        const peer = await startedBus();
        const organizationId = newOrganizationId();
        const got = collect(bus, organizationId);
        const remote = collect(peer.bus, organizationId);
        const before = pinged(organizationId, "before");
        await bus.publishNow(before);
        await expect.poll(() => got.received).toEqual([before]);
        proxy.freeze();
        const frozenAt = Date.now();
        await waitFor("loss report", () => messages(reported).includes("LISTEN connection to PostgreSQL lost; reconnecting"), 5_000);
        expect(Date.now() - frozenAt).toBeLessThan(2_000);
        expect(reported[0]!.context.reason).toBe("keepalive failed");
        const during = pinged(organizationId, "during");
        await bus.publishNow(during);
        await expect.poll(() => remote.received).toEqual([before, during]);
        await waitFor("a failed reconnection", () => messages(reported).includes("LISTEN reconnection to PostgreSQL failed; retrying"), 5_000);
        expect(got.gaps).toBe(0);
        proxy.freeze(false);
        await expect.poll(() => got.gaps, { timeout: 5_000 }).toBe(1);
        const after = pinged(organizationId, "after");
        await peer.bus.publishNow(after);
        await expect.poll(() => got.received.at(-1)).toEqual(after);
        expect(got.received).not.toContainEqual(during);
      } finally {
        await Promise.all(opened.splice(0).map((bus) => bus.close()));
        await proxy.close();
      }
    });

    it("keeps retrying, with its backoff, while the database refuses connections", async () => {
      const proxy = await TcpProxy.open({ host: "127.0.0.1", port: Number(new URL(database.url).port) });
      try {
        const { bus, reported } = await startedBus({ listenUrl: proxy.url(database.url), options: { reconnectDelaysMs: [0, 150] } });
        const organizationId = newOrganizationId();
        const got = collect(bus, organizationId);
        proxy.refuse();
        proxy.cutAll();
        const failed = () => reported.filter((r) => r.message === "LISTEN reconnection to PostgreSQL failed; retrying");
        await waitFor("four failed reconnections", () => failed().length >= 4, 5_000);
        expect(failed().map((r) => r.context.attempt).slice(0, 4)).toEqual([1, 2, 3, 4]);
        const f = failed();
        expect(f[2]!.at - f[1]!.at).toBeGreaterThanOrEqual(140);
        expect(got.gaps).toBe(0);
        proxy.refuse(false);
        await expect.poll(() => got.gaps, { timeout: 5_000 }).toBe(1);
        const after = pinged(organizationId, "after");
        await bus.publishNow(after);
        await expect.poll(() => got.received).toEqual([after]);
        expect(String(reported[0]!.context.target)).not.toContain(new URL(database.url).password);
      } finally {
        await Promise.all(opened.splice(0).map((bus) => bus.close()));
        await proxy.close();
      }
    });
  });

  describe("start and close", () => {
    it("rejects start when PostgreSQL cannot be reached, without leaking the password", async () => {
      const url = new URL(database.url);
      url.port = String(await freeLocalPort());
      const { bus } = newBus({ listenUrl: url.toString() });
      const failure = await bus.start().then(
        () => null,
        (err: unknown) => err as Error,
      );
      expect(failure?.message).toMatch(new RegExp(`^Cannot LISTEN on PostgreSQL 127\\.0\\.0\\.1:${url.port}/${database.name}: `));
      expect(failure?.message).not.toContain(url.password);
      await bus.close();
    });

    it("rejects start when event_payload is missing", async () => {
      const bare = await createTestDatabase({ migrated: false });
      const barePool = new pg.Pool({ connectionString: bare.url });
      try {
        const bus = new PostgresEventBus({ listenUrl: bare.url, executorOf: () => barePool, processId: "p1", onError: () => {} });
        await expect(bus.start()).rejects.toThrow(/event_payload.*0002_events\.sql.*does not exist/);
        await bus.close();
      } finally {
        await barePool.end();
        await dropTestDatabase(bare.name);
      }
    });

    it("rejects a bad process id or option at construction", () => {
      const deps = { listenUrl: "postgresql://localhost/db", executorOf: uow.executorOf, onError: () => {} };
      expect(() => new PostgresEventBus({ ...deps, processId: "" })).toThrow(RangeError);
      expect(() => new PostgresEventBus({ ...deps, processId: "with space" })).toThrow(RangeError);
      expect(() => new PostgresEventBus({ ...deps, processId: "x".repeat(50) })).toThrow(RangeError);
      expect(() => new PostgresEventBus({ ...deps, processId: "p", options: { reconnectDelaysMs: [] } })).toThrow(RangeError);
      expect(() => new PostgresEventBus({ ...deps, processId: "p", options: { keepaliveTimeoutMs: 0 } })).toThrow(RangeError);
      expect(() => new PostgresEventBus({ ...deps, listenUrl: "not a url", processId: "p" })).toThrow(RangeError);
    });

    it("closes idempotently: its LISTEN backend leaves, nothing is delivered after, publishing still works", async () => {
      const { bus, processId } = await startedBus();
      const peer = await startedBus();
      const organizationId = newOrganizationId();
      const got = collect(bus, organizationId);
      const remote = collect(peer.bus, organizationId);
      expect(await listenBackends(processId)).toHaveLength(1);
      await Promise.all([bus.close(), bus.close()]);
      await bus.close();
      await expect.poll(() => listenBackends(processId)).toEqual([]);
      const event = pinged(organizationId, "after close");
      await bus.publishNow(event);
      await expect.poll(() => remote.received).toEqual([event]);
      await settle();
      expect(got.received).toEqual([]);
      await expect(bus.start()).rejects.toThrow(/closed/);
    });

    it("can be closed while it starts", async () => {
      const { bus, processId } = newBus();
      const starting = bus.start();
      await bus.close();
      await expect(starting).rejects.toThrow();
      await settle();
      expect(await listenBackends(processId)).toEqual([]);
    });

    for (const mode of ["plain", "lost"] as const) {
      it(`lets the process exit by itself once closed (${mode === "lost" ? "while a reconnection is pending" : "after a delivery"})`, async () => {
        const child = spawn(process.execPath, ["--import", "tsx", CHILD, database.url, mode], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
        expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "closed\n", stderr: "" });
      });
    }
  });
});
