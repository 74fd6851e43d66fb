import { describe, expect, it } from "vitest";
import type { BackendEvent, EventBus, UnitOfWork } from "../../src/application/ports/index.js";
import type { OrganizationID } from "../../src/domain/ids.js";
import { did, newOrganizationId, newRealmId, newToken, newVlobId, pause, race, runAndRollBack, uid, useFixture, type Make } from "./fixtures.js";

/**
 * The ports an event bus suite needs: a unit of work whose transactions the bus can publish in, the bus, and `peer`,
 * a second bus on the same backing service (another server process), when the adapter has one.
 */
export interface EventBusPorts {
  readonly uow: UnitOfWork;
  readonly events: EventBus;
  readonly peer?: EventBus;
}

const pinged = (organizationId: OrganizationID, ping: string): BackendEvent => ({ type: "pinged", organizationId, author: did("alice@dev1"), ping });

const collect = (bus: EventBus, organizationId: OrganizationID): { received: BackendEvent[]; unsubscribe: () => void } => {
  const received: BackendEvent[] = [];
  const unsubscribe = bus.subscribe(organizationId, { event: (event) => received.push(event) });
  return { received, unsubscribe };
};

/**
 * `EventBus`: per-organization subscriptions; delivery always asynchronous (never inside `publish`/`publishNow`; a
 * bus of several processes may deliver as soon as the commit is done, even before the committing call has resolved,
 * so the suites do not assert more), after commit only for a transaction's events and never after a rollback, in
 * commit order; unsubscribe; a throwing subscriber does not stop the others. The memory bus's stricter timing
 * (delivery on a later turn, after the publisher resolved) is tested in test/adapters/memory.
 */
