import { describe, expect, it } from "vitest";
import type { RealmLock } from "../../src/application/ports/index.js";
import type { Realm, RealmAccess, RealmMaintenance } from "../../src/domain/realm/index.js";
import {
  at,
  did,
  grant,
  newOrganizationId,
  newRealmId,
  pause,
  race,
  realm,
  runAndRollBack,
  seedOrganizationWithUsers,
  seedRealm,
  uid,
  useFixture,
  type Make,
  type PersistencePorts,
} from "./fixtures.js";

type Ports = Pick<PersistencePorts, "uow" | "organizations" | "users" | "realms">;

const maintenance = (startedOn = at(7)): RealmMaintenance => ({ type: "REENCRYPTION", startedBy: did("alice@dev1"), startedOn });

/**
 * `RealmRepository`: creation is never an upsert (grants included), grants appended one at a time, revision and
 * maintenance, `getAccess` (revision, maintenance and the user's last grant) with or without a hold, members' realms,
 * creation counts, and role changes that never interleave under the `update` hold.
 */
export function realmRepositoryContract(make: Make<Ports>): void {
  describe("RealmRepository contract", () => {
    const fixture = useFixture(make);

    /** A fresh organization with users alice, bob and carol. */
    const withMembers = () => seedOrganizationWithUsers(fixture.current(), ["alice", "bob", "carol"]);

    const owned = () => realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER", by: did("alice@dev1") }]);

    describe("create and get", () => {
      it("answers null for an unknown realm or organization", async () => {
        const p = await withMembers();
        const r = await seedRealm(p, p.org, owned());
        expect(await p.realms.get(p.org, newRealmId())).toBeNull();
        expect(await p.realms.get(newOrganizationId(), r.id)).toBeNull();
      });

      it("round-trips a realm with its grants, revision and maintenance", async () => {
        const p = await withMembers();
        const r: Realm = realm(
          newRealmId(),
          [
            { userId: uid("alice"), role: "OWNER", by: did("alice@dev1"), on: at(2.000001) },
            { userId: uid("bob"), role: "MANAGER", by: did("alice@dev1"), on: at(3) },
            { userId: uid("carol"), role: "READER", by: did("bob@dev1"), on: at(4) },
            { userId: uid("carol"), role: null, by: did("alice@dev1"), on: at(5) },
          ],
          { createdOn: at(2.000001), encryptionRevision: 3, maintenance: { type: "GARBAGE_COLLECTION", startedBy: did("alice@dev1"), startedOn: at(6.5) } },
        );
        await seedRealm(p, p.org, r);
        expect(await p.realms.get(p.org, r.id)).toEqual(r);
      });

      it("keeps grants of one user in their order, even with equal dates", async () => {
        const p = await withMembers();
        const r = realm(newRealmId(), [
          { userId: uid("alice"), role: "OWNER", on: at(2) },
          { userId: uid("bob"), role: "READER", on: at(3) },
          { userId: uid("bob"), role: "CONTRIBUTOR", on: at(3) },
          { userId: uid("bob"), role: null, on: at(3) },
        ]);
        await seedRealm(p, p.org, r);
        expect((await p.realms.get(p.org, r.id))?.grants).toEqual(r.grants);
        expect((await p.realms.getAccess(p.org, r.id, uid("bob")))?.lastGrant).toEqual({ role: null, grantedOn: at(3) });
      });

      it("is never an upsert: a taken id is already_exists and the first realm stays intact with its grants", async () => {
        const p = await withMembers();
        const first = await seedRealm(p, p.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }, { userId: uid("bob"), role: "READER" }]));
        const second = realm(first.id, [{ userId: uid("carol"), role: "OWNER", on: at(9) }], { createdOn: at(9), encryptionRevision: 5 });
        expect(await p.uow.run(p.org, (tx) => p.realms.create(tx, p.org, second))).toBe("already_exists");
        expect(await p.realms.get(p.org, first.id)).toEqual(first);
        expect(await p.realms.listForUser(p.org, uid("carol"))).toEqual([]);
        expect(await p.realms.countCreatedBefore(p.org, at(1000))).toBe(1);
      });

      it("accepts the same realm id in another organization", async () => {
        const p = await withMembers();
        const mine = await seedRealm(p, p.org, owned());
        const other = (await seedOrganizationWithUsers(p, ["alice", "bob"])).org;
        const theirs = realm(mine.id, [{ userId: uid("bob"), role: "OWNER" }], { createdOn: at(40) });
        expect(await p.uow.run(other, (tx) => p.realms.create(tx, other, theirs))).toBe("ok");
        expect(await p.realms.get(other, mine.id)).toEqual(theirs);
        expect(await p.realms.get(p.org, mine.id)).toEqual(mine);
      });

      it("lets exactly one of 20 concurrent creations of one id through; the winner is stored whole, its grants only", async () => {
        const p = await withMembers();
        const id = newRealmId();
        const members = ["alice", "bob", "carol"] as const;
        const candidates = Array.from({ length: 20 }, (_, i) =>
          realm(
            id,
            [
              { userId: uid(members[i % 3]!), role: "OWNER", on: at(10 + i) },
              { userId: uid(members[(i + 1) % 3]!), role: "READER", on: at(10 + i) },
            ],
            { createdOn: at(10 + i) },
          ),
        );
        const outcomes = await race(candidates.length, (i) =>
          p.uow.run(p.org, async (tx) => {
            await pause(1);
            return p.realms.create(tx, p.org, candidates[i]!);
          }),
        );
        expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
        expect(await p.realms.get(p.org, id)).toEqual(candidates[outcomes.indexOf("ok")]);
      });

      it("shows a transaction its own writes, and undoes them on rollback", async () => {
        const p = await withMembers();
        const kept = await seedRealm(p, p.org, owned());
        const fresh = realm(newRealmId(), [{ userId: uid("bob"), role: "OWNER" }]);
        await runAndRollBack(p.uow, p.org, async (tx) => {
          expect(await p.realms.create(tx, p.org, fresh)).toBe("ok");
          await p.realms.addGrant(tx, p.org, kept.id, grant(uid("bob"), "MANAGER", at(8), did("alice@dev1")));
          await p.realms.setMaintenance(tx, p.org, kept.id, { encryptionRevision: 2, maintenance: maintenance() });
          expect(await p.realms.get(p.org, fresh.id, tx)).toEqual(fresh);
          expect((await p.realms.get(p.org, kept.id, tx))?.grants).toHaveLength(2);
          expect(await p.realms.getAccess(p.org, kept.id, uid("bob"), tx, "update")).toEqual({
            realmId: kept.id,
            encryptionRevision: 2,
            maintenance: maintenance(),
            lastGrant: { role: "MANAGER", grantedOn: at(8) },
          });
        });
        expect(await p.realms.get(p.org, fresh.id)).toBeNull();
        expect(await p.realms.get(p.org, kept.id)).toEqual(kept);
        expect(await p.realms.listForUser(p.org, uid("bob"))).toEqual([]);
        expect(await p.realms.countCreatedBefore(p.org, at(1000))).toBe(1);
        expect(await p.uow.run(p.org, (tx) => p.realms.create(tx, p.org, fresh))).toBe("ok");
      });
    });

    describe("addGrant and setMaintenance", () => {
      it("appends grants in order, leaving the revision and maintenance alone", async () => {
        const p = await withMembers();
        const r = await seedRealm(p, p.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }], { encryptionRevision: 2, maintenance: maintenance() }));
        const shared = grant(uid("bob"), "CONTRIBUTOR", at(9), did("alice@dev1"));
        const unshared = grant(uid("bob"), null, at(10.000001), did("alice@dev1"));
        await p.uow.run(p.org, (tx) => p.realms.addGrant(tx, p.org, r.id, shared));
        await p.uow.run(p.org, (tx) => p.realms.addGrant(tx, p.org, r.id, unshared));
        expect(await p.realms.get(p.org, r.id)).toEqual({ ...r, grants: [...r.grants, shared, unshared] });
      });

      it("sets and clears the maintenance and revision, leaving the grants alone", async () => {
        const p = await withMembers();
        const r = await seedRealm(p, p.org, owned());
        const started = { encryptionRevision: 2, maintenance: maintenance(at(20.5)) };
        await p.uow.run(p.org, (tx) => p.realms.setMaintenance(tx, p.org, r.id, started));
        expect(await p.realms.get(p.org, r.id)).toEqual({ ...r, ...started });
        await p.uow.run(p.org, (tx) => p.realms.setMaintenance(tx, p.org, r.id, { encryptionRevision: 2, maintenance: null }));
        expect(await p.realms.get(p.org, r.id)).toEqual({ ...r, encryptionRevision: 2, maintenance: null });
      });

      it("keeps realms apart: a grant or a maintenance changes its realm only", async () => {
        const p = await withMembers();
        const [one, two] = [await seedRealm(p, p.org, owned()), await seedRealm(p, p.org, owned())];
        await p.uow.run(p.org, async (tx) => {
          await p.realms.get(p.org, one.id, tx);
          await p.realms.addGrant(tx, p.org, one.id, grant(uid("bob"), "READER", at(9), did("alice@dev1")));
          await p.realms.setMaintenance(tx, p.org, one.id, { encryptionRevision: 2, maintenance: maintenance() });
        });
        expect(await p.realms.get(p.org, two.id)).toEqual(two);
        expect(await p.realms.listForUser(p.org, uid("bob"))).toEqual([one.id]);
      });
    });

    describe("getAccess", () => {
      it("answers null for an unknown realm or organization, with or without a hold", async () => {
        const p = await withMembers();
        const r = await seedRealm(p, p.org, owned());
        expect(await p.realms.getAccess(p.org, newRealmId(), uid("alice"))).toBeNull();
        expect(await p.realms.getAccess(newOrganizationId(), r.id, uid("alice"))).toBeNull();
        for (const lock of ["update", "share"] as const)
          expect(await p.uow.run(p.org, (tx) => p.realms.getAccess(p.org, newRealmId(), uid("alice"), tx, lock))).toBeNull();
      });

      it("gives the realm's revision and maintenance and the user's last grant; null lastGrant for a stranger", async () => {
        const p = await withMembers();
        const r = await seedRealm(
          p,
          p.org,
          realm(
            newRealmId(),
            [
              { userId: uid("alice"), role: "OWNER", on: at(2) },
              { userId: uid("bob"), role: "READER", on: at(3) },
              { userId: uid("alice"), role: "OWNER", on: at(3.5) },
              { userId: uid("bob"), role: "CONTRIBUTOR", on: at(4.000001) },
            ],
            { encryptionRevision: 4, maintenance: maintenance(at(5)) },
          ),
        );
        const access = (userId: string): RealmAccess => ({
          realmId: r.id,
          encryptionRevision: 4,
          maintenance: maintenance(at(5)),
          lastGrant: userId === "alice" ? { role: "OWNER", grantedOn: at(3.5) } : userId === "bob" ? { role: "CONTRIBUTOR", grantedOn: at(4.000001) } : null,
        });
        for (const name of ["alice", "bob", "carol", "nobody"]) expect(await p.realms.getAccess(p.org, r.id, uid(name))).toEqual(access(name));
      });

      it("gives a null role, dated, once the role was removed", async () => {
        const p = await withMembers();
        const r = await seedRealm(p, p.org, owned());
        await p.uow.run(p.org, (tx) => p.realms.addGrant(tx, p.org, r.id, grant(uid("bob"), "MANAGER", at(10), did("alice@dev1"))));
        expect((await p.realms.getAccess(p.org, r.id, uid("bob")))?.lastGrant).toEqual({ role: "MANAGER", grantedOn: at(10) });
        await p.uow.run(p.org, (tx) => p.realms.addGrant(tx, p.org, r.id, grant(uid("bob"), null, at(11), did("alice@dev1"))));
        expect((await p.realms.getAccess(p.org, r.id, uid("bob")))?.lastGrant).toEqual({ role: null, grantedOn: at(11) });
        expect((await p.realms.getAccess(p.org, r.id, uid("alice")))?.lastGrant?.role).toBe("OWNER");
      });

      it("answers the same with a transaction under either hold, and sees the transaction's own writes", async () => {
        const p = await withMembers();
        const r = await seedRealm(p, p.org, owned());
        const expected = await p.realms.getAccess(p.org, r.id, uid("alice"));
        for (const lock of [undefined, "update", "share"] as (RealmLock | undefined)[])
          expect(await p.uow.run(p.org, (tx) => p.realms.getAccess(p.org, r.id, uid("alice"), tx, lock))).toEqual(expected);
        const seen = await p.uow.run(p.org, async (tx) => {
          await p.realms.getAccess(p.org, r.id, uid("carol"), tx, "update");
          await p.realms.addGrant(tx, p.org, r.id, grant(uid("carol"), "READER", at(12), did("alice@dev1")));
          await p.realms.setMaintenance(tx, p.org, r.id, { encryptionRevision: 2, maintenance: null });
          return p.realms.getAccess(p.org, r.id, uid("carol"), tx, "update");
        });
        expect(seen).toEqual({ realmId: r.id, encryptionRevision: 2, maintenance: null, lastGrant: { role: "READER", grantedOn: at(12) } });
      });
    });

    describe("members and counts", () => {
      it("lists the realms where a user currently has a role", async () => {
        const p = await withMembers();
        const ownedByAlice = await seedRealm(p, p.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }, { userId: uid("bob"), role: "READER" }]));
        const left = await seedRealm(
          p,
          p.org,
          realm(newRealmId(), [
            { userId: uid("carol"), role: "OWNER" },
            { userId: uid("bob"), role: "CONTRIBUTOR" },
            { userId: uid("bob"), role: null },
          ]),
        );
        const rejoined = await seedRealm(
          p,
          p.org,
          realm(newRealmId(), [
            { userId: uid("carol"), role: "OWNER" },
            { userId: uid("bob"), role: "READER" },
            { userId: uid("bob"), role: null },
            { userId: uid("bob"), role: "MANAGER" },
          ]),
        );
        const sorted = (ids: readonly string[]) => [...ids].sort();
        expect(sorted(await p.realms.listForUser(p.org, uid("bob")))).toEqual(sorted([ownedByAlice.id, rejoined.id]));
        expect(await p.realms.listForUser(p.org, uid("alice"))).toEqual([ownedByAlice.id]);
        expect(sorted(await p.realms.listForUser(p.org, uid("carol")))).toEqual(sorted([left.id, rejoined.id]));
        expect(await p.realms.listForUser(newOrganizationId(), uid("bob"))).toEqual([]);
      });

      it("follows grants added later", async () => {
        const p = await withMembers();
        const r = await seedRealm(p, p.org, owned());
        expect(await p.realms.listForUser(p.org, uid("bob"))).toEqual([]);
        await p.uow.run(p.org, (tx) => p.realms.addGrant(tx, p.org, r.id, grant(uid("bob"), "READER", at(10), did("alice@dev1"))));
        expect(await p.realms.listForUser(p.org, uid("bob"))).toEqual([r.id]);
        await p.uow.run(p.org, (tx) => p.realms.addGrant(tx, p.org, r.id, grant(uid("bob"), null, at(11), did("alice@dev1"))));
        expect(await p.realms.listForUser(p.org, uid("bob"))).toEqual([]);
      });

      it("counts the realms created at or before a date, per organization", async () => {
        const p = await withMembers();
        for (const createdOn of [at(10), at(20), at(20.000001), at(30)])
          await seedRealm(p, p.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER", on: createdOn }], { createdOn }));
        const other = (await seedOrganizationWithUsers(p, ["alice"])).org;
        await seedRealm(p, other, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER", on: at(1) }], { createdOn: at(1) }));
        expect(await p.realms.countCreatedBefore(p.org, at(9.999999))).toBe(0);
        expect(await p.realms.countCreatedBefore(p.org, at(20))).toBe(2);
        expect(await p.realms.countCreatedBefore(p.org, at(25))).toBe(3);
        expect(await p.realms.countCreatedBefore(p.org, at(30))).toBe(4);
        expect(await p.realms.countCreatedBefore(other, at(30))).toBe(1);
        expect(await p.realms.countCreatedBefore(newOrganizationId(), at(30))).toBe(0);
      });
    });

    describe("concurrency", () => {
      it("keeps every grant of 30 concurrent role changes read with `get` under the transaction", async () => {
        const p = await withMembers();
        const r = await seedRealm(p, p.org, owned());
        await race(30, (n) =>
          p.uow.run(p.org, async (tx) => {
            const current = (await p.realms.get(p.org, r.id, tx))!;
            await pause(1);
            await p.realms.addGrant(tx, p.org, r.id, grant(uid("bob"), current.grants.length % 2 === 1 ? "READER" : null, at(100 + n), did("alice@dev1")));
          }),
        );
        const grants = (await p.realms.get(p.org, r.id))!.grants;
        expect(grants).toHaveLength(31);
        expect(grants.slice(1).map((g) => g.role)).toEqual(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? "READER" : null)));
      });

      it("never interleaves 20 concurrent role toggles read with getAccess under `update`", async () => {
        const p = await withMembers();
        const r = await seedRealm(p, p.org, owned());
        await race(20, (n) =>
          p.uow.run(p.org, async (tx) => {
            const access = (await p.realms.getAccess(p.org, r.id, uid("bob"), tx, "update"))!;
            await pause(1);
            const next = access.lastGrant?.role ? null : "READER";
            await p.realms.addGrant(tx, p.org, r.id, grant(uid("bob"), next, at(100 + n), did("alice@dev1")));
          }),
        );
        const roles = (await p.realms.get(p.org, r.id))!.grants.filter((g) => g.userId === uid("bob")).map((g) => g.role);
        expect(roles).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? "READER" : null)));
      });

      it("never loses one of 20 concurrent revision bumps read with getAccess under `update`", async () => {
        const p = await withMembers();
        const r = await seedRealm(p, p.org, owned());
        await race(20, () =>
          p.uow.run(p.org, async (tx) => {
            const access = (await p.realms.getAccess(p.org, r.id, uid("alice"), tx, "update"))!;
            await pause(1);
            await p.realms.setMaintenance(tx, p.org, r.id, { encryptionRevision: access.encryptionRevision + 1, maintenance: null });
          }),
        );
        expect((await p.realms.get(p.org, r.id))?.encryptionRevision).toBe(21);
      });
    });
  });
}
