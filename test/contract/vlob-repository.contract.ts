import { describe, expect, it } from "vitest";
import type { VlobVersionInfo } from "../../src/application/ports/index.js";
import type { DeviceID, OrganizationID, RealmID, UserID, VlobID } from "../../src/domain/ids.js";
import type { RealmAccess } from "../../src/domain/realm/index.js";
import type { DateTime } from "../../src/domain/time.js";
import type { ReencryptionEntry, VersionSelector, VlobAtom } from "../../src/domain/vlob/index.js";
import {
  at,
  bytes,
  did,
  grant,
  newOrganizationId,
  newRealmId,
  newVlobId,
  pause,
  race,
  range,
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

const version = (n: number): VersionSelector => ({ kind: "version", version: n });
const latest: VersionSelector = { kind: "latest" };
const asOf = (timestamp: DateTime): VersionSelector => ({ kind: "timestamp", timestamp });

const info = (n: number, a: VlobAtom): VlobVersionInfo => ({ version: n, timestamp: a.timestamp, author: a.author });

/**
 * `VlobRepository`: versioned vlobs, the hot reads (`read` with its three selectors and the author's last role change,
 * `listVersions`), `getForUpdate` under the realm's `update` hold, the realm's checkpoint and poll changes, the
 * causality timestamp, sizes, the re-encryption start / batches / finish cycle, and writes that never interleave.
 */
export function vlobRepositoryContract(make: Make<Ports>): void {
  describe("VlobRepository contract", () => {
    const fixture = useFixture(make);

    interface Scene extends Ports {
      readonly org: OrganizationID;
      /** alice OWNER (granted at 2), bob CONTRIBUTOR (granted at 3); carol and dave are users of no realm. */
      readonly realmId: RealmID;
      readonly otherRealmId: RealmID;
      create(vlobId: VlobID, version1: VlobAtom, realmId?: RealmID, encryptionRevision?: number): Promise<number | "already_exists">;
      /** Appends to a vlob created through {@link create} (in its realm). */
      append(vlobId: VlobID, version: number, next: VlobAtom): Promise<number>;
      realmOf(vlobId: VlobID): RealmID;
      /** Every version of the vlob, read back one by one with `read`. */
      history(vlobId: VlobID): Promise<VlobAtom[]>;
      read(vlobId: VlobID, selector: VersionSelector, reader?: UserID): ReturnType<Ports["vlobs"]["read"]>;
    }

    const scene = async (): Promise<Scene> => {
      const p = fixture.current();
      const org = (await seedOrganization(p)).id;
      await seedUser(p, org, "alice", { devices: 2, user: { profile: "ADMIN" } });
      await seedUser(p, org, "bob");
      await seedUser(p, org, "carol");
      await seedUser(p, org, "dave");
      const members = [
        { userId: uid("alice"), role: "OWNER" as const, on: at(2) },
        { userId: uid("bob"), role: "CONTRIBUTOR" as const, on: at(3) },
      ];
      const realmId = (await seedRealm(p, org, realm(newRealmId(), members))).id;
      const otherRealmId = (await seedRealm(p, org, realm(newRealmId(), members))).id;
      const realms = new Map<VlobID, RealmID>();
      const realmOf = (vlobId: VlobID): RealmID => realms.get(vlobId) ?? realmId;
      const read: Scene["read"] = (vlobId, selector, reader = uid("alice")) => p.vlobs.read(org, vlobId, selector, reader);
      return {
        ...p,
        org,
        realmId,
        otherRealmId,
        realmOf,
        read,
        create: async (vlobId, version1, inRealm = realmId, encryptionRevision = 1) => {
          const created = await p.uow.run(org, (tx) => p.vlobs.create(tx, org, inRealm, vlobId, encryptionRevision, version1));
          if (created !== "already_exists") realms.set(vlobId, inRealm);
          return created;
        },
        append: (vlobId, n, next) => p.uow.run(org, (tx) => p.vlobs.append(tx, org, realmOf(vlobId), vlobId, n, next)),
        history: async (vlobId) => {
          const listed = await p.vlobs.listVersions(org, vlobId, uid("alice"));
          const atoms: VlobAtom[] = [];
          for (const { version: n } of listed?.versions ?? []) {
            const selected = (await read(vlobId, version(n)))!.selected!;
            atoms.push({ blob: selected.blob, author: selected.author, timestamp: selected.timestamp });
          }
          return atoms;
        },
      };
    };

    const accessOf = (s: Scene, user: string, realmId = s.realmId): RealmAccess => ({
      realmId,
      encryptionRevision: 1,
      maintenance: null,
      lastGrant: user === "alice" ? { role: "OWNER", grantedOn: at(2) } : user === "bob" ? { role: "CONTRIBUTOR", grantedOn: at(3) } : null,
    });

    describe("versions and checkpoints", () => {
      it("answers null for an unknown vlob or organization", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        await s.create(vlobId, atom(at(10)));
        for (const [org, id] of [[s.org, newVlobId()], [newOrganizationId(), vlobId]] as const) {
          expect(await s.vlobs.read(org, id, latest, uid("alice"))).toBeNull();
          expect(await s.vlobs.listVersions(org, id, uid("alice"))).toBeNull();
          expect(await s.uow.run(org, (tx) => s.vlobs.getForUpdate(tx, org, id, uid("alice")))).toBeNull();
        }
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
        expect(await s.history(vlobId)).toEqual([v1, v2, v3]);
      });

      it("refuses a vlob id the organization already has (already_exists) and writes nothing", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        const v1 = atom(at(10));
        await s.create(vlobId, v1);
        expect(await s.create(vlobId, atom(at(20)))).toBe("already_exists");
        expect(await s.create(vlobId, atom(at(20)), s.otherRealmId)).toBe("already_exists");
        expect(await s.history(vlobId)).toEqual([v1]);
        expect((await s.read(vlobId, latest))?.realm.realmId).toBe(s.realmId);
        expect((await s.vlobs.pollChanges(s.org, s.realmId, 0)).checkpoint).toBe(1);
        expect((await s.vlobs.pollChanges(s.org, s.otherRealmId, 0)).checkpoint).toBe(0);
        expect(await s.vlobs.realmSize(s.org, s.otherRealmId)).toBe(0);
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
        expect((await s.vlobs.read(other, vlobId, latest, uid("alice")))?.selected).toEqual({ version: 1, ...theirs });
        expect((await s.vlobs.read(other, vlobId, latest, uid("alice")))?.realm.realmId).toBe(otherRealm);
        expect((await s.read(vlobId, latest))?.realm.realmId).toBe(s.realmId);
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
        expect((await s.vlobs.pollChanges(s.org, s.realmId, 0)).checkpoint).toBe(4);
        expect((await s.vlobs.pollChanges(s.org, s.otherRealmId, 0)).checkpoint).toBe(2);
      });

      it("refuses (throws) a version the vlob already has, and writes nothing", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        const [v1, v2] = [atom(at(1)), atom(at(2))];
        await s.create(vlobId, v1);
        await s.append(vlobId, 2, v2);
        await expect(s.append(vlobId, 2, atom(at(3)))).rejects.toThrow();
        await expect(s.append(vlobId, 1, atom(at(3)))).rejects.toThrow();
        expect(await s.history(vlobId)).toEqual([v1, v2]);
        expect((await s.vlobs.pollChanges(s.org, s.realmId, 0)).checkpoint).toBe(2);
        expect(await s.append(vlobId, 3, atom(at(3)))).toBe(3);
      });

      it("shows a transaction its own writes, and undoes them on rollback", async () => {
        const s = await scene();
        const kept = newVlobId();
        const v1 = atom(at(10), did("alice@dev1"), 100);
        await s.create(kept, v1);
        const fresh = newVlobId();
        await runAndRollBack(s.uow, s.org, async (tx) => {
          expect(await s.vlobs.create(tx, s.org, s.realmId, fresh, 1, atom(at(20), did("bob@dev1"), 50))).toBe(2);
          expect(await s.vlobs.append(tx, s.org, s.realmId, kept, 2, atom(at(21), did("bob@dev1"), 50))).toBe(3);
          expect((await s.vlobs.getForUpdate(tx, s.org, fresh, uid("bob")))?.head).toEqual({ version: 1, timestamp: at(20) });
          expect((await s.vlobs.getForUpdate(tx, s.org, kept, uid("bob")))?.head).toEqual({ version: 2, timestamp: at(21) });
          expect(await s.vlobs.lastWriteBy(s.org, s.realmId, uid("bob"), tx)).toEqual(at(21));
        });
        expect(await s.read(fresh, latest)).toBeNull();
        expect(await s.vlobs.listVersions(s.org, fresh, uid("alice"))).toBeNull();
        expect(await s.history(kept)).toEqual([v1]);
        const changes = await s.vlobs.pollChanges(s.org, s.realmId, 0);
        expect(changes.checkpoint).toBe(1);
        expect([...changes.changes]).toEqual([[kept, 1]]);
        expect(await s.vlobs.lastWriteBy(s.org, s.realmId, uid("bob"))).toBeNull();
        expect(await s.vlobs.realmSize(s.org, s.realmId)).toBe(v1.blob.length);
        expect(await s.vlobs.metadataSize(s.org, at(1000))).toBe(v1.blob.length);
        expect(await s.create(fresh, atom(at(30)))).toBe(2);
        expect(await s.append(kept, 2, atom(at(31)))).toBe(3);
      });
    });

    describe("read", () => {
      /** A vlob with v1 by alice@dev1 at 10, v2 by bob at 11, v3 by alice@dev2 at 11, v4 by bob at 12.5. */
      const withHistory = async () => {
        const s = await scene();
        const vlobId = newVlobId();
        const v = [atom(at(10)), atom(at(11), did("bob@dev1"), 3), atom(at(11), did("alice@dev2"), 5), atom(at(12.5), did("bob@dev1"), 7)] as const;
        await s.create(vlobId, v[0]);
        for (let n = 2; n <= 4; n++) await s.append(vlobId, n, v[n - 1]!);
        const selected = async (selector: VersionSelector) => (await s.read(vlobId, selector))?.selected ?? null;
        return { ...s, vlobId, v, selected };
      };

      it("selects the latest version, or a given one", async () => {
        const s = await withHistory();
        expect(await s.selected(latest)).toEqual({ version: 4, ...s.v[3] });
        for (let n = 1; n <= 4; n++) expect(await s.selected(version(n))).toEqual({ version: n, ...s.v[n - 1] });
      });

      it("selects nothing for version 0 or a version past the last, and then no author's grant", async () => {
        const s = await withHistory();
        for (const n of [0, 5, 1000]) expect(await s.read(s.vlobId, version(n))).toEqual({ realm: accessOf(s, "alice"), selected: null, authorLastRoleGrantedOn: null });
      });

      it("selects the last version written at or before a timestamp; nothing before the first", async () => {
        const s = await withHistory();
        expect(await s.read(s.vlobId, asOf(at(9.999999)))).toEqual({ realm: accessOf(s, "alice"), selected: null, authorLastRoleGrantedOn: null });
        expect((await s.selected(asOf(at(10))))?.version).toBe(1);
        expect((await s.selected(asOf(at(10.999999))))?.version).toBe(1);
        expect(await s.selected(asOf(at(11)))).toEqual({ version: 3, ...s.v[2] });
        expect((await s.selected(asOf(at(12.499999))))?.version).toBe(3);
        expect((await s.selected(asOf(at(12.5))))?.version).toBe(4);
        expect((await s.selected(asOf(at(1_000_000))))?.version).toBe(4);
      });

      it("gives the reader's access to the realm, a stranger's included", async () => {
        const s = await withHistory();
        for (const name of ["alice", "bob", "carol"]) expect((await s.read(s.vlobId, latest, uid(name)))?.realm).toEqual(accessOf(s, name));
        await s.uow.run(s.org, async (tx) => {
          await s.realms.get(s.org, s.realmId, tx);
          await s.realms.setMaintenance(tx, s.org, s.realmId, { encryptionRevision: 2, maintenance: { type: "REENCRYPTION", startedBy: did("alice@dev1"), startedOn: at(20) } });
          await s.realms.addGrant(tx, s.org, s.realmId, grant(uid("carol"), "READER", at(21), did("alice@dev1")));
        });
        expect((await s.read(s.vlobId, latest, uid("carol")))?.realm).toEqual({
          realmId: s.realmId,
          encryptionRevision: 2,
          maintenance: { type: "REENCRYPTION", startedBy: did("alice@dev1"), startedOn: at(20) },
          lastGrant: { role: "READER", grantedOn: at(21) },
        });
      });

      it("dates the last role change of the selected version's author, not of the reader", async () => {
        const s = await withHistory();
        const grantedOn = async (selector: VersionSelector, reader: string) => (await s.read(s.vlobId, selector, uid(reader)))?.authorLastRoleGrantedOn;
        for (const reader of ["alice", "bob", "carol"]) {
          expect(await grantedOn(version(1), reader)).toEqual(at(2));
          expect(await grantedOn(version(2), reader)).toEqual(at(3));
          expect(await grantedOn(version(3), reader)).toEqual(at(2));
          expect(await grantedOn(latest, reader)).toEqual(at(3));
        }
        await s.uow.run(s.org, (tx) => s.realms.addGrant(tx, s.org, s.realmId, grant(uid("bob"), null, at(30.000001), did("alice@dev1"))));
        expect(await grantedOn(version(2), "carol")).toEqual(at(30.000001));
        expect(await grantedOn(version(1), "carol")).toEqual(at(2));
      });

      it("has no author's grant date when the author never had a role in the realm", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        const written = atom(at(10), did("dave@dev1"));
        await s.create(vlobId, written);
        expect(await s.read(vlobId, latest)).toEqual({ realm: accessOf(s, "alice"), selected: { version: 1, ...written }, authorLastRoleGrantedOn: null });
      });
    });

    describe("listVersions and getForUpdate", () => {
      it("lists every version without blobs, in version order, with the reader's access", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        const v = [atom(at(1)), atom(at(2), did("bob@dev1")), atom(at(2), did("alice@dev2"))];
        await s.create(vlobId, v[0]!);
        await s.append(vlobId, 2, v[1]!);
        await s.append(vlobId, 3, v[2]!);
        const listed = await s.vlobs.listVersions(s.org, vlobId, uid("carol"));
        expect(listed).toEqual({ realm: accessOf(s, "carol"), versions: v.map((a, i) => info(i + 1, a)) });
        for (const entry of listed!.versions) expect(entry).not.toHaveProperty("blob");
        expect((await s.vlobs.listVersions(s.org, vlobId, uid("bob")))?.realm).toEqual(accessOf(s, "bob"));
      });

      it("gives the head (last version and its timestamp) and the user's access under the transaction", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        await s.create(vlobId, atom(at(1)), s.otherRealmId);
        const held = (user: string) => s.uow.run(s.org, (tx) => s.vlobs.getForUpdate(tx, s.org, vlobId, uid(user)));
        expect(await held("bob")).toEqual({ realm: accessOf(s, "bob", s.otherRealmId), head: { version: 1, timestamp: at(1) } });
        await s.append(vlobId, 2, atom(at(7.654321), did("bob@dev1")));
        expect(await held("carol")).toEqual({ realm: accessOf(s, "carol", s.otherRealmId), head: { version: 2, timestamp: at(7.654321) } });
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

        const elsewhereChanges = await s.vlobs.pollChanges(s.org, s.otherRealmId, 0);
        expect(elsewhereChanges.checkpoint).toBe(1);
        expect(new Map(elsewhereChanges.changes)).toEqual(new Map([[elsewhere, 1]]));
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
        expect(await s.uow.run(s.org, (tx) => s.vlobs.lastWriteBy(s.org, s.realmId, uid("alice"), tx))).toEqual(at(20.000001));
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

    describe("concurrency", () => {
      it("keeps versions 1..n and checkpoints consecutive under 20 concurrent getForUpdate + append at one version", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        await s.create(vlobId, atom(at(0)));
        const checkpoints = await race(20, (n) =>
          s.uow.run(s.org, async (tx) => {
            const held = (await s.vlobs.getForUpdate(tx, s.org, vlobId, uid("bob")))!;
            await pause(1);
            return s.vlobs.append(tx, s.org, s.realmId, vlobId, held.head.version + 1, atom(at(50), did("bob@dev1"), n));
          }),
        );
        expect([...checkpoints].sort((x, y) => x - y)).toEqual(range(2, 20));
        const listed = await s.vlobs.listVersions(s.org, vlobId, uid("alice"));
        expect(listed?.versions.map((v) => v.version)).toEqual(range(1, 21));
        const sizes = new Set<number>();
        for (let n = 2; n <= 21; n++) sizes.add((await s.read(vlobId, version(n)))!.selected!.blob.length);
        expect(sizes.size).toBe(20);
        const changes = await s.vlobs.pollChanges(s.org, s.realmId, 0);
        expect(changes.checkpoint).toBe(21);
        expect(new Map(changes.changes)).toEqual(new Map([[vlobId, 21]]));
      });

      it("gives 20 concurrent writes to different vlobs of a realm checkpoints 1..20, and each realm its own count", async () => {
        const s = await scene();
        const vlobIds = Array.from({ length: 20 }, () => newVlobId());
        const checkpoints = await race(20, (n) =>
          s.uow.run(s.org, async (tx) => {
            const inRealm = n % 2 === 0 ? s.realmId : s.otherRealmId;
            await s.realms.getAccess(s.org, inRealm, uid("alice"), tx, "update");
            await pause(1);
            return s.vlobs.create(tx, s.org, inRealm, vlobIds[n]!, 1, atom(at(1)));
          }),
        );
        const inRealm = (parity: number) => checkpoints.filter((_, n) => n % 2 === parity).map(Number).sort((x, y) => x - y);
        expect(inRealm(0)).toEqual(range(1, 10));
        expect(inRealm(1)).toEqual(range(1, 10));
        expect((await s.vlobs.pollChanges(s.org, s.realmId, 0)).changes.size).toBe(10);
        expect((await s.vlobs.pollChanges(s.org, s.otherRealmId, 4)).changes.size).toBe(6);
      });

      it("lets exactly one of 20 concurrent creations of one vlob id through", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        const candidates = Array.from({ length: 20 }, (_, n) => atom(at(n), did("alice@dev1"), n));
        const outcomes = await race(20, (n) =>
          s.uow.run(s.org, async (tx) => {
            await s.realms.getAccess(s.org, n % 2 === 0 ? s.realmId : s.otherRealmId, uid("alice"), tx, "update");
            await pause(1);
            return s.vlobs.create(tx, s.org, n % 2 === 0 ? s.realmId : s.otherRealmId, vlobId, 1, candidates[n]!);
          }),
        );
        expect(outcomes.filter((o) => o === 1)).toHaveLength(1);
        expect(outcomes.filter((o) => o === "already_exists")).toHaveLength(19);
        const winner = outcomes.indexOf(1);
        expect((await s.read(vlobId, latest))?.selected).toEqual({ version: 1, ...candidates[winner]! });
        const checkpoints = [(await s.vlobs.pollChanges(s.org, s.realmId, 0)).checkpoint, (await s.vlobs.pollChanges(s.org, s.otherRealmId, 0)).checkpoint];
        expect(checkpoints.sort()).toEqual([0, 1]);
      });

      it("never appends a version once a maintenance holding the realm has started (20 writers around one maintenance)", async () => {
        const s = await scene();
        const vlobId = newVlobId();
        await s.create(vlobId, atom(at(1)));
        const writer = () =>
          s.uow.run(s.org, async (tx) => {
            const held = (await s.vlobs.getForUpdate(tx, s.org, vlobId, uid("alice")))!;
            if (held.realm.maintenance) return "in_maintenance" as const;
            await pause(1);
            await s.vlobs.append(tx, s.org, s.realmId, vlobId, held.head.version + 1, atom(at(2)));
            return "written" as const;
          });
        const maintenance = () =>
          s.uow.run(s.org, async (tx) => {
            await s.realms.get(s.org, s.realmId, tx);
            const head = (await s.vlobs.getForUpdate(tx, s.org, vlobId, uid("alice")))!.head.version;
            await pause(2);
            await s.realms.setMaintenance(tx, s.org, s.realmId, {
              encryptionRevision: 2,
              maintenance: { type: "REENCRYPTION", startedBy: did("alice@dev1"), startedOn: at(3) },
            });
            return head;
          });
        const before = race(10, writer);
        const headAtStart = maintenance();
        const after = race(10, writer);
        const outcomes = [...(await before), ...(await after)];
        const head = await headAtStart;
        expect((await s.vlobs.listVersions(s.org, vlobId, uid("alice")))?.versions).toHaveLength(head);
        expect(outcomes.filter((o) => o === "written")).toHaveLength(head - 1);
        expect((await s.vlobs.pollChanges(s.org, s.realmId, 0)).checkpoint).toBe(head);
      });
    });

    describe("re-encryption", () => {
      const reencrypted = (entry: ReencryptionEntry): ReencryptionEntry => ({ ...entry, blob: Buffer.concat([Buffer.from("re:"), entry.blob]) });
      const re = (a: VlobAtom): VlobAtom => ({ ...a, blob: Buffer.concat([Buffer.from("re:"), a.blob]) });

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

      it("hands out every version of the realm with its blob at the previous revision, in vlob creation then version order, at most `size` at a time", async () => {
        const s = await withVlobs();
        await s.start();
        const inOrder: ReencryptionEntry[] = [
          { vlobId: s.a, version: 1, blob: s.atoms.a1.blob },
          { vlobId: s.a, version: 2, blob: s.atoms.a2.blob },
          { vlobId: s.b, version: 1, blob: s.atoms.b1.blob },
        ];
        expect(await s.batch(10)).toEqual(inOrder);
        expect(await s.batch(2)).toEqual(inOrder.slice(0, 2));
        expect(await s.batch(0)).toEqual([]);
        expect(new Map((await s.batch(3))!.map((entry) => [key(entry), entry.blob]))).toEqual(s.originals);
        await s.save([reencrypted(inOrder[0]!)]);
        expect(await s.batch(10)).toEqual(inOrder.slice(1));
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
        expect((await s.history(s.a))[0]?.blob).toEqual(firstBlob);
        expect(await s.history(s.elsewhere)).toEqual([s.atoms.e1]);
      });

      it("does not finish while versions are left, and changes nothing then", async () => {
        const s = await withVlobs();
        await s.start();
        await s.save(((await s.batch(2))!).map(reencrypted));
        expect(await s.finish()).toBe("not_finished");
        expect(await s.history(s.a)).toEqual([s.atoms.a1, s.atoms.a2]);
        expect(await s.history(s.b)).toEqual([s.atoms.b1]);
        expect(await s.batch(10)).toHaveLength(1);
      });

      it("on finish, replaces every blob with its re-encrypted one and moves the realm's vlobs to the new revision", async () => {
        const s = await withVlobs();
        await s.start();
        await s.save(((await s.batch(10))!).map(reencrypted));
        expect(await s.finish()).toBe("ok");
        expect(await s.history(s.a)).toEqual([re(s.atoms.a1), re(s.atoms.a2)]);
        expect(await s.history(s.b)).toEqual([re(s.atoms.b1)]);
        expect(await s.history(s.elsewhere)).toEqual([s.atoms.e1]);
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
        expect((await s.history(s.b))[0]?.blob).toEqual(Buffer.concat([Buffer.from("re:re:"), s.atoms.b1.blob]));
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
        expect(await s.history(s.a)).toEqual([s.atoms.a1, s.atoms.a2]);
        expect(await s.vlobs.realmSize(s.org, s.realmId)).toBe(s.atoms.a1.blob.length + s.atoms.a2.blob.length + s.atoms.b1.blob.length);
        expect(await s.finish()).toBe("ok");
        expect(await s.history(s.a)).toEqual([re(s.atoms.a1), re(s.atoms.a2)]);
      });
    });
  });
}
