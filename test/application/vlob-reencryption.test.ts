import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { vlobMaintenanceGetReencryptionBatch, vlobMaintenanceSaveReencryptionBatch } from "../../src/adapters/protocol/commands/vlob.js";
import { vlobHandlers } from "../../src/adapters/protocol/handlers/vlob.js";
import { encodeTypedReply } from "../../src/adapters/protocol/registry.js";
import type { AuthenticatedSession } from "../../src/application/index.js";
import { RealmID, VlobID, type RealmRole } from "../../src/domain/ids.js";
import type { Realm } from "../../src/domain/realm/index.js";
import type { Parsed } from "../../src/domain/result.js";
import type { ReencryptionEntry } from "../../src/domain/vlob/index.js";
import { authenticate, bootstrapOrganization, buildTestApp, deviceId, userId } from "../support/app.js";
import { handlerContext, storeRealm } from "../support/world.js";

const valueOf = <T>(parsed: Parsed<T>): T => {
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};
const newVlobId = (): VlobID => valueOf(VlobID.parse(randomUUID()));
const newRealmId = (): RealmID => valueOf(RealmID.parse(randomUUID()));

const reencrypted = (entry: ReencryptionEntry): ReencryptionEntry => ({ ...entry, blob: Buffer.from(`${entry.blob.toString()} reencrypted`) });

/**
 * A realm (alice OWNER, mallory MANAGER, bob CONTRIBUTOR) with vlobs A (versions "a1", "a2") and B ("b1"), and the
 * realm side of a re-encryption maintenance played directly on the ports, as `realm_start_reencryption_maintenance`
 * and `realm_finish_reencryption_maintenance` do it.
 */
const setup = async () => {
  const t = buildTestApp();
  const org = await bootstrapOrganization(t);
  const orgId = org.organizationId;
  const alice = await authenticate(t, org);
  const member = (name: string): AuthenticatedSession => ({ ...alice, deviceId: deviceId(`${name}@dev1`), userId: userId(name) });
  const grantedOn = t.clock.now().addSeconds(-60);
  const grant = (name: string, role: RealmRole) => ({ userId: userId(name), role, certificate: Buffer.from(name), grantedBy: alice.deviceId, grantedOn });
  let realm: Realm = {
    id: newRealmId(),
    createdOn: grantedOn,
    encryptionRevision: 1,
    maintenance: null,
    grants: [grant("alice", "OWNER"), grant("mallory", "MANAGER"), grant("bob", "CONTRIBUTOR")],
  };
  await storeRealm(t, orgId, realm);

  const write = { encryptionRevision: 1, timestamp: t.clock.now().addSeconds(-10), sequesterBlob: null };
  const a = newVlobId();
  const b = newVlobId();
  expect(await t.app.createVlob(alice, { ...write, realmId: realm.id, vlobId: a, blob: Buffer.from("a1") })).toEqual({ kind: "ok" });
  expect(await t.app.createVlob(alice, { ...write, realmId: realm.id, vlobId: b, blob: Buffer.from("b1") })).toEqual({ kind: "ok" });
  expect(await t.app.updateVlob(member("bob"), { ...write, vlobId: a, version: 2, timestamp: t.clock.now(), blob: Buffer.from("a2") })).toEqual({ kind: "ok" });

  const start = () =>
    t.deps.uow.run(orgId, async (tx) => {
      realm = { ...realm, encryptionRevision: realm.encryptionRevision + 1, maintenance: { type: "REENCRYPTION", startedBy: alice.deviceId, startedOn: t.clock.now() } };
      await t.deps.realms.setMaintenance(tx, orgId, realm.id, realm);
      await t.deps.vlobs.startReencryption(tx, orgId, realm.id, realm.encryptionRevision);
    });
  const finish = () =>
    t.deps.uow.run(orgId, async (tx) => {
      const outcome = await t.deps.vlobs.finishReencryption(tx, orgId, realm.id, realm.encryptionRevision);
      if (outcome === "ok") {
        realm = { ...realm, maintenance: null };
        await t.deps.realms.setMaintenance(tx, orgId, realm.id, realm);
      }
      return outcome;
    });
  const target = (encryptionRevision = realm.encryptionRevision) => ({ realmId: realm.id, encryptionRevision });
  const read = (vlobId: VlobID, encryptionRevision: number, version: number | null = null) =>
    t.app.readVlob(alice, { encryptionRevision, vlobId, version, timestamp: null });
  const blobs = async (encryptionRevision: number) =>
    [await read(a, encryptionRevision, 1), await read(a, encryptionRevision, 2), await read(b, encryptionRevision, 1)].map((o) =>
      o.kind === "ok" ? o.blob.toString() : o.kind,
    );
  return { t, orgId, alice, member, realmId: realm.id, a, b, start, finish, target, read, blobs, setRealm: (r: Realm) => (realm = r), realm: () => realm };
};

