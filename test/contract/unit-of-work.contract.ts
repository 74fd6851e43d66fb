import { describe, expect, it } from "vitest";
import type { Tx } from "../../src/application/ports/index.js";
import type { InvitationToken, RealmID } from "../../src/domain/ids.js";
import type { Organization } from "../../src/domain/organization/index.js";
import {
  at,
  bytes,
  device,
  did,
  newOrganizationId,
  newRealmId,
  newToken,
  organization,
  pause,
  realm,
  runAndRollBack,
  seedOrganization,
  seedUser,
  uid,
  user,
  useFixture,
  type Make,
  type PersistencePorts,
} from "./fixtures.js";

/**
 * `UnitOfWork` and `Tx`: one atomic step per run across every repository; a throw rolls everything back and rethrows;
 * `onCommit` callbacks run once the transaction has committed, never after a rollback; runs of different
 * organizations do not wait for each other.
 */
export function unitOfWorkContract(make: Make<PersistencePorts>): void {
  describe("UnitOfWork contract", () => {
    const fixture = useFixture(make);

    it("resolves with the work's value and keeps its writes", async () => {
      const { uow, organizations } = fixture.current();
      const org = organization(newOrganizationId());
      await expect(
        uow.run(org.id, async (tx) => {
          expect(await organizations.create(tx, org)).toBe("ok");
          return { answer: 42 };
        }),
      ).resolves.toEqual({ answer: 42 });
      expect(await organizations.get(org.id)).toEqual(org);
    });

    it("rejects with the work's own error and rolls its writes back", async () => {
      const { uow, organizations } = fixture.current();
      const org = organization(newOrganizationId());
      await runAndRollBack(uow, org.id, async (tx) => {
        await organizations.create(tx, org);
        expect(await organizations.get(org.id, tx)).toEqual(org);
      });
      expect(await organizations.get(org.id)).toBeNull();
    });

    it("rolls back successive changes to the value committed before", async () => {
      const { uow, organizations } = fixture.current();
      const original = await seedOrganization(fixture.current());
      await runAndRollBack(uow, original.id, async (tx) => {
        await organizations.replaceNotBootstrapped(tx, { ...original, bootstrapToken: "a".repeat(64) });
        await organizations.update(tx, original.id, { activeUsersLimit: 4 });
        await organizations.replaceNotBootstrapped(tx, { ...original, bootstrapToken: "b".repeat(64) });
      });
      expect(await organizations.get(original.id)).toEqual(original);
    });

    it("accepts new runs on the organization after a failed one", async () => {
      const { uow, organizations } = fixture.current();
      const org = await seedOrganization(fixture.current());
      await runAndRollBack(uow, org.id, async () => pause());
      await uow.run(org.id, (tx) => organizations.update(tx, org.id, { activeUsersLimit: 7 }));
      expect(await organizations.get(org.id)).toEqual({ ...org, activeUsersLimit: 7 });
    });

    it("commits or rolls back the writes of every repository together", async () => {
      const p = fixture.current();
      const org = await seedOrganization(p);
      await seedUser(p, org.id, "alice", { user: { profile: "ADMIN" } });
      const writeEverything = (name: string) => async (tx: Tx) => {
        const realmId = newRealmId();
        const token = newToken();
        expect(await p.organizations.update(tx, org.id, { activeUsersLimit: 50 })).toBe("ok");
        expect(await p.users.create(tx, org.id, user(uid(name)), device(did(`${name}@dev1`)))).toBe("ok");
        expect(await p.realms.create(tx, org.id, realm(realmId, [{ userId: uid("alice"), role: "OWNER" }]))).toBe("ok");
        expect(await p.messages.post(tx, org.id, uid("alice"), { sender: did(`${name}@dev1`), timestamp: at(3), body: bytes("hello") })).toBe(1);
        const invited = await p.invitations.createOrReuse(tx, org.id, {
          token,
          type: "USER",
          greeterUserId: uid("alice"),
          greeterHumanHandle: null,
          claimerEmail: `${name}-friend@example.com`,
          createdOn: at(4),
          status: "IDLE",
          deleted: null,
        });
        expect(invited.created).toBe(true);
        return { realmId, token };
      };

      let rolledBack: { realmId: RealmID; token: InvitationToken } | null = null;
      await runAndRollBack(p.uow, org.id, async (tx) => {
        rolledBack = await writeEverything("bob")(tx);
      });
      const lost = rolledBack!;
      expect(await p.organizations.get(org.id)).toEqual(org);
      expect(await p.users.getSummary(org.id, uid("bob"))).toBeNull();
      expect(await p.realms.get(org.id, lost.realmId)).toBeNull();
      expect(await p.messages.list(org.id, uid("alice"), 0)).toEqual([]);
      expect(await p.invitations.get(org.id, lost.token)).toBeNull();

      const kept = await p.uow.run(org.id, writeEverything("bob"));
      expect((await p.organizations.get(org.id))?.activeUsersLimit).toBe(50);
      expect((await p.users.getSummary(org.id, uid("bob")))?.userId).toBe("bob");
      expect((await p.realms.get(org.id, kept.realmId))?.id).toBe(kept.realmId);
      expect(await p.messages.list(org.id, uid("alice"), 0)).toHaveLength(1);
      expect((await p.invitations.get(org.id, kept.token))?.token).toBe(kept.token);
    });

    it("runs onCommit callbacks once, after the commit, when the committed writes are visible", async () => {
      const { uow, organizations } = fixture.current();
      const org = organization(newOrganizationId());
      const calls: string[] = [];
      let seenFromCallback: Promise<Organization | null> | null = null;
      await uow.run(org.id, async (tx) => {
        tx.onCommit(() => {
          calls.push("first");
          seenFromCallback = organizations.get(org.id);
        });
        tx.onCommit(() => calls.push("second"));
        await organizations.create(tx, org);
        await pause();
        expect(calls).toEqual([]);
      });
      await expect.poll(() => [...calls].sort()).toEqual(["first", "second"]);
      expect(await seenFromCallback).toEqual(org);
      await pause(20);
      expect(calls).toHaveLength(2);
    });

    it("never runs onCommit callbacks of a rolled-back run", async () => {
      const { uow, organizations } = fixture.current();
      const org = await seedOrganization(fixture.current());
      const calls: string[] = [];
      await runAndRollBack(uow, org.id, async (tx) => {
        tx.onCommit(() => calls.push("rolled back"));
      });
      await uow.run(org.id, async (tx) => {
        tx.onCommit(() => calls.push("committed"));
        await organizations.get(org.id, tx);
      });
      await expect.poll(() => calls).toContain("committed");
      await pause(20);
      expect(calls).toEqual(["committed"]);
    });

    it("does not make a run of one organization wait for a run of another", async () => {
      const { uow } = fixture.current();
      const [a, b] = [newOrganizationId(), newOrganizationId()];
      let signal!: () => void;
      const bStarted = new Promise<void>((resolve) => (signal = resolve));
      const timeout = new Promise<"stuck">((resolve) => setTimeout(() => resolve("stuck"), 2_000));
      const runA = uow.run(a, async () => Promise.race([bStarted.then(() => "a saw b" as const), timeout]));
      const runB = uow.run(b, async () => {
        signal();
        return "b";
      });
      expect(await Promise.all([runA, runB])).toEqual(["a saw b", "b"]);
    });
  });
}
