import { describe, expect, it } from "vitest";
import type { OrganizationID } from "../../src/domain/ids.js";
import {
  at,
  bytes,
  did,
  uid,
  newOrganizationId,
  organization,
  perProfile,
  runAndRollBack,
  seedOrganization,
  seedUser,
  useFixture,
  type Make,
  type PersistencePorts,
} from "./fixtures.js";

/** `OrganizationRepository`: get/save/list in creation order, and the user figures of `stats` as of a date. */
export function organizationRepositoryContract(make: Make<Pick<PersistencePorts, "uow" | "organizations" | "users">>): void {
  describe("OrganizationRepository contract", () => {
    const fixture = useFixture(make);

    it("answers null for an unknown organization", async () => {
      const { organizations } = fixture.current();
      expect(await organizations.get(newOrganizationId())).toBeNull();
    });

    it("round-trips every field of an organization", async () => {
      const { uow, organizations } = fixture.current();
      const org = organization(newOrganizationId(), {
        bootstrapToken: "",
        isExpired: true,
        createdOn: at(10.123456),
        bootstrappedOn: at(11.654321),
        rootVerifyKey: bytes("root", 27),
        userProfileOutsiderAllowed: false,
        activeUsersLimit: 12,
        minimumArchivingPeriod: 3600,
        sequesterAuthority: { certificate: bytes("sequester-authority", 40), verifyKeyDer: bytes("der", 80) },
        sequesterServicesCertificates: [bytes("service-1", 10), bytes("service-2", 10)],
      });
      await uow.run(org.id, (tx) => organizations.save(tx, org));
      expect(await organizations.get(org.id)).toEqual(org);
    });

    it("replaces a not-yet-bootstrapped organization of the same id", async () => {
      const { uow, organizations } = fixture.current();
      const first = await seedOrganization(fixture.current(), { bootstrapToken: "1".repeat(64), activeUsersLimit: null });
      const second = { ...first, bootstrapToken: "2".repeat(64), activeUsersLimit: 3, createdOn: at(20) };
      await uow.run(first.id, (tx) => organizations.save(tx, second));
      expect(await organizations.get(first.id)).toEqual(second);
    });

    it("shows a transaction its own writes, and nobody after a rollback", async () => {
      const { uow, organizations } = fixture.current();
      const org = organization(newOrganizationId());
      await runAndRollBack(uow, org.id, async (tx) => {
        await organizations.save(tx, org);
        expect(await organizations.get(org.id, tx)).toEqual(org);
      });
      expect(await organizations.get(org.id)).toBeNull();
      expect((await organizations.list()).map((o) => o.id)).not.toContain(org.id);
    });

    it("lists every organization in creation order", async () => {
      const { organizations } = fixture.current();
      const ids: OrganizationID[] = [];
      for (const createdOn of [at(30), at(31), at(32)]) ids.push((await seedOrganization(fixture.current(), { id: newOrganizationId(), createdOn })).id);
      const listed = (await organizations.list()).map((o) => o.id).filter((id) => ids.includes(id));
      expect(listed).toEqual(ids);
    });

    it("lists each organization as last saved", async () => {
      const { uow, organizations } = fixture.current();
      const org = await seedOrganization(fixture.current());
      const replaced = { ...org, bootstrapToken: "f".repeat(64) };
      await uow.run(org.id, (tx) => organizations.save(tx, replaced));
      expect((await organizations.list()).filter((o) => o.id === org.id)).toEqual([replaced]);
    });

    it("counts users as of `at`: created at or before it, revoked at or before it", async () => {
      const p = fixture.current();
      const org = await seedOrganization(p);
      await seedUser(p, org.id, "admin1", { user: { profile: "ADMIN", createdOn: at(100) } });
      await seedUser(p, org.id, "std1", { user: { profile: "STANDARD", createdOn: at(200) } });
      await seedUser(p, org.id, "std2", { user: { profile: "STANDARD", createdOn: at(300) } });
      await seedUser(p, org.id, "out1", { user: { profile: "OUTSIDER", createdOn: at(400) } });
      await p.uow.run(org.id, (tx) =>
        p.users.revoke(tx, org.id, uid("std1"), { revokedOn: at(500), certificate: bytes("revoked"), certifier: did("admin1@dev1") }),
      );

      const before = await p.organizations.stats(org.id, at(99));
      expect(before.users).toBe(0);
      expect(before.activeUsers).toBe(0);

      const middle = await p.organizations.stats(org.id, at(300));
      expect(middle.users).toBe(3);
      expect(middle.activeUsers).toBe(3);
      expect(perProfile(middle.usersPerProfileDetail)).toEqual({
        ADMIN: { active: 1, revoked: 0 },
        STANDARD: { active: 2, revoked: 0 },
        OUTSIDER: { active: 0, revoked: 0 },
      });

      const revokedAt = await p.organizations.stats(org.id, at(500));
      expect(revokedAt.users).toBe(4);
      expect(revokedAt.activeUsers).toBe(3);
      expect(perProfile(revokedAt.usersPerProfileDetail)).toEqual({
        ADMIN: { active: 1, revoked: 0 },
        STANDARD: { active: 1, revoked: 1 },
        OUTSIDER: { active: 1, revoked: 0 },
      });

      const justBefore = await p.organizations.stats(org.id, at(499.999999));
      expect(justBefore.activeUsers).toBe(4);
    });

    it("counts users as of now by default", async () => {
      const p = fixture.current();
      const org = await seedOrganization(p);
      await seedUser(p, org.id, "past", { user: { createdOn: at(0) } });
      await seedUser(p, org.id, "future", { user: { createdOn: at(100 * 365 * 24 * 3600) } });
      const stats = await p.organizations.stats(org.id);
      expect(stats.users).toBe(1);
      expect(stats.activeUsers).toBe(1);
    });

    it("counts only the users of the organization asked for", async () => {
      const p = fixture.current();
      const [orgA, orgB] = [await seedOrganization(p), await seedOrganization(p)];
      await seedUser(p, orgA.id, "alice");
      await seedUser(p, orgB.id, "bob");
      await seedUser(p, orgB.id, "carol");
      expect((await p.organizations.stats(orgA.id, at(1000))).users).toBe(1);
      expect((await p.organizations.stats(orgB.id, at(1000))).users).toBe(2);
    });
  });
}