describe("re-encryption batches", () => {
  it("end to end: start → get batch → save batch → finish swaps the blobs and the revision", async () => {
    const w = await setup();
    await w.start();
    expect(await w.blobs(1)).toEqual(["a1", "a2", "b1"]);
    expect(await w.blobs(2)).toEqual(["in_maintenance", "in_maintenance", "in_maintenance"]);

    const first = await w.t.app.getReencryptionBatch(w.alice, w.target(), 2);
    if (first.kind !== "ok") throw new Error(first.kind);
    expect(first.batch).toHaveLength(2);
    expect(await w.t.app.saveReencryptionBatch(w.alice, w.target(), first.batch.map(reencrypted))).toEqual({ kind: "ok", total: 3, done: 2 });
    expect(await w.finish()).toBe("not_finished");
    expect(await w.blobs(1)).toEqual(["a1", "a2", "b1"]);

    const second = await w.t.app.getReencryptionBatch(w.alice, w.target(), 100);
    if (second.kind !== "ok") throw new Error(second.kind);
    expect(second.batch).toHaveLength(1);
    const all = [...first.batch, ...second.batch].map((e) => `${e.vlobId}:${e.version}:${e.blob.toString()}`).sort();
    expect(all).toEqual([`${w.a}:1:a1`, `${w.a}:2:a2`, `${w.b}:1:b1`].sort());
    expect(await w.t.app.saveReencryptionBatch(w.alice, w.target(), second.batch.map(reencrypted))).toEqual({ kind: "ok", total: 3, done: 3 });
    expect(await w.t.app.getReencryptionBatch(w.alice, w.target(), 100)).toEqual({ kind: "ok", batch: [] });
    expect(await w.blobs(1)).toEqual(["a1", "a2", "b1"]);

    expect(await w.finish()).toBe("ok");
    expect(await w.blobs(2)).toEqual(["a1 reencrypted", "a2 reencrypted", "b1 reencrypted"]);
    expect(await w.blobs(1)).toEqual(["bad_encryption_revision", "bad_encryption_revision", "bad_encryption_revision"]);
    expect(await w.t.app.listVlobVersions(w.alice, w.a)).toMatchObject({
      kind: "ok",
      versions: new Map([
        [1, { author: w.alice.deviceId }],
        [2, { author: deviceId("bob@dev1") }],
      ]),
    });
    expect(await w.t.deps.vlobs.realmSize(w.orgId, w.realmId)).toBe(3 * "a1 reencrypted".length);
    expect(await w.t.app.pollVlobChanges(w.alice, w.realmId, 0)).toMatchObject({ kind: "ok", currentCheckpoint: 3 });

    const write = { timestamp: w.t.clock.now(), blob: Buffer.from("a3"), sequesterBlob: null };
    expect(await w.t.app.updateVlob(w.alice, { ...write, encryptionRevision: 1, vlobId: w.a, version: 3 })).toEqual({ kind: "bad_encryption_revision" });
    expect(await w.t.app.updateVlob(w.alice, { ...write, encryptionRevision: 2, vlobId: w.a, version: 3 })).toEqual({ kind: "ok" });
    expect(await w.read(w.a, 2)).toMatchObject({ kind: "ok", version: 3, blob: Buffer.from("a3") });
    expect(await w.t.app.createVlob(w.alice, { ...write, encryptionRevision: 2, realmId: w.realmId, vlobId: newVlobId() })).toEqual({ kind: "ok" });
  });

  it("ignores unknown vlobs, unknown versions and already re-encrypted entries (the first blob stays)", async () => {
    const w = await setup();
    await w.start();
    const got = await w.t.app.getReencryptionBatch(w.alice, w.target(), 1000);
    if (got.kind !== "ok") throw new Error(got.kind);
    const [first] = got.batch;
    const batch = [
      ...got.batch,
      { vlobId: newVlobId(), version: 1, blob: Buffer.from("ignored") },
      { vlobId: first!.vlobId, version: 99, blob: Buffer.from("ignored") },
      { ...first!, blob: Buffer.from("ignored") },
    ];
    for (let i = 0; i < 2; i++) expect(await w.t.app.saveReencryptionBatch(w.alice, w.target(), batch)).toEqual({ kind: "ok", total: 3, done: 3 });
    expect(await w.finish()).toBe("ok");
    expect(await w.blobs(2)).toEqual(["a1", "a2", "b1"]);
    expect(await w.read(first!.vlobId, 2, 99)).toEqual({ kind: "bad_version" });
  });

  it("a realm without vlobs finishes at once; a batch of size 0 is empty", async () => {
    const w = await setup();
    const empty: Realm = { ...w.realm(), id: newRealmId() };
    w.setRealm(empty);
    await storeRealm(w.t, w.orgId, empty);
    await w.start();
    expect(await w.t.app.getReencryptionBatch(w.alice, w.target(), 0)).toEqual({ kind: "ok", batch: [] });
    expect(await w.t.app.saveReencryptionBatch(w.alice, w.target(), [])).toEqual({ kind: "ok", total: 0, done: 0 });
    expect(await w.finish()).toBe("ok");
    await w.t.deps.uow.run(w.orgId, async (tx) => {
      expect(await w.t.deps.vlobs.finishReencryption(tx, w.orgId, newRealmId(), 2)).toBe("ok");
      await expect(w.t.deps.vlobs.finishReencryption(tx, w.orgId, w.realmId, 5)).rejects.toThrow("no re-encryption");
    });
  });

  it("not_found, not_allowed (OWNER only), not_in_maintenance, bad_encryption_revision", async () => {
    const w = await setup();
    const both = async (session: AuthenticatedSession, target: { realmId: RealmID; encryptionRevision: number }) => [
      (await w.t.app.getReencryptionBatch(session, target, 10)).kind,
      (await w.t.app.saveReencryptionBatch(session, target, [])).kind,
    ];
    expect(await both(w.alice, w.target(2))).toEqual(["not_in_maintenance", "not_in_maintenance"]);
    await w.start();
    expect(await both(w.alice, { realmId: newRealmId(), encryptionRevision: 2 })).toEqual(["not_found", "not_found"]);
    for (const name of ["mallory", "bob", "zack"]) expect(await both(w.member(name), w.target(2))).toEqual(["not_allowed", "not_allowed"]);
    for (const revision of [1, 3]) expect(await both(w.alice, w.target(revision))).toEqual(["bad_encryption_revision", "bad_encryption_revision"]);
    expect(await both(w.alice, w.target(2))).toEqual(["ok", "ok"]);
    const gc: Realm = { ...w.realm(), maintenance: { type: "GARBAGE_COLLECTION", startedBy: w.alice.deviceId, startedOn: w.t.clock.now() } };
    await storeRealm(w.t, w.orgId, gc);
    expect(await both(w.alice, w.target(2))).toEqual(["not_in_maintenance", "not_in_maintenance"]);
  });

  it("maintenance_error when the realm is under re-encryption but no re-encryption state exists", async () => {
    const w = await setup();
    const orphan: Realm = { ...w.realm(), encryptionRevision: 2, maintenance: { type: "REENCRYPTION", startedBy: w.alice.deviceId, startedOn: w.t.clock.now() } };
    await storeRealm(w.t, w.orgId, orphan);
    expect(await w.t.app.getReencryptionBatch(w.alice, w.target(2), 10)).toEqual({ kind: "maintenance_error" });
    expect(await w.t.app.saveReencryptionBatch(w.alice, w.target(2), [])).toEqual({ kind: "maintenance_error" });
  });

  it("rolls back a saved batch and a finish when their unit of work throws", async () => {
    const w = await setup();
    await w.start();
    const got = await w.t.app.getReencryptionBatch(w.alice, w.target(), 10);
    if (got.kind !== "ok") throw new Error(got.kind);
    await expect(
      w.t.deps.uow.run(w.orgId, async (tx) => {
        expect(await w.t.deps.vlobs.saveReencryptionBatch(tx, w.orgId, w.realmId, 2, got.batch.map(reencrypted))).toEqual({ total: 3, done: 3 });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await w.t.app.getReencryptionBatch(w.alice, w.target(), 10)).toMatchObject({ kind: "ok", batch: { length: 3 } });
    expect(await w.t.app.saveReencryptionBatch(w.alice, w.target(), got.batch.map(reencrypted))).toEqual({ kind: "ok", total: 3, done: 3 });
    await expect(
      w.t.deps.uow.run(w.orgId, async (tx) => {
        expect(await w.t.deps.vlobs.finishReencryption(tx, w.orgId, w.realmId, 2)).toBe("ok");
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await w.blobs(1)).toEqual(["a1", "a2", "b1"]);
    expect(await w.t.app.saveReencryptionBatch(w.alice, w.target(), [])).toEqual({ kind: "ok", total: 3, done: 3 });
    expect(await w.finish()).toBe("ok");
    expect(await w.blobs(2)).toEqual(["a1 reencrypted", "a2 reencrypted", "b1 reencrypted"]);
  });

  it("wire replies: ok with entries or counts; not_found, not_in_maintenance and maintenance_error with reason null", async () => {
    const w = await setup();
    const ctx = (session: AuthenticatedSession = w.alice) => handlerContext(w.t, session);
    const get = (session?: AuthenticatedSession, realmId: RealmID = w.realmId) =>
      vlobHandlers.vlob_maintenance_get_reencryption_batch(ctx(session), { cmd: "vlob_maintenance_get_reencryption_batch", realm_id: realmId, encryption_revision: 2, size: 1 });
    const save = (batch: { vlob_id: VlobID; version: number; blob: Uint8Array }[], session?: AuthenticatedSession) =>
      vlobHandlers.vlob_maintenance_save_reencryption_batch(ctx(session), { cmd: "vlob_maintenance_save_reencryption_batch", realm_id: w.realmId, encryption_revision: 2, batch });
    const gets = [await get()];
    await w.start();
    const batch = await get();
    gets.push(batch, await get(w.member("bob")), await get(undefined, newRealmId()));
    expect(gets.map((r) => r?.status)).toEqual(["not_in_maintenance", "ok", "not_allowed", "not_found"]);
    expect(gets[0]).toEqual({ status: "not_in_maintenance", reason: null });
    expect(gets[3]).toEqual({ status: "not_found", reason: null });
    if (batch?.status !== "ok") throw new Error("no batch");
    expect(batch.batch).toHaveLength(1);
    const saves = [await save(batch.batch.map((e) => ({ ...e, blob: Buffer.from("x") }))), await save([], w.member("mallory"))];
    expect(saves).toEqual([{ status: "ok", total: 3, done: 1 }, { status: "not_allowed" }]);
    for (const reply of gets) {
      expect(vlobMaintenanceGetReencryptionBatch.rep.is(reply)).toBe(true);
      expect(() => encodeTypedReply("authenticated", "vlob_maintenance_get_reencryption_batch", reply!)).not.toThrow();
    }
    for (const reply of saves) {
      expect(vlobMaintenanceSaveReencryptionBatch.rep.is(reply)).toBe(true);
      expect(() => encodeTypedReply("authenticated", "vlob_maintenance_save_reencryption_batch", reply!)).not.toThrow();
    }
    const orphan: Realm = { ...w.realm(), id: newRealmId() };
    await storeRealm(w.t, w.orgId, orphan);
    expect(await get(undefined, orphan.id)).toEqual({ status: "maintenance_error", reason: null });
  });
});
