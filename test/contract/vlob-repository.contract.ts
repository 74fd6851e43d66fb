import { describe, expect, it } from "vitest";
import type { DeviceID, OrganizationID, RealmID, VlobID } from "../../src/domain/ids.js";
import type { DateTime } from "../../src/domain/time.js";
import type { ReencryptionEntry, VlobAtom } from "../../src/domain/vlob/index.js";
import {
  at,
  bytes,
  did,
  newOrganizationId,
  newRealmId,
  newVlobId,
  pause,
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

type Ports = Pick<PersistencePorts, "uow" | "organizations" | "users" | "realms" | "vlobs">;

const atom = (timestamp: DateTime, author: DeviceID = did("alice@dev1"), size = 16): VlobAtom => ({ blob: bytes("blob", size), author, timestamp });

const key = (entry: { vlobId: VlobID; version: number }): string => `${entry.vlobId}:${entry.version}`;

/**
 * `VlobRepository`: versioned vlobs, the realm's checkpoint and poll changes, the causality timestamp, sizes,
 * and the re-encryption start / batches / finish cycle.
 */
export function vlobRepositoryContract(make: Make<Ports>): void {
  describe("VlobRepository contract", () => {
    const fixture = useFixture(make);

    interface Scene extends Ports {
      readonly org: OrganizationID;
      readonly realmId: RealmID;
      readonly otherRealmId: RealmID;
      create(vlobId: VlobID, version1: VlobAtom, realmId?: RealmID, encryptionRevision?: number): Promise<number | "already_exists">;
      append(vlobId: VlobID, version: number, next: VlobAtom): Promise<number>;
    }

    const scene = async (): Promise<Scene> => {
      const p = fixture.current();
      const org = (await seedOrganization(p)).id;
      await seedUser(p, org, "alice", { devices: 2 });
      await seedUser(p, org, "bob");
      const members = [
        { userId: uid("alice"), role: "OWNER" as const },
        { userId: uid("bob"), role: "CONTRIBUTOR" as const },
      ];
      const realmId = (await seedRealm(p, org, realm(newRealmId(), members))).id;
      const otherRealmId = (await seedRealm(p, org, realm(newRealmId(), members))).id;
      return {
        ...p,
        org,
        realmId,
        otherRealmId,
        create: (vlobId, version1, inRealm = realmId, encryptionRevision = 1) =>
          p.uow.run(org, (tx) => p.vlobs.create(tx, org, inRealm, vlobId, encryptionRevision, version1)),
        append: (vlobId, version, next) => p.uow.run(org, (tx) => p.vlobs.append(tx, org, vlobId, version, next)),
      };
    };

    describe("versions and checkpoints", () => {
      it("answers null for an unknown vlob or organization", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        await s.create(vlobId, atom(at(10)));
        expect(await s.vlobs.get(s.org, newVlobId())).toBeNull();
        expect(await s.vlobs.get(newOrganizationId(), vlobId)).toBeNull();
      });

      it("creates a vlob as version 1 and appends later versions in order", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        const v1 = atom(at(10.000001));
        const v2 = atom(at(11), did("bob@dev1"), 40);
        const v3 = atom(at(11), did("alice@dev2"), 0);
        expect(await s.create(vlobId, v1, s.realmId, 2)).toBe(1);
        expect(await s.append(vlobId, 2, v2)).toBe(2);
        expect(await s.append(vlobId, 3, v3)).toBe(3);
        expect(await s.vlobs.get(s.org, vlobId)).toEqual({ id: vlobId, realmId: s.realmId, encryptionRevision: 2, versions: [v1, v2, v3] });
      });

      it("refuses a vlob id the organization already has (already_exists) and writes nothing", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        const v1 = atom(at(10));
        await s.create(vlobId, v1);
        expect(await s.create(vlobId, atom(at(20)))).toBe("already_exists");
        expect(await s.create(vlobId, atom(at(20)), s.otherRealmId)).toBe("already_exists");
        expect(await s.vlobs.get(s.org, vlobId)).toEqual({ id: vlobId, realmId: s.realmId, encryptionRevision: 1, versions: [v1] });
        expect((await s.vlobs.pollChanges(s.org, s.realmId, 0)).checkpoint).toBe(1);
        expect((await s.vlobs.pollChanges(s.org, s.otherRealmId, 0)).checkpoint).toBe(0);
      });

      it("accepts the same vlob id in another organization", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        await s.create(vlobId, atom(at(10)));
        const other = (await seedOrganization(s)).id;
        await seedUser(s, other, "alice");
        const otherRealm = (await seedRealm(s, other, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]))).id;
        const theirs = atom(at(12));
        expect(await s.uow.run(other, (tx) => s.vlobs.create(tx, other, otherRealm, vlobId, 1, theirs))).toBe(1);
        expect((await s.vlobs.get(other, vlobId))?.versions).toEqual([theirs]);
        expect((await s.vlobs.get(s.org, vlobId))?.realmId).toBe(s.realmId);
      });

      it("counts every write of a realm in its checkpoint, each realm on its own", async () => {
        const s = await scene();
        const [a, b, c] = [newVlobId(), newVlobId(), newVlobId()];
        expect(await s.create(a, atom(at(1)))).toBe(1);
        expect(await s.create(b, atom(at(2)))).toBe(2);
        expect(await s.create(c, atom(at(3)), s.otherRealmId)).toBe(1);
        expect(await s.append(a, 2, atom(at(4)))).toBe(3);
        expect(await s.append(c, 2, atom(at(5)))).toBe(2);
        expect(await s.append(b, 2, atom(at(6)))).toBe(4);
      });

      it("shows a transaction its own writes, and undoes them on rollback", async () => {
        const s = await scene();
        const kept = newVlobId();
        const v1 = atom(at(10), did("alice@dev1"), 100);
        await s.create(kept, v1);
        const fresh = newVlobId();
        await runAndRollBack(s.uow, s.org, async (tx) => {
          expect(await s.vlobs.create(tx, s.org, s.realmId, fresh, 1, atom(at(20), did("bob@dev1"), 50))).toBe(2);
          expect(await s.vlobs.append(tx, s.org, kept, 2, atom(at(21), did("bob@dev1"), 50))).toBe(3);
          expect((await s.vlobs.get(s.org, fresh, tx))?.versions).toHaveLength(1);
          expect((await s.vlobs.get(s.org, kept, tx))?.versions).toHaveLength(2);
          expect((await s.vlobs.pollChanges(s.org, s.realmId, 0, tx)).checkpoint).toBe(3);
          expect(await s.vlobs.lastWriteBy(s.org, s.realmId, uid("bob"), tx)).toEqual(at(21));
        });
        expect(await s.vlobs.get(s.org, fresh)).toBeNull();
        expect(await s.vlobs.get(s.org, kept)).toEqual({ id: kept, realmId: s.realmId, encryptionRevision: 1, versions: [v1] });
        const changes = await s.vlobs.pollChanges(s.org, s.realmId, 0);
        expect(changes.checkpoint).toBe(1);
        expect([...changes.changes]).toEqual([[kept, 1]]);
        expect(await s.vlobs.lastWriteBy(s.org, s.realmId, uid("bob"))).toBeNull();
        expect(await s.vlobs.realmSize(s.org, s.realmId)).toBe(v1.blob.length);
        expect(await s.vlobs.metadataSize(s.org, at(1000))).toBe(v1.blob.length);
        expect(await s.create(fresh, atom(at(30)))).toBe(2);
        expect(await s.append(kept, 2, atom(at(31)))).toBe(3);
      });

      it("appends exactly one version per concurrent writer that read the vlob with its transaction (50 writers)", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        await s.create(vlobId, atom(at(0)));
        const write = (n: number) =>
          s.uow.run(s.org, async (tx) => {
            const next = (await s.vlobs.get(s.org, vlobId, tx))!.versions.length + 1;
            await pause(1);
            return s.vlobs.append(tx, s.org, vlobId, next, atom(at(1 + n)));
          });
        const checkpoints = await Promise.all(Array.from({ length: 50 }, (_, n) => write(n)));
        expect([...checkpoints].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
        expect((await s.vlobs.get(s.org, vlobId))?.versions).toHaveLength(51);
        expect((await s.vlobs.pollChanges(s.org, s.realmId, 0)).checkpoint).toBe(51);
      });
    });

    describe("poll changes", () => {
      it("gives checkpoint 0 and no change for a realm without writes", async () => {
        const s = await scene();
        const changes = await s.vlobs.pollChanges(s.org, s.realmId, 0);
        expect(changes.checkpoint).toBe(0);
        expect(changes.changes.size).toBe(0);
      });

      it("gives the latest version of each vlob written after the checkpoint", async () => {
        const s = await scene();
        const [a, b, c, elsewhere] = [newVlobId(), newVlobId(), newVlobId(), newVlobId()];
        await s.create(a, atom(at(1)));
        await s.create(b, atom(at(2)));
        await s.append(a, 2, atom(at(3)));
        await s.create(elsewhere, atom(at(3)), s.otherRealmId);
        await s.create(c, atom(at(4)));
        await s.append(a, 3, atom(at(5)));
        await s.append(b, 2, atom(at(6)));

        const all = await s.vlobs.pollChanges(s.org, s.realmId, 0);
        expect(all.checkpoint).toBe(6);
        expect(new Map(all.changes)).toEqual(new Map([[a, 3], [b, 2], [c, 1]]));

        const afterThree = await s.vlobs.pollChanges(s.org, s.realmId, 3);
        expect(afterThree.checkpoint).toBe(6);
        expect(new Map(afterThree.changes)).toEqual(new Map([[c, 1], [a, 3], [b, 2]]));

        const afterFive = await s.vlobs.pollChanges(s.org, s.realmId, 5);
        expect(new Map(afterFive.changes)).toEqual(new Map([[b, 2]]));

        const upToDate = await s.vlobs.pollChanges(s.org, s.realmId, 6);
        expect(upToDate.checkpoint).toBe(6);
        expect(upToDate.changes.size).toBe(0);

        const ahead = await s.vlobs.pollChanges(s.org, s.realmId, 60);
        expect(ahead.checkpoint).toBe(6);
        expect(ahead.changes.size).toBe(0);
      });

      it("answers checkpoint 0 and no change for an unknown realm or organization", async () => {
        const s = await scene();
        await s.create(newVlobId(), atom(at(1)));
        for (const changes of [await s.vlobs.pollChanges(s.org, newRealmId(), 0), await s.vlobs.pollChanges(newOrganizationId(), s.realmId, 0)]) {
          expect(changes.checkpoint).toBe(0);
          expect(changes.changes.size).toBe(0);
        }
      });
    });

    describe("last write by a user", () => {
      it("gives the timestamp of the user's last version in the realm, whatever the device", async () => {
        const s = await scene();
        const [a, b] = [newVlobId(), newVlobId()];
        expect(await s.vlobs.lastWriteBy(s.org, s.realmId, uid("alice"))).toBeNull();
        await s.create(a, atom(at(10), did("alice@dev1")));
        expect(await s.vlobs.lastWriteBy(s.org, s.realmId, uid("alice"))).toEqual(at(10));
        await s.create(b, atom(at(15.5), did("bob@dev1")));
        await s.append(a, 2, atom(at(20.000001), did("alice@dev2")));
        await s.create(newVlobId(), atom(at(30), did("alice@dev1")), s.otherRealmId);
        expect(await s.vlobs.lastWriteBy(s.org, s.realmId, uid("alice"))).toEqual(at(20.000001));
        expect(await s.vlobs.lastWriteBy(s.org, s.realmId, uid("bob"))).toEqual(at(15.5));
        expect(await s.vlobs.lastWriteBy(s.org, s.otherRealmId, uid("alice"))).toEqual(at(30));
        expect(await s.vlobs.lastWriteBy(s.org, s.otherRealmId, uid("bob"))).toBeNull();
        expect(await s.vlobs.lastWriteBy(newOrganizationId(), s.realmId, uid("alice"))).toBeNull();
      });
    });

    describe("sizes", () => {
      it("sums the bytes of every version of a realm", async () => {
        const s = await scene();
        const [a, b] = [newVlobId(), newVlobId()];
        expect(await s.vlobs.realmSize(s.org, s.realmId)).toBe(0);
        await s.create(a, atom(at(1), undefined, 100));
        await s.append(a, 2, atom(at(2), undefined, 50));
        await s.create(b, atom(at(3), undefined, 7));
        await s.create(newVlobId(), atom(at(4), undefined, 1000), s.otherRealmId);
        const blob = (n: number) => n + "blob".length;
        expect(await s.vlobs.realmSize(s.org, s.realmId)).toBe(blob(100) + blob(50) + blob(7));
        expect(await s.vlobs.realmSize(s.org, s.otherRealmId)).toBe(blob(1000));
        expect(await s.vlobs.realmSize(s.org, newRealmId())).toBe(0);
      });

      it("sums the bytes of the organization's versions written at or before a date", async () => {
        const s = await scene();
        const a = newVlobId();
        await s.create(a, atom(at(10), undefined, 100));
        await s.append(a, 2, atom(at(20), undefined, 50));
        await s.create(newVlobId(), atom(at(20), undefined, 30), s.otherRealmId);
        await s.create(newVlobId(), atom(at(30), undefined, 1));
        const other = (await seedOrganization(s)).id;
        await seedUser(s, other, "alice");
        const otherRealm = (await seedRealm(s, other, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]))).id;
        await s.uow.run(other, (tx) => s.vlobs.create(tx, other, otherRealm, newVlobId(), 1, atom(at(5), undefined, 500)));
        const blob = (n: number) => n + "blob".length;
        expect(await s.vlobs.metadataSize(s.org, at(9.999999))).toBe(0);
        expect(await s.vlobs.metadataSize(s.org, at(10))).toBe(blob(100));
        expect(await s.vlobs.metadataSize(s.org, at(20))).toBe(blob(100) + blob(50) + blob(30));
        expect(await s.vlobs.metadataSize(s.org, at(30))).toBe(blob(100) + blob(50) + blob(30) + blob(1));
        expect(await s.vlobs.metadataSize(other, at(30))).toBe(blob(500));
      });
    });

    describe("re-encryption", () => {
      const reencrypted = (entry: ReencryptionEntry): ReencryptionEntry => ({ ...entry, blob: Buffer.concat([Buffer.from("re:"), entry.blob]) });

      const withVlobs = async () => {
        const s = await scene();
        const [a, b, elsewhere] = [newVlobId(), newVlobId(), newVlobId()];
        const atoms = { a1: atom(at(1)), a2: atom(at(2), did("bob@dev1"), 40), b1: atom(at(3), did("alice@dev2"), 8), e1: atom(at(4)) };
        await s.create(a, atoms.a1);
        await s.append(a, 2, atoms.a2);
        await s.create(b, atoms.b1);
        await s.create(elsewhere, atoms.e1, s.otherRealmId);
        const start = (revision = 2) => s.uow.run(s.org, (tx) => s.vlobs.startReencryption(tx, s.org, s.realmId, revision));
        const batch = (size: number, revision = 2) => s.vlobs.getReencryptionBatch(s.org, s.realmId, revision, size);
        const save = (entries: readonly ReencryptionEntry[], revision = 2) =>
          s.uow.run(s.org, (tx) => s.vlobs.saveReencryptionBatch(tx, s.org, s.realmId, revision, entries));
        const finish = (revision = 2) => s.uow.run(s.org, (tx) => s.vlobs.finishReencryption(tx, s.org, s.realmId, revision));
        const originals = new Map([
          [key({ vlobId: a, version: 1 }), atoms.a1.blob],
          [key({ vlobId: a, version: 2 }), atoms.a2.blob],
          [key({ vlobId: b, version: 1 }), atoms.b1.blob],
        ]);
        return { ...s, a, b, elsewhere, atoms, originals, start, batch, save, finish };
      };

      it("has no batch and saves nothing while no re-encryption to that revision is under way", async () => {
        const s = await withVlobs();
        expect(await s.batch(10)).toBeNull();
        expect(await s.save([{ vlobId: s.a, version: 1, blob: bytes("x") }])).toBeNull();
        await s.start(2);
        expect(await s.batch(10, 3)).toBeNull();
        expect(await s.save([{ vlobId: s.a, version: 1, blob: bytes("x") }], 3)).toBeNull();
        expect(await s.vlobs.getReencryptionBatch(s.org, s.otherRealmId, 2, 10)).toBeNull();
      });

      it("hands out every version of the realm with its blob at the previous revision, at most `size` at a time", async () => {
        const s = await withVlobs();
        await s.start();
        const all = (await s.batch(10))!;
        expect(new Map(all.map((entry) => [key(entry), entry.blob]))).toEqual(s.originals);
        expect(all).toHaveLength(3);
        const two = (await s.batch(2))!;
        expect(two).toHaveLength(2);
        for (const entry of two) expect(s.originals.get(key(entry))).toEqual(entry.blob);
      });

      it("counts progress and stops handing out what was re-encrypted", async () => {
        const s = await withVlobs();
        await s.start();
        const first = (await s.batch(2))!;
        expect(await s.save(first.map(reencrypted))).toEqual({ total: 3, done: 2 });
        const rest = (await s.batch(10))!;
        expect(rest.map(key).sort()).toEqual([...s.originals.keys()].filter((k) => !first.map(key).includes(k)).sort());
        expect(await s.save(rest.map(reencrypted))).toEqual({ total: 3, done: 3 });
        expect(await s.batch(10)).toEqual([]);
      });

      it("ignores unknown vlobs or versions and versions already re-encrypted (the first blob stays)", async () => {
        const s = await withVlobs();
        await s.start();
        const firstBlob = bytes("first");
        expect(await s.save([{ vlobId: s.a, version: 1, blob: firstBlob }])).toEqual({ total: 3, done: 1 });
        const progress = await s.save([
          { vlobId: s.a, version: 1, blob: bytes("second") },
          { vlobId: s.a, version: 3, blob: bytes("no such version") },
          { vlobId: newVlobId(), version: 1, blob: bytes("no such vlob") },
          { vlobId: s.elsewhere, version: 1, blob: bytes("other realm") },
        ]);
        expect(progress).toEqual({ total: 3, done: 1 });
        const rest = (await s.batch(10))!;
        await s.save(rest.map(reencrypted));
        expect(await s.finish()).toBe("ok");
        expect((await s.vlobs.get(s.org, s.a))?.versions[0]?.blob).toEqual(firstBlob);
        expect((await s.vlobs.get(s.org, s.elsewhere))?.versions[0]?.blob).toEqual(s.atoms.e1.blob);
      });

      it("does not finish while versions are left, and changes nothing then", async () => {
        const s = await withVlobs();
        await s.start();
        await s.save(((await s.batch(2))!).map(reencrypted));
        expect(await s.finish()).toBe("not_finished");
        expect(await s.vlobs.get(s.org, s.a)).toEqual({ id: s.a, realmId: s.realmId, encryptionRevision: 1, versions: [s.atoms.a1, s.atoms.a2] });
        expect(await s.vlobs.get(s.org, s.b)).toEqual({ id: s.b, realmId: s.realmId, encryptionRevision: 1, versions: [s.atoms.b1] });
        expect(await s.batch(10)).toHaveLength(1);
      });

      it("on finish, replaces every blob with its re-encrypted one and moves the realm's vlobs to the new revision", async () => {
        const s = await withVlobs();
        await s.start();
        await s.save(((await s.batch(10))!).map(reencrypted));
        expect(await s.finish()).toBe("ok");
        const re = (a: VlobAtom): VlobAtom => ({ ...a, blob: Buffer.concat([Buffer.from("re:"), a.blob]) });
        expect(await s.vlobs.get(s.org, s.a)).toEqual({ id: s.a, realmId: s.realmId, encryptionRevision: 2, versions: [re(s.atoms.a1), re(s.atoms.a2)] });
        expect(await s.vlobs.get(s.org, s.b)).toEqual({ id: s.b, realmId: s.realmId, encryptionRevision: 2, versions: [re(s.atoms.b1)] });
        expect(await s.vlobs.get(s.org, s.elsewhere)).toEqual({ id: s.elsewhere, realmId: s.otherRealmId, encryptionRevision: 1, versions: [s.atoms.e1] });
        const sizes = [s.atoms.a1, s.atoms.a2, s.atoms.b1].reduce((sum, a) => sum + a.blob.length + "re:".length, 0);
        expect(await s.vlobs.realmSize(s.org, s.realmId)).toBe(sizes);
        expect(await s.vlobs.metadataSize(s.org, at(1000))).toBe(sizes + s.atoms.e1.blob.length);
        expect(await s.vlobs.getReencryptionBatch(s.org, s.realmId, 2, 10)).toBeNull();
      });

      it("runs a second re-encryption from the first one's blobs", async () => {
        const s = await withVlobs();
        await s.start(2);
        await s.save(((await s.batch(10, 2))!).map(reencrypted), 2);
        expect(await s.finish(2)).toBe("ok");
        await s.start(3);
        const second = (await s.batch(10, 3))!;
        expect(second.find((e) => e.vlobId === s.b)?.blob).toEqual(Buffer.concat([Buffer.from("re:"), s.atoms.b1.blob]));
        await s.save(second.map(reencrypted), 3);
        expect(await s.finish(3)).toBe("ok");
        expect((await s.vlobs.get(s.org, s.b))?.encryptionRevision).toBe(3);
        expect((await s.vlobs.get(s.org, s.b))?.versions[0]?.blob).toEqual(Buffer.concat([Buffer.from("re:re:"), s.atoms.b1.blob]));
      });

      it("finishes at once in a realm without vlobs, even never started; throws in a realm with vlobs never started", async () => {
        const s = await withVlobs();
        const empty = (await seedRealm(s, s.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]))).id;
        await s.uow.run(s.org, (tx) => s.vlobs.startReencryption(tx, s.org, empty, 2));
        expect(await s.vlobs.getReencryptionBatch(s.org, empty, 2, 10)).toEqual([]);
        expect(await s.uow.run(s.org, (tx) => s.vlobs.finishReencryption(tx, s.org, empty, 2))).toBe("ok");
        const neverStarted = (await seedRealm(s, s.org, realm(newRealmId(), [{ userId: uid("alice"), role: "OWNER" }]))).id;
        expect(await s.uow.run(s.org, (tx) => s.vlobs.finishReencryption(tx, s.org, neverStarted, 2))).toBe("ok");
        await expect(s.finish(2)).rejects.toThrow();
      });

      it("undoes a start, a saved batch and a finish that roll back", async () => {
        const s = await withVlobs();
        await runAndRollBack(s.uow, s.org, (tx) => s.vlobs.startReencryption(tx, s.org, s.realmId, 2));
        expect(await s.batch(10)).toBeNull();

        await s.start();
        const all = (await s.batch(10))!;
        await runAndRollBack(s.uow, s.org, async (tx) => {
          expect(await s.vlobs.saveReencryptionBatch(tx, s.org, s.realmId, 2, all.map(reencrypted))).toEqual({ total: 3, done: 3 });
        });
        expect(await s.batch(10)).toHaveLength(3);
        expect(await s.save([])).toEqual({ total: 3, done: 0 });

        await s.save(all.map(reencrypted));
        await runAndRollBack(s.uow, s.org, async (tx) => {
          expect(await s.vlobs.finishReencryption(tx, s.org, s.realmId, 2)).toBe("ok");
        });
        expect((await s.vlobs.get(s.org, s.a))?.encryptionRevision).toBe(1);
        expect((await s.vlobs.get(s.org, s.a))?.versions).toEqual([s.atoms.a1, s.atoms.a2]);
        expect(await s.vlobs.realmSize(s.org, s.realmId)).toBe(s.atoms.a1.blob.length + s.atoms.a2.blob.length + s.atoms.b1.blob.length);
        expect(await s.finish()).toBe("ok");
        expect((await s.vlobs.get(s.org, s.a))?.encryptionRevision).toBe(2);
      });
    });
  });
}
