import { describe, expect, it } from "vitest";
import type { OrganizationBootstrap, Tx } from "../../src/application/ports/index.js";
import type { OrganizationID } from "../../src/domain/ids.js";
import type { Organization } from "../../src/domain/organization/index.js";
import {
  at,
  bytes,
  did,
  uid,
  newOrganizationId,
  organization,
  pause,
  perProfile,
  race,
  runAndRollBack,
  seedOrganization,
  seedUser,
  useFixture,
  type Make,
  type PersistencePorts,
} from "./fixtures.js";

type Ports = Pick<PersistencePorts, "uow" | "organizations" | "users">;

/** What a successful bootstrap of `org` with `b` leaves in the store. */
const bootstrapped = (org: Organization, b: OrganizationBootstrap): Organization => ({
  ...org,
  rootVerifyKey: b.rootVerifyKey,
  bootstrappedOn: b.bootstrappedOn,
  sequesterAuthority: b.sequesterAuthority,
  sequesterServicesCertificates: b.sequesterAuthority ? [] : null,
});

/** Compares organizations, reading "no sequester service certificate" as one value (`null` or `[]` once sequestered). */
const comparable = (org: Organization | null) =>
  org && { ...org, sequesterServicesCertificates: org.sequesterAuthority ? [...(org.sequesterServicesCertificates ?? [])] : org.sequesterServicesCertificates };

/**
 * `OrganizationRepository`: creation is never an upsert, re-creation only before the bootstrap, a bootstrap happens
 * once (outcomes in the documented order, nothing written unless ok), patches change only their fields, `list` in
 * creation order, and the user figures of `stats` as of a date.
 */
