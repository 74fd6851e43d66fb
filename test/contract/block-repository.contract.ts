import { describe, expect, it } from "vitest";
import type { OrganizationID, RealmID } from "../../src/domain/ids.js";
import type { BlockMeta } from "../../src/domain/block/index.js";
import type { DateTime } from "../../src/domain/time.js";
import {
  at,
  did,
  newBlockId,
  newOrganizationId,
  newRealmId,
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

/** `BlockRepository`: block metadata by id, unique per organization, and the realm and organization sizes. */
export function blockRepositoryContract(make: Make<Ports>): void {
  describe("BlockRepository contract", () => {
    const fixture = useFixture(make);

    const scene = async () => {
      const p = fixture.current();
      const org = (await seedOrganization(p)).id;
      await seedUser(p, org, "alice");
      const realmId = (await seedRealm(p, org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]))).id;
      const otherRealmId = (await seedRealm(p, org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]))).id;
      const block = (size: number, createdOn: DateTime = at(10), inRealm: RealmID = realmId): BlockMeta => ({
        id: newBlockId(),
        realmId: inRealm,
        size,
        author: did("alice@dev1"),
        createdOn,
      });
      const create = (meta: BlockMeta, inOrg: OrganizationID = org) => p.uow.run(inOrg, (tx) => p.blocks.create(tx, inOrg, meta));
      return { ...p, org, realmId, otherRealmId, block, create };
    };

    it("round-trips block metadata and answers null for an unknown block or organization", async () => {
      const s = await scene();
      const meta = s.block(524_288, at(12.345678));
      expect(await s.create(meta)).toBe("ok");
      expect(await s.blocks.get(s.org, meta.id)).toEqual(meta);
      expect(await s.blocks.get(s.org, newBlockId())).toBeNull();
      expect(await s.blocks.get(newOrganizationId(), meta.id)).toBeNull();
    });

    it("refuses a block id the organization already has (already_exists) and keeps the first", async () => {
      const s = await scene();
      const meta = s.block(100);
      await s.create(meta);
      expect(await s.create({ ...meta, size: 999, realmId: s.otherRealmId })).toBe("already_exists");
      expect(await s.blocks.get(s.org, meta.id)).toEqual(meta);
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
      expect(await s.blocks.get(other, meta.id)).toEqual(theirs);
      expect(await s.blocks.get(s.org, meta.id)).toEqual(meta);
    });

    it("shows a transaction its own writes, and forgets them on rollback", async () => {
      const s = await scene();
      const meta = s.block(100);
      await runAndRollBack(s.uow, s.org, async (tx) => {
        expect(await s.blocks.create(tx, s.org, meta)).toBe("ok");
        expect(await s.blocks.get(s.org, meta.id, tx)).toEqual(meta);
      });
      expect(await s.blocks.get(s.org, meta.id)).toBeNull();
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
  });
}
