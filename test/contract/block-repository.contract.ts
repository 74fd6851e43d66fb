import { describe, expect, it } from "vitest";
import type { OrganizationID, RealmID } from "../../src/domain/ids.js";
import type { BlockMeta } from "../../src/domain/block/index.js";
import type { RealmAccess } from "../../src/domain/realm/index.js";
import type { DateTime } from "../../src/domain/time.js";
import {
  at,
  did,
  grant,
  newBlockId,
  newOrganizationId,
  newRealmId,
  pause,
  race,
  realm,
  runAndRollBack,
  seedOrganization,
  seedRealm,
  seedUser,
  uid,
  useFixture,
  type Make,
  type PersistencePorts,
} from "./fixtures.js";

type Ports = Pick<PersistencePorts, "uow" | "organizations" | "users" | "realms" | "blocks">;

/** `BlockRepository`: block metadata by id, unique per organization, `block_read`'s lookup, and the realm and organization sizes. */
export function blockRepositoryContract(make: Make<Ports>): void {
  describe("BlockRepository contract", () => {
    const fixture = useFixture(make);

    const scene = async () => {
      const p = fixture.current();
      const org = (await seedOrganization(p)).id;
      await seedUser(p, org, "alice");
      await seedUser(p, org, "bob");
      const realmId = (await seedRealm(p, org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER", on: at(2) }]))).id;
      const otherRealmId = (await seedRealm(p, org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]))).id;
      const block = (size: number, createdOn: DateTime = at(10), inRealm: RealmID = realmId): BlockMeta => ({
        id: newBlockId(),
        realmId: inRealm,
        size,
        author: did("alice@dev1"),
        createdOn,
      });
      /** Creates the block as `block_create` does: holding its realm `share`. */
      const create = (meta: BlockMeta, inOrg: OrganizationID = org) =>
        p.uow.run(inOrg, async (tx) => {
          await p.realms.getAccess(inOrg, meta.realmId, uid("alice"), tx, "share");
          return p.blocks.create(tx, inOrg, meta);
        });
      const access = (user: "alice" | "bob", inRealm: RealmID = realmId): RealmAccess => ({
        realmId: inRealm,
        encryptionRevision: 1,
        maintenance: null,
        lastGrant: user === "alice" ? { role: "OWNER", grantedOn: at(2) } : null,
      });
      return { ...p, org, realmId, otherRealmId, block, create, access };
    };

    it("round-trips block metadata with the reader's access to its realm; null for an unknown block or organization", async () => {
      const s = await scene();
      const meta = s.block(524_288, at(12.345678));
      expect(await s.create(meta)).toBe("ok");
      expect(await s.blocks.exists(s.org, meta.id)).toBe(true);
      expect(await s.blocks.getForRead(s.org, meta.id, uid("alice"))).toEqual({ meta, realm: s.access("alice") });
      expect(await s.blocks.getForRead(s.org, meta.id, uid("bob"))).toEqual({ meta, realm: s.access("bob") });
      expect(await s.blocks.exists(s.org, newBlockId())).toBe(false);
      expect(await s.blocks.getForRead(s.org, newBlockId(), uid("alice"))).toBeNull();
      expect(await s.blocks.exists(newOrganizationId(), meta.id)).toBe(false);
      expect(await s.blocks.getForRead(newOrganizationId(), meta.id, uid("alice"))).toBeNull();
    });

    it("reads the realm's access as it is now: revision, maintenance and the reader's last grant", async () => {
      const s = await scene();
      const meta = s.block(10);
      await s.create(meta);
      const maintenance = { type: "GARBAGE_COLLECTION" as const, startedBy: did("alice@dev1"), startedOn: at(30) };
      await s.uow.run(s.org, async (tx) => {
        await s.realms.get(s.org, s.realmId, tx);
        await s.realms.addGrant(tx, s.org, s.realmId, grant(uid("bob"), "READER", at(20), did("alice@dev1")));
        await s.realms.setMaintenance(tx, s.org, s.realmId, { encryptionRevision: 3, maintenance });
      });
      expect((await s.blocks.getForRead(s.org, meta.id, uid("bob")))?.realm).toEqual({
        realmId: s.realmId,
        encryptionRevision: 3,
        maintenance,
        lastGrant: { role: "READER", grantedOn: at(20) },
      });
      await s.uow.run(s.org, (tx) => s.realms.addGrant(tx, s.org, s.realmId, grant(uid("bob"), null, at(21), did("alice@dev1"))));
      expect((await s.blocks.getForRead(s.org, meta.id, uid("bob")))?.realm.lastGrant).toEqual({ role: null, grantedOn: at(21) });
    });

    it("refuses a block id the organization already has (already_exists) and keeps the first", async () => {
      const s = await scene();
      const meta = s.block(100);
      await s.create(meta);
      expect(await s.create({ ...meta, size: 999, realmId: s.otherRealmId })).toBe("already_exists");
      expect((await s.blocks.getForRead(s.org, meta.id, uid("alice")))?.meta).toEqual(meta);
      expect(await s.blocks.realmSize(s.org, s.otherRealmId)).toBe(0);
    });

    it("accepts the same block id in another organization", async () => {
      const s = await scene();
      const meta = s.block(100);
      await s.create(meta);
      const other = (await seedOrganization(s)).id;
      await seedUser(s, other, "alice");
      const otherRealm = (await seedRealm(s, other, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]))).id;
      const theirs = { ...meta, realmId: otherRealm, size: 7 };
      expect(await s.create(theirs, other)).toBe("ok");
      expect((await s.blocks.getForRead(other, meta.id, uid("alice")))?.meta).toEqual(theirs);
      expect((await s.blocks.getForRead(s.org, meta.id, uid("alice")))?.meta).toEqual(meta);
    });

    it("shows a transaction its own writes, and forgets them on rollback", async () => {
      const s = await scene();
      const meta = s.block(100);
      await runAndRollBack(s.uow, s.org, async (tx) => {
        await s.realms.getAccess(s.org, s.realmId, uid("alice"), tx, "share");
        expect(await s.blocks.create(tx, s.org, meta)).toBe("ok");
        expect(await s.blocks.exists(s.org, meta.id, tx)).toBe(true);
      });
      expect(await s.blocks.exists(s.org, meta.id)).toBe(false);
      expect(await s.blocks.getForRead(s.org, meta.id, uid("alice"))).toBeNull();
      expect(await s.blocks.realmSize(s.org, s.realmId)).toBe(0);
      expect(await s.blocks.dataSize(s.org, at(1000))).toBe(0);
      expect(await s.create(meta)).toBe("ok");
    });

    it("sums the sizes of a realm's blocks", async () => {
      const s = await scene();
      for (const size of [100, 250, 1]) await s.create(s.block(size));
      await s.create(s.block(4000, at(10), s.otherRealmId));
      expect(await s.blocks.realmSize(s.org, s.realmId)).toBe(351);
      expect(await s.blocks.realmSize(s.org, s.otherRealmId)).toBe(4000);
      expect(await s.blocks.realmSize(s.org, newRealmId())).toBe(0);
    });

    it("sums the sizes of the organization's blocks created at or before a date", async () => {
      const s = await scene();
      await s.create(s.block(100, at(10)));
      await s.create(s.block(20, at(20), s.otherRealmId));
      await s.create(s.block(3, at(20.000001)));
      const other = (await seedOrganization(s)).id;
      await seedUser(s, other, "alice");
      const otherRealm = (await seedRealm(s, other, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]))).id;
      await s.create(s.block(5000, at(1), otherRealm), other);
      expect(await s.blocks.dataSize(s.org, at(9.999999))).toBe(0);
      expect(await s.blocks.dataSize(s.org, at(10))).toBe(100);
      expect(await s.blocks.dataSize(s.org, at(20))).toBe(120);
      expect(await s.blocks.dataSize(s.org, at(21))).toBe(123);
      expect(await s.blocks.dataSize(other, at(21))).toBe(5000);
      expect(await s.blocks.dataSize(newOrganizationId(), at(21))).toBe(0);
    });

    it("lets exactly one of 20 concurrent creations of one block id through; the winner is stored", async () => {
      const s = await scene();
      const id = newBlockId();
      const candidates = Array.from({ length: 20 }, (_, n) => ({ ...s.block(n + 1), id }));
      const outcomes = await race(20, (n) =>
        s.uow.run(s.org, async (tx) => {
          await s.realms.getAccess(s.org, s.realmId, uid("alice"), tx, "share");
          await pause(1);
          return s.blocks.create(tx, s.org, candidates[n]!);
        }),
      );
      expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
      expect(outcomes.filter((o) => o === "already_exists")).toHaveLength(19);
      const winner = candidates[outcomes.indexOf("ok")]!;
      expect((await s.blocks.getForRead(s.org, id, uid("alice")))?.meta).toEqual(winner);
      expect(await s.blocks.realmSize(s.org, s.realmId)).toBe(winner.size);
    });

    it("creates 20 concurrent blocks of one realm, each holding it `share`", async () => {
      const s = await scene();
      const blocks = Array.from({ length: 20 }, (_, n) => s.block(n + 1));
      const outcomes = await race(20, (n) =>
        s.uow.run(s.org, async (tx) => {
          const access = await s.realms.getAccess(s.org, s.realmId, uid("alice"), tx, "share");
          expect(access?.lastGrant?.role).toBe("OWNER");
          await pause(1);
          return s.blocks.create(tx, s.org, blocks[n]!);
        }),
      );
      expect(outcomes).toEqual(blocks.map(() => "ok"));
      expect(await s.blocks.realmSize(s.org, s.realmId)).toBe((20 * 21) / 2);
    });
  });
}
