import { describe, expect, it } from "vitest";
import { withGrant, type Realm } from "../../src/domain/realm/index.js";
import {
  at,
  bytes,
  did,
  newOrganizationId,
  newRealmId,
  pause,
  realm,
  runAndRollBack,
  seedOrganizationWithUsers,
  seedRealm,
  uid,
  useFixture,
  type Make,
  type PersistencePorts,
} from "./fixtures.js";

/** `RealmRepository`: realms saved whole, members' realms, creation counts, and reads under the unit of work's lock. */
export function realmRepositoryContract(make: Make<Pick<PersistencePorts, "uow" | "organizations" | "users" | "realms">>): void {
  describe("RealmRepository contract", () => {
    const fixture = useFixture(make);

    /** A fresh organization with users alice, bob and carol. */
    const withMembers = () => seedOrganizationWithUsers(fixture.current(), ["alice", "bob", "carol"]);

    it("answers null for an unknown realm or organization", async () => {
      const p = await withMembers();
      const r = await seedRealm(p, p.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]));
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
        { createdOn: at(2.000001), encryptionRevision: 3, maintenance: { type: "REENCRYPTION", startedBy: did("alice@dev1"), startedOn: at(6.5) } },
      );
      await seedRealm(p, p.org, r);
      expect(await p.realms.get(p.org, r.id)).toEqual(r);
    });

    it("replaces the realm on save", async () => {
      const p = await withMembers();
      const r = await seedRealm(p, p.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]));
      const shared = withGrant(r, { userId: uid("bob"), role: "CONTRIBUTOR", certificate: bytes("grant"), grantedBy: did("alice@dev1"), grantedOn: at(9) });
      await p.uow.run(p.org, (tx) => p.realms.save(tx, p.org, shared));
      const ended = { ...shared, maintenance: null, encryptionRevision: 2 };
      await p.uow.run(p.org, (tx) => p.realms.save(tx, p.org, ended));
      expect(await p.realms.get(p.org, r.id)).toEqual(ended);
    });

    it("shows a transaction its own writes, and undoes them on rollback", async () => {
      const p = await withMembers();
      const kept = await seedRealm(p, p.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]));
      const fresh = realm(newRealmId(), [{ userId: uid("bob"), role: "OWNER" }]);
      const changed = { ...kept, maintenance: { type: "GARBAGE_COLLECTION" as const, startedBy: did("alice@dev1"), startedOn: at(7) } };
      await runAndRollBack(p.uow, p.org, async (tx) => {
        await p.realms.save(tx, p.org, fresh);
        await p.realms.save(tx, p.org, changed);
        expect(await p.realms.get(p.org, fresh.id, tx)).toEqual(fresh);
        expect(await p.realms.get(p.org, kept.id, tx)).toEqual(changed);
      });
      expect(await p.realms.get(p.org, fresh.id)).toBeNull();
      expect(await p.realms.get(p.org, kept.id)).toEqual(kept);
      expect(await p.realms.listForUser(p.org, uid("bob"))).toEqual([]);
      expect(await p.realms.countCreatedBefore(p.org, at(1000))).toBe(1);
    });

    it("lists the realms where a user currently has a role", async () => {
      const p = await withMembers();
      const owned = await seedRealm(p, p.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }, { userId: uid("bob"), role: "READER" }]));
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
      expect(sorted(await p.realms.listForUser(p.org, uid("bob")))).toEqual(sorted([owned.id, rejoined.id]));
      expect(await p.realms.listForUser(p.org, uid("alice"))).toEqual([owned.id]);
      expect(sorted(await p.realms.listForUser(p.org, uid("carol")))).toEqual(sorted([left.id, rejoined.id]));
      expect(await p.realms.listForUser(newOrganizationId(), uid("bob"))).toEqual([]);
    });

    it("follows role changes saved later", async () => {
      const p = await withMembers();
      const r = await seedRealm(p, p.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]));
      expect(await p.realms.listForUser(p.org, uid("bob"))).toEqual([]);
      const shared = withGrant(r, { userId: uid("bob"), role: "READER", certificate: bytes("g1"), grantedBy: did("alice@dev1"), grantedOn: at(10) });
      await p.uow.run(p.org, (tx) => p.realms.save(tx, p.org, shared));
      expect(await p.realms.listForUser(p.org, uid("bob"))).toEqual([r.id]);
      const unshared = withGrant(shared, { userId: uid("bob"), role: null, certificate: bytes("g2"), grantedBy: did("alice@dev1"), grantedOn: at(11) });
      await p.uow.run(p.org, (tx) => p.realms.save(tx, p.org, unshared));
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
    });

    it("serialises read-modify-write of a realm read with the transaction (30 concurrent grants all kept)", async () => {
      const p = await withMembers();
      const r = await seedRealm(p, p.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]));
      const grant = (n: number) =>
        p.uow.run(p.org, async (tx) => {
          const current = (await p.realms.get(p.org, r.id, tx))!;
          await pause(1);
          const role = n % 2 === 0 ? ("READER" as const) : null;
          await p.realms.save(tx, p.org, withGrant(current, { userId: uid("bob"), role, certificate: bytes(`g${n}`), grantedBy: did("alice@dev1"), grantedOn: at(100 + n) }));
        });
      await Promise.all(Array.from({ length: 30 }, (_, n) => grant(n)));
      const final = (await p.realms.get(p.org, r.id))!;
      expect(final.grants).toHaveLength(31);
    });
  });
}