export function eventBusContract(make: Make<EventBusPorts>): void {
  describe("EventBus contract", () => {
    const fixture = useFixture(make);

    describe("publishNow", () => {
      it("delivers to every subscriber of the organization, never synchronously", async () => {
        const { events } = fixture.current();
        const org = newOrganizationId();
        const [a, b] = [collect(events, org), collect(events, org)];
        const event = pinged(org, "hello");
        const publishing = events.publishNow(event);
        expect(a.received).toEqual([]);
        expect(b.received).toEqual([]);
        await publishing;
        await expect.poll(() => a.received).toEqual([event]);
        await expect.poll(() => b.received).toEqual([event]);
        await pause(20);
        expect(a.received).toEqual([event]);
        a.unsubscribe();
        b.unsubscribe();
      });

      it("delivers every kind of event with all its fields intact, in publication order", async () => {
        const { events } = fixture.current();
        const organizationId = newOrganizationId();
        const author = did("alice@dev1");
        const realmId = newRealmId();
        const sample: BackendEvent[] = [
          { type: "pinged", organizationId, author, ping: "ping é ✓ 😀" },
          { type: "user.revoked", organizationId, userId: uid("bob") },
          { type: "invite.status_changed", organizationId, greeter: uid("alice"), token: newToken(), status: "READY" },
          { type: "invite.status_changed", organizationId, greeter: uid("alice"), token: newToken(), status: "DELETED" },
          { type: "organization.expired", organizationId },
          { type: "message.received", organizationId, author, recipient: uid("bob"), index: 3 },
          { type: "invite.conduit_updated", organizationId, token: newToken() },
          { type: "realm.roles_updated", organizationId, author, realmId, userId: uid("bob"), role: "CONTRIBUTOR" },
          { type: "realm.roles_updated", organizationId, author, realmId, userId: uid("bob"), role: null },
          { type: "realm.vlobs_updated", organizationId, author, realmId, checkpoint: 12, srcId: newVlobId(), srcVersion: 4 },
          { type: "realm.maintenance_started", organizationId, author, realmId, encryptionRevision: 2 },
          { type: "realm.maintenance_finished", organizationId, author, realmId, encryptionRevision: 2 },
        ];
        const { received, unsubscribe } = collect(events, organizationId);
        for (const event of sample) await events.publishNow(event);
        await expect.poll(() => received).toHaveLength(sample.length);
        expect(received).toEqual(sample);
        unsubscribe();
      });

      it("accepts events of any size (a 200 kB ping), with or without a transaction", async () => {
        const { uow, events } = fixture.current();
        const org = newOrganizationId();
        const { received, unsubscribe } = collect(events, org);
        const big = pinged(org, "x".repeat(100_000) + "é".repeat(50_000));
        const bigToo = pinged(org, "y".repeat(200_000));
        await events.publishNow(big);
        await uow.run(org, (tx) => events.publish(tx, bigToo));
        await expect.poll(() => received).toHaveLength(2);
        expect(received).toEqual([big, bigToo]);
        unsubscribe();
      });

      it("accepts events of an organization nobody listens to", async () => {
        const { events } = fixture.current();
        await expect(events.publishNow(pinged(newOrganizationId(), "nobody"))).resolves.toBeUndefined();
      });
    });

    describe("publish with a transaction", () => {
      it("delivers only after the commit, never inside publish, in publication order", async () => {
        const { uow, events } = fixture.current();
        const org = newOrganizationId();
        const { received, unsubscribe } = collect(events, org);
        const published = [pinged(org, "1"), pinged(org, "2"), pinged(org, "3")];
        await uow.run(org, async (tx) => {
          for (const event of published) {
            const publishing = events.publish(tx, event);
            expect(received).toEqual([]);
            await publishing;
            expect(received).toEqual([]);
          }
          await pause(20);
          expect(received).toEqual([]);
        });
        await expect.poll(() => received).toHaveLength(3);
        expect(received).toEqual(published);
        unsubscribe();
      });

      it("never delivers events published with a transaction that rolls back", async () => {
        const { uow, events } = fixture.current();
        const org = newOrganizationId();
        const { received, unsubscribe } = collect(events, org);
        await runAndRollBack(uow, org, async (tx) => {
          await events.publish(tx, pinged(org, "rolled back 1"));
          await events.publish(tx, pinged(org, "rolled back 2"));
        });
        const marker = pinged(org, "marker");
        await uow.run(org, (tx) => events.publish(tx, marker));
        await expect.poll(() => received).toContainEqual(marker);
        await pause(20);
        expect(received).toEqual([marker]);
        unsubscribe();
      });

      it("delivers in commit order, events without a transaction included", async () => {
        const { uow, events } = fixture.current();
        const org = newOrganizationId();
        const { received, unsubscribe } = collect(events, org);
        const e = ["t1-a", "t1-b", "now", "t2", "t3-a", "t3-b"].map((ping) => pinged(org, ping));
        await uow.run(org, async (tx) => {
          await events.publish(tx, e[0]!);
          await events.publish(tx, e[1]!);
        });
        await events.publishNow(e[2]!);
        await uow.run(org, (tx) => events.publish(tx, e[3]!));
        await uow.run(org, async (tx) => {
          await events.publish(tx, e[4]!);
          await events.publish(tx, e[5]!);
        });
        await expect.poll(() => received).toHaveLength(6);
        expect(received).toEqual(e);
        unsubscribe();
      });

      it("delivers each event of 20 concurrent committed transactions exactly once, the events of each in order", async () => {
        const { uow, events } = fixture.current();
        const org = newOrganizationId();
        const { received, unsubscribe } = collect(events, org);
        await race(20, (n) =>
          uow.run(org, async (tx) => {
            await events.publish(tx, pinged(org, `${n}:a`));
            await pause(1);
            await events.publish(tx, pinged(org, `${n}:b`));
          }),
        );
        await expect.poll(() => received).toHaveLength(40);
        await pause(20);
        const pings = received.map((event) => (event.type === "pinged" ? event.ping : "?"));
        expect(new Set(pings).size).toBe(40);
        for (let n = 0; n < 20; n++) expect(pings.indexOf(`${n}:a`)).toBeLessThan(pings.indexOf(`${n}:b`));
        unsubscribe();
      });
    });

    describe("subscriptions", () => {
      it("delivers to the subscribers of the event's organization only", async () => {
        const { uow, events } = fixture.current();
        const [orgA, orgB] = [newOrganizationId(), newOrganizationId()];
        const [a, b] = [collect(events, orgA), collect(events, orgB)];
        const forB = [pinged(orgB, "b-now"), pinged(orgB, "b-tx")];
        await events.publishNow(forB[0]!);
        await uow.run(orgB, (tx) => events.publish(tx, forB[1]!));
        const markerA = pinged(orgA, "a-marker");
        await events.publishNow(markerA);
        await expect.poll(() => b.received).toEqual(forB);
        await expect.poll(() => a.received).toEqual([markerA]);
        await pause(20);
        expect(a.received).toEqual([markerA]);
        a.unsubscribe();
        b.unsubscribe();
      });

      it("stops delivering to a subscriber once it unsubscribed (idempotent), the others still receive", async () => {
        const { events } = fixture.current();
        const org = newOrganizationId();
        const leaving = collect(events, org);
        const staying = collect(events, org);
        const before = pinged(org, "before");
        await events.publishNow(before);
        await expect.poll(() => leaving.received).toEqual([before]);
        leaving.unsubscribe();
        leaving.unsubscribe();
        const after = pinged(org, "after");
        await events.publishNow(after);
        await expect.poll(() => staying.received).toEqual([before, after]);
        await pause(20);
        expect(leaving.received).toEqual([before]);
        staying.unsubscribe();
      });

      it("keeps delivering to the other subscribers, and to itself, when a subscriber throws", async () => {
        const { uow, events } = fixture.current();
        const org = newOrganizationId();
        let thrown = 0;
        const unsubscribeThrower = events.subscribe(org, {
          event: () => {
            thrown += 1;
            throw new Error("contract: a subscriber that throws");
          },
        });
        const other = collect(events, org);
        const sent = [pinged(org, "1"), pinged(org, "2"), pinged(org, "3")];
        await events.publishNow(sent[0]!);
        await uow.run(org, async (tx) => {
          await events.publish(tx, sent[1]!);
          await events.publish(tx, sent[2]!);
        });
        await expect.poll(() => other.received).toEqual(sent);
        await expect.poll(() => thrown).toBe(3);
        unsubscribeThrower();
        other.unsubscribe();
      });

      it("delivers what a subscriber publishes while handling an event", async () => {
        const { events } = fixture.current();
        const org = newOrganizationId();
        const reply = pinged(org, "reply");
        const unsubscribeEcho = events.subscribe(org, {
          event: (event) => {
            if (event.type === "pinged" && event.ping === "first") void events.publishNow(reply);
          },
        });
        const { received, unsubscribe } = collect(events, org);
        const first = pinged(org, "first");
        await events.publishNow(first);
        await expect.poll(() => received).toEqual([first, reply]);
        unsubscribeEcho();
        unsubscribe();
      });

      it("delivers to the subscribers of another bus on the same backing service", async (context) => {
        const { uow, events, peer } = fixture.current();
        if (!peer) return context.skip("this adapter has no peer bus");
        const org = newOrganizationId();
        const { received, unsubscribe } = collect(peer, org);
        const other = collect(peer, newOrganizationId());
        const direct = pinged(org, "direct");
        const committed = pinged(org, "committed");
        await events.publishNow(direct);
        await runAndRollBack(uow, org, (tx) => events.publish(tx, pinged(org, "rolled back")));
        await uow.run(org, (tx) => events.publish(tx, committed));
        await expect.poll(() => received).toEqual([direct, committed]);
        await pause(20);
        expect(received).toEqual([direct, committed]);
        expect(other.received).toEqual([]);
        unsubscribe();
        other.unsubscribe();
      });
    });
  });
}