export function organizationRepositoryContract(make: Make<Ports>): void {
  describe("OrganizationRepository contract", () => {
    const fixture = useFixture(make);

    const bootstrapOf = (org: Organization, overrides: Partial<OrganizationBootstrap> = {}): OrganizationBootstrap => ({
      bootstrapToken: org.bootstrapToken,
      rootVerifyKey: bytes("root-verify-key", 22),
      bootstrappedOn: at(5.123456),
      sequesterAuthority: null,
      ...overrides,
    });

    const run = <T>(id: OrganizationID, work: (p: Ports, tx: Tx) => Promise<T>): Promise<T> => {
      const p = fixture.current();
      return p.uow.run(id, (tx) => work(p, tx));
    };

    describe("create", () => {
      it("answers null for an unknown organization", async () => {
        const { organizations } = fixture.current();
        expect(await organizations.get(newOrganizationId())).toBeNull();
      });

      it("round-trips every field of a new organization", async () => {
        const { organizations } = fixture.current();
        const org = organization(newOrganizationId(), {
          bootstrapToken: "",
          createdOn: at(10.123456),
          userProfileOutsiderAllowed: false,
          activeUsersLimit: 12,
          minimumArchivingPeriod: 3600,
        });
        expect(await run(org.id, (p, tx) => p.organizations.create(tx, org))).toBe("ok");
        expect(await organizations.get(org.id)).toEqual(org);
        const unlimited = organization(newOrganizationId(), { activeUsersLimit: null, minimumArchivingPeriod: 0 });
        expect(await run(unlimited.id, (p, tx) => p.organizations.create(tx, unlimited))).toBe("ok");
        expect(await organizations.get(unlimited.id)).toEqual(unlimited);
      });

      it("is never an upsert: a taken id is already_exists and the first organization stays intact", async () => {
        const { organizations } = fixture.current();
        const first = await seedOrganization(fixture.current(), { activeUsersLimit: 1 });
        const second = organization(first.id, { activeUsersLimit: 99, createdOn: at(50), userProfileOutsiderAllowed: false });
        expect(await run(first.id, (p, tx) => p.organizations.create(tx, second))).toBe("already_exists");
        expect(await organizations.get(first.id)).toEqual(first);
        expect((await organizations.list()).filter((o) => o.id === first.id)).toEqual([first]);
      });

      it("refuses to create again a bootstrapped organization, and leaves its bootstrap alone", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current());
        const b = bootstrapOf(org);
        expect(await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, b))).toBe("ok");
        expect(await run(org.id, (p, tx) => p.organizations.create(tx, organization(org.id)))).toBe("already_exists");
        expect(comparable(await organizations.get(org.id))).toEqual(comparable(bootstrapped(org, b)));
      });

      it("shows a transaction its own creation, and nobody after a rollback", async () => {
        const { uow, organizations } = fixture.current();
        const org = organization(newOrganizationId());
        await runAndRollBack(uow, org.id, async (tx) => {
          expect(await organizations.create(tx, org)).toBe("ok");
          expect(await organizations.get(org.id, tx)).toEqual(org);
        });
        expect(await organizations.get(org.id)).toBeNull();
        expect((await organizations.list()).map((o) => o.id)).not.toContain(org.id);
        expect(await run(org.id, (p, tx) => p.organizations.create(tx, org))).toBe("ok");
      });

      it("lets exactly one of 20 concurrent creations of one id through; the winner is stored whole", async () => {
        const { organizations } = fixture.current();
        const id = newOrganizationId();
        const candidates = Array.from({ length: 20 }, (_, i) => organization(id, { activeUsersLimit: i, createdOn: at(i) }));
        const outcomes = await Promise.all(candidates.map((org) => run(id, (p, tx) => p.organizations.create(tx, org))));
        expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
        expect(outcomes.filter((o) => o === "already_exists")).toHaveLength(19);
        expect(await organizations.get(id)).toEqual(candidates[outcomes.indexOf("ok")]);
      });
    });

    describe("replaceNotBootstrapped", () => {
      it("replaces the bootstrap token, settings and creation date of an organization not bootstrapped yet", async () => {
        const { organizations } = fixture.current();
        const first = await seedOrganization(fixture.current(), { bootstrapToken: "1".repeat(64), activeUsersLimit: null });
        const second = { ...first, bootstrapToken: "2".repeat(64), activeUsersLimit: 3, userProfileOutsiderAllowed: false, minimumArchivingPeriod: 7, createdOn: at(20) };
        expect(await run(first.id, (p, tx) => p.organizations.replaceNotBootstrapped(tx, second))).toBe("ok");
        expect(await organizations.get(first.id)).toEqual(second);
        expect((await organizations.list()).filter((o) => o.id === first.id)).toEqual([second]);
      });

      it("answers not_found for an unknown organization, and creates nothing", async () => {
        const { organizations } = fixture.current();
        const org = organization(newOrganizationId());
        expect(await run(org.id, (p, tx) => p.organizations.replaceNotBootstrapped(tx, org))).toBe("not_found");
        expect(await organizations.get(org.id)).toBeNull();
      });

      it("refuses a bootstrapped organization (already_bootstrapped) and changes nothing", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current());
        const b = bootstrapOf(org);
        await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, b));
        const replacement = { ...org, bootstrapToken: "9".repeat(64), activeUsersLimit: 1, createdOn: at(99) };
        expect(await run(org.id, (p, tx) => p.organizations.replaceNotBootstrapped(tx, replacement))).toBe("already_bootstrapped");
        expect(comparable(await organizations.get(org.id))).toEqual(comparable(bootstrapped(org, b)));
      });

      it("undoes a replacement that rolls back", async () => {
        const { uow, organizations } = fixture.current();
        const org = await seedOrganization(fixture.current());
        await runAndRollBack(uow, org.id, async (tx) => {
          expect(await organizations.replaceNotBootstrapped(tx, { ...org, bootstrapToken: "a".repeat(64) })).toBe("ok");
          expect(await organizations.replaceNotBootstrapped(tx, { ...org, bootstrapToken: "b".repeat(64), activeUsersLimit: 4 })).toBe("ok");
        });
        expect(await organizations.get(org.id)).toEqual(org);
      });
    });

    describe("bootstrap", () => {
      it("records the root verify key, the date and no sequester authority", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current());
        const b = bootstrapOf(org);
        expect(await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, b))).toBe("ok");
        const stored = await organizations.get(org.id);
        expect(stored).toEqual(bootstrapped(org, b));
        expect(stored?.sequesterServicesCertificates).toBeNull();
      });

      it("records a sequester authority, with no sequester service yet", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current());
        const b = bootstrapOf(org, { sequesterAuthority: { certificate: bytes("sequester-authority", 40), verifyKeyDer: bytes("der", 80) } });
        expect(await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, b))).toBe("ok");
        const stored = (await organizations.get(org.id))!;
        expect(stored.sequesterAuthority).toEqual(b.sequesterAuthority);
        expect(stored.sequesterServicesCertificates ?? []).toEqual([]);
        expect(comparable(stored)).toEqual(comparable(bootstrapped(org, b)));
      });

      it("accepts the empty token of a spontaneous bootstrap when it is the organization's", async () => {
        const org = await seedOrganization(fixture.current(), { bootstrapToken: "" });
        expect(await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, bootstrapOf(org, { bootstrapToken: "" })))).toBe("ok");
        const other = await seedOrganization(fixture.current());
        expect(await run(other.id, (p, tx) => p.organizations.bootstrap(tx, other.id, bootstrapOf(other, { bootstrapToken: "" })))).toBe("bad_token");
      });

      it("answers not_found for an unknown organization, and creates nothing", async () => {
        const { organizations } = fixture.current();
        const org = organization(newOrganizationId());
        expect(await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, bootstrapOf(org)))).toBe("not_found");
        expect(await organizations.get(org.id)).toBeNull();
      });

      it("answers bad_token for another token, and writes nothing", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current());
        expect(await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, bootstrapOf(org, { bootstrapToken: "0".repeat(64) })))).toBe("bad_token");
        expect(await organizations.get(org.id)).toEqual(org);
        expect(await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, bootstrapOf(org)))).toBe("ok");
      });

      it("happens once: already_bootstrapped before bad_token, and the first bootstrap stays", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current());
        const first = bootstrapOf(org);
        await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, first));
        const again = bootstrapOf(org, { rootVerifyKey: bytes("another-root-key", 16), bootstrappedOn: at(9) });
        expect(await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, again))).toBe("already_bootstrapped");
        expect(await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, { ...again, bootstrapToken: "0".repeat(64) }))).toBe("already_bootstrapped");
        expect(await organizations.get(org.id)).toEqual(bootstrapped(org, first));
      });

      it("undoes a bootstrap that rolls back", async () => {
        const { uow, organizations } = fixture.current();
        const org = await seedOrganization(fixture.current());
        await runAndRollBack(uow, org.id, async (tx) => {
          expect(await organizations.bootstrap(tx, org.id, bootstrapOf(org))).toBe("ok");
        });
        expect(await organizations.get(org.id)).toEqual(org);
        expect(await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, bootstrapOf(org)))).toBe("ok");
      });

      it("lets exactly one of 20 concurrent bootstraps through; the winner's root key is kept", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current());
        const attempts = Array.from({ length: 20 }, (_, i) => bootstrapOf(org, { rootVerifyKey: bytes(`root-${i}`, 16), bootstrappedOn: at(10 + i) }));
        const outcomes = await Promise.all(
          attempts.map((b) =>
            run(org.id, async (p, tx) => {
              await pause(1);
              return p.organizations.bootstrap(tx, org.id, b);
            }),
          ),
        );
        expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
        expect(outcomes.filter((o) => o === "already_bootstrapped")).toHaveLength(19);
        expect(await organizations.get(org.id)).toEqual(bootstrapped(org, attempts[outcomes.indexOf("ok")]!));
      });

      it("never lets a re-creation and a bootstrap both win (10 organizations, each raced)", async () => {
        const { organizations } = fixture.current();
        const orgs = await Promise.all(Array.from({ length: 10 }, () => seedOrganization(fixture.current())));
        const results = await Promise.all(
          orgs.map(async (org) => {
            const b = bootstrapOf(org);
            const replacement = { ...org, bootstrapToken: "c".repeat(64), activeUsersLimit: 5 };
            const [booted, replaced] = await Promise.all([
              run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, b)),
              run(org.id, (p, tx) => p.organizations.replaceNotBootstrapped(tx, replacement)),
            ]);
            return { org, b, replacement, booted, replaced, stored: await organizations.get(org.id) };
          }),
        );
        for (const { org, b, replacement, booted, replaced, stored } of results) {
          if (booted === "ok") {
            expect(replaced).toBe("already_bootstrapped");
            expect(stored).toEqual(bootstrapped(org, b));
          } else {
            expect([booted, replaced]).toEqual(["bad_token", "ok"]);
            expect(stored).toEqual(replacement);
          }
        }
      });
    });

    describe("update", () => {
      it("changes only the fields of the patch", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current(), { activeUsersLimit: 10, userProfileOutsiderAllowed: true, minimumArchivingPeriod: 100 });
        expect(await run(org.id, (p, tx) => p.organizations.update(tx, org.id, {}))).toBe("ok");
        expect(await organizations.get(org.id)).toEqual(org);
        await run(org.id, (p, tx) => p.organizations.update(tx, org.id, { activeUsersLimit: 3 }));
        expect(await organizations.get(org.id)).toEqual({ ...org, activeUsersLimit: 3 });
        await run(org.id, (p, tx) => p.organizations.update(tx, org.id, { isExpired: true, minimumArchivingPeriod: 0 }));
        expect(await organizations.get(org.id)).toEqual({ ...org, activeUsersLimit: 3, isExpired: true, minimumArchivingPeriod: 0 });
        await run(org.id, (p, tx) => p.organizations.update(tx, org.id, { userProfileOutsiderAllowed: false, isExpired: false }));
        expect(await organizations.get(org.id)).toEqual({ ...org, activeUsersLimit: 3, minimumArchivingPeriod: 0, userProfileOutsiderAllowed: false });
      });

      it("reads an explicit null limit as no limit, and an absent one as unchanged", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current(), { activeUsersLimit: 10 });
        await run(org.id, (p, tx) => p.organizations.update(tx, org.id, { isExpired: true }));
        expect((await organizations.get(org.id))?.activeUsersLimit).toBe(10);
        await run(org.id, (p, tx) => p.organizations.update(tx, org.id, { activeUsersLimit: null }));
        expect((await organizations.get(org.id))?.activeUsersLimit).toBeNull();
        await run(org.id, (p, tx) => p.organizations.update(tx, org.id, { activeUsersLimit: 0 }));
        expect((await organizations.get(org.id))?.activeUsersLimit).toBe(0);
      });

      it("patches a bootstrapped organization without touching its bootstrap", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current());
        const b = bootstrapOf(org);
        await run(org.id, (p, tx) => p.organizations.bootstrap(tx, org.id, b));
        await run(org.id, (p, tx) => p.organizations.update(tx, org.id, { isExpired: true, activeUsersLimit: 2 }));
        expect(await organizations.get(org.id)).toEqual({ ...bootstrapped(org, b), isExpired: true, activeUsersLimit: 2 });
      });

      it("answers not_found for an unknown organization, and creates nothing", async () => {
        const { organizations } = fixture.current();
        const id = newOrganizationId();
        expect(await run(id, (p, tx) => p.organizations.update(tx, id, { isExpired: true }))).toBe("not_found");
        expect(await organizations.get(id)).toBeNull();
      });

      it("undoes patches that roll back, in reverse order", async () => {
        const { uow, organizations } = fixture.current();
        const org = await seedOrganization(fixture.current(), { activeUsersLimit: 1 });
        await runAndRollBack(uow, org.id, async (tx) => {
          await organizations.update(tx, org.id, { activeUsersLimit: 2 });
          await organizations.update(tx, org.id, { activeUsersLimit: 3, isExpired: true });
          expect(await organizations.get(org.id, tx)).toEqual({ ...org, activeUsersLimit: 3, isExpired: true });
        });
        expect(await organizations.get(org.id)).toEqual(org);
      });

      it("keeps every field of concurrent patches of different fields", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current(), { activeUsersLimit: 1, isExpired: false, userProfileOutsiderAllowed: true, minimumArchivingPeriod: 1 });
        await Promise.all([
          run(org.id, (p, tx) => p.organizations.update(tx, org.id, { activeUsersLimit: 42 })),
          run(org.id, (p, tx) => p.organizations.update(tx, org.id, { isExpired: true })),
          run(org.id, (p, tx) => p.organizations.update(tx, org.id, { userProfileOutsiderAllowed: false })),
          run(org.id, (p, tx) => p.organizations.update(tx, org.id, { minimumArchivingPeriod: 77 })),
        ]);
        expect(await organizations.get(org.id)).toEqual({ ...org, activeUsersLimit: 42, isExpired: true, userProfileOutsiderAllowed: false, minimumArchivingPeriod: 77 });
      });
    });

    describe("list", () => {
      it("lists every organization in creation order", async () => {
        const { organizations } = fixture.current();
        const ids: OrganizationID[] = [];
        for (const createdOn of [at(30), at(31), at(32)]) ids.push((await seedOrganization(fixture.current(), { createdOn })).id);
        const listed = (await organizations.list()).map((o) => o.id).filter((id) => ids.includes(id));
        expect(listed).toEqual(ids);
      });

      it("lists each organization as last written", async () => {
        const { organizations } = fixture.current();
        const org = await seedOrganization(fixture.current());
        const replaced = { ...org, bootstrapToken: "f".repeat(64) };
        await run(org.id, (p, tx) => p.organizations.replaceNotBootstrapped(tx, replaced));
        await run(org.id, (p, tx) => p.organizations.update(tx, org.id, { activeUsersLimit: 8 }));
        expect((await organizations.list()).filter((o) => o.id === org.id)).toEqual([{ ...replaced, activeUsersLimit: 8 }]);
      });
    });

    describe("stats", () => {
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

    it("keeps organizations apart: concurrent bootstraps of 10 organizations all succeed", async () => {
      const orgs = await Promise.all(Array.from({ length: 10 }, () => seedOrganization(fixture.current())));
      const outcomes = await race(orgs.length, (i) => run(orgs[i]!.id, (p, tx) => p.organizations.bootstrap(tx, orgs[i]!.id, bootstrapOf(orgs[i]!))));
      expect(outcomes).toEqual(orgs.map(() => "ok"));
    });
  });
}
