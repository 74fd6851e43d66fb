import { describe, expect, it } from "vitest";
import type { Organization } from "../../src/domain/organization/index.js";
import { newOrganizationId, organization, pause, runAndRollBack, seedOrganization, useFixture, type Make, type PersistencePorts } from "./fixtures.js";

/**
 * `UnitOfWork` and `Tx`: one atomic step per run, scoped to an organization; a throw rolls back;
 * `onCommit` callbacks run once the transaction has committed, never after a rollback.
 */
export function unitOfWorkContract(make: Make<Pick<PersistencePorts, "uow" | "organizations">>): void {
  describe("UnitOfWork contract", () => {
    const fixture = useFixture(make);

    it("resolves with the work's value and keeps its writes", async () => {
      const { uow, organizations } = fixture.current();
      const org = organization(newOrganizationId());
      await expect(
        uow.run(org.id, async (tx) => {
          await organizations.save(tx, org);
          return { answer: 42 };
        }),
      ).resolves.toEqual({ answer: 42 });
      expect(await organizations.get(org.id)).toEqual(org);
    });

    it("rejects with the work's own error and rolls its writes back", async () => {
      const { uow, organizations } = fixture.current();
      const org = organization(newOrganizationId());
      await runAndRollBack(uow, org.id, async (tx) => {
        await organizations.save(tx, org);
        expect(await organizations.get(org.id, tx)).toEqual(org);
      });
      expect(await organizations.get(org.id)).toBeNull();
    });

    it("rolls back a replacement to the value committed before", async () => {
      const { uow, organizations } = fixture.current();
      const original = await seedOrganization(fixture.current());
      await runAndRollBack(uow, original.id, async (tx) => {
        await organizations.save(tx, { ...original, bootstrapToken: "a".repeat(64) });
        await organizations.save(tx, { ...original, bootstrapToken: "b".repeat(64) });
      });
      expect(await organizations.get(original.id)).toEqual(original);
    });

    it("accepts new runs on the organization after a failed one", async () => {
      const { uow, organizations } = fixture.current();
      const org = await seedOrganization(fixture.current());
      await runAndRollBack(uow, org.id, async () => pause());
      const patched = { ...org, activeUsersLimit: 7 };
      await uow.run(org.id, (tx) => organizations.save(tx, patched));
      expect(await organizations.get(org.id)).toEqual(patched);
    });

    it("runs read-modify-write steps on one organization one at a time (50 concurrent increments end at 50)", async () => {
      const { uow, organizations } = fixture.current();
      const org = await seedOrganization(fixture.current(), { activeUsersLimit: 0 });
      const increment = () =>
        uow.run(org.id, async (tx) => {
          const current = (await organizations.get(org.id, tx))!;
          await pause(1);
          await organizations.save(tx, { ...current, activeUsersLimit: current.activeUsersLimit! + 1 });
        });
      await Promise.all(Array.from({ length: 50 }, increment));
      expect((await organizations.get(org.id))!.activeUsersLimit).toBe(50);
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
        await organizations.save(tx, org);
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
  });
}
