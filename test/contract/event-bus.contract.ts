import { describe, expect, it } from "vitest";
import type { BackendEvent, EventBus, UnitOfWork } from "../../src/application/ports/index.js";
import type { OrganizationID } from "../../src/domain/ids.js";
import { did, newOrganizationId, newRealmId, newToken, newVlobId, pause, runAndRollBack, uid, useFixture, type Make } from "./fixtures.js";

/** The ports an event bus suite needs; `peer` is a second bus on the same backing service (another server process), when the adapter has one. */
export interface EventBusPorts {
  readonly uow: UnitOfWork;
  readonly events: EventBus;
  readonly peer?: EventBus;
}

const pinged = (organizationId: OrganizationID, ping: string): BackendEvent => ({ type: "pinged", organizationId, author: did("alice@dev1"), ping });

const collect = (bus: EventBus): { received: BackendEvent[]; unsubscribe: () => void } => {
  const received: BackendEvent[] = [];
  const unsubscribe = bus.subscribe((event) => received.push(event));
  return { received, unsubscribe };
};

/** `EventBus`: delivery to every subscriber, immediate without a transaction, after commit only with one. */
export function eventBusContract(make: Make<EventBusPorts>): void {
  describe("EventBus contract", () => {
    const fixture = useFixture(make);

    it("delivers an event published without a transaction to every subscriber", async () => {
      const { events } = fixture.current();
      const a = collect(events);
      const b = collect(events);
      const event = pinged(newOrganizationId(), "hello");
      events.publish(event);
      await expect.poll(() => a.received).toEqual([event]);
      await expect.poll(() => b.received).toEqual([event]);
      a.unsubscribe();
      b.unsubscribe();
    });

    it("delivers every kind of event with all its fields intact", async () => {
      const { events } = fixture.current();
      const organizationId = newOrganizationId();
      const author = did("alice@dev1");
      const realmId = newRealmId();
      const sample: BackendEvent[] = [
        { type: "pinged", organizationId, author, ping: "ping é ✓" },
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
      const { received, unsubscribe } = collect(events);
      for (const event of sample) events.publish(event);
      await expect.poll(() => received).toHaveLength(sample.length);
      expect(received).toEqual(sample);
      unsubscribe();
    });

    it("delivers events published with a transaction only after it commits, in publication order", async () => {
      const { uow, events } = fixture.current();
      const organizationId = newOrganizationId();
      const { received, unsubscribe } = collect(events);
      const published = [pinged(organizationId, "1"), pinged(organizationId, "2"), pinged(organizationId, "3")];
      await uow.run(organizationId, async (tx) => {
        for (const event of published) events.publish(event, tx);
        await pause(20);
        expect(received).toEqual([]);
      });
      await expect.poll(() => received).toHaveLength(3);
      expect(received).toEqual(published);
      unsubscribe();
    });

    it("never delivers events published with a transaction that rolls back", async () => {
      const { uow, events } = fixture.current();
      const organizationId = newOrganizationId();
      const { received, unsubscribe } = collect(events);
      await runAndRollBack(uow, organizationId, async (tx) => {
        events.publish(pinged(organizationId, "rolled back"), tx);
      });
      const marker = pinged(organizationId, "marker");
      await uow.run(organizationId, async (tx) => events.publish(marker, tx));
      await expect.poll(() => received).toContainEqual(marker);
      await pause(20);
      expect(received).toEqual([marker]);
      unsubscribe();
    });

    it("stops delivering to a listener once it unsubscribed", async () => {
      const { events } = fixture.current();
      const organizationId = newOrganizationId();
      const leaving = collect(events);
      const staying = collect(events);
      const before = pinged(organizationId, "before");
      events.publish(before);
      await expect.poll(() => leaving.received).toEqual([before]);
      leaving.unsubscribe();
      const after = pinged(organizationId, "after");
      events.publish(after);
      await expect.poll(() => staying.received).toEqual([before, after]);
      await pause(20);
      expect(leaving.received).toEqual([before]);
      staying.unsubscribe();
    });

    it("delivers to the subscribers of another bus on the same backing service", async (context) => {
      const { uow, events, peer } = fixture.current();
      if (!peer) return context.skip("this adapter has no peer bus");
      const organizationId = newOrganizationId();
      const { received, unsubscribe } = collect(peer);
      const direct = pinged(organizationId, "direct");
      const committed = pinged(organizationId, "committed");
      events.publish(direct);
      await uow.run(organizationId, async (tx) => events.publish(committed, tx));
      await expect.poll(() => received).toEqual([direct, committed]);
      unsubscribe();
    });
  });
}
