import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { vlobCreate, vlobListVersions, vlobPollChanges, vlobRead, vlobUpdate } from "../../src/adapters/protocol/commands/vlob.js";
import { vlobHandlers } from "../../src/adapters/protocol/handlers/vlob.js";
import { encodeTypedReply } from "../../src/adapters/protocol/registry.js";
import type { AuthenticatedSession } from "../../src/application/index.js";
import type { CreateVlobInput, UpdateVlobInput } from "../../src/application/vlob/index.js";
import { RealmID, SequesterServiceID, VlobID, type RealmRole } from "../../src/domain/ids.js";
import type { MaintenanceType, Realm } from "../../src/domain/realm/index.js";
import type { Parsed } from "../../src/domain/result.js";
import type { DateTime } from "../../src/domain/time.js";
import { authenticate, bootstrapOrganization, buildTestApp, deviceId, userId, type BootstrappedOrganization, type TestApp } from "../support/app.js";
import { handlerContext, storeRealm } from "../support/world.js";

const valueOf = <T>(parsed: Parsed<T>): T => {
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};
const newRealmId = (): RealmID => valueOf(RealmID.parse(randomUUID()));
const newVlobId = (): VlobID => valueOf(VlobID.parse(randomUUID()));
const newServiceId = (): SequesterServiceID => valueOf(SequesterServiceID.parse(randomUUID()));

/** A bootstrapped organization, alice's session, and sessions of other members (vlob use cases only read their ids). */
interface World {
  readonly t: TestApp;
  readonly org: BootstrappedOrganization;
  readonly alice: AuthenticatedSession;
  readonly member: (name: string) => AuthenticatedSession;
  /** When the default realm's roles were granted: one minute before the clock's start. */
  readonly grantedOn: DateTime;
  /** A realm where alice is OWNER, bob CONTRIBUTOR, mallory MANAGER and rachel READER. */
  readonly realm: Realm;
  /** Saves (or replaces) a realm directly in the memory store. */
  readonly saveRealm: (realm: Realm) => Promise<void>;
}

const setup = async (): Promise<World> => {
  const t = buildTestApp();
  const org = await bootstrapOrganization(t);
  const alice = await authenticate(t, org);
  const member = (name: string): AuthenticatedSession => ({ ...alice, deviceId: deviceId(`${name}@dev1`), userId: userId(name) });
  const grantedOn = t.clock.now().addSeconds(-60);
  const grant = (name: string, role: RealmRole | null, on: DateTime = grantedOn) => ({
    userId: userId(name),
    role,
    certificate: Buffer.from(`<${name}:${role}>`),
    grantedBy: alice.deviceId,
    grantedOn: on,
  });
  const realm: Realm = {
    id: newRealmId(),
    createdOn: grantedOn,
    encryptionRevision: 1,
    maintenance: null,
    grants: [grant("alice", "OWNER"), grant("bob", "CONTRIBUTOR"), grant("mallory", "MANAGER"), grant("rachel", "READER")],
  };
  const saveRealm = (r: Realm) => storeRealm(t, org.organizationId, r);
  await saveRealm(realm);
  return { t, org, alice, member, grantedOn, realm, saveRealm };
};

const inMaintenance = (w: World, type: MaintenanceType, encryptionRevision: number = w.realm.encryptionRevision): Realm => ({
  ...w.realm,
  encryptionRevision,
  maintenance: { type, startedBy: w.alice.deviceId, startedOn: w.t.clock.now() },
});

const createInput = (w: World, fields: Partial<CreateVlobInput> = {}): CreateVlobInput => ({
  realmId: w.realm.id,
  encryptionRevision: 1,
  vlobId: newVlobId(),
  timestamp: w.t.clock.now(),
  blob: Buffer.from("v1"),
  sequesterBlob: null,
  ...fields,
});

const updateInput = (w: World, vlobId: VlobID, fields: Partial<UpdateVlobInput> = {}): UpdateVlobInput => ({
  encryptionRevision: 1,
  vlobId,
  timestamp: w.t.clock.now(),
  version: 2,
  blob: Buffer.from("v2"),
  sequesterBlob: null,
  ...fields,
});

/** Creates a vlob as alice (ok expected) and returns its id. */
const created = async (w: World, fields: Partial<CreateVlobInput> = {}): Promise<VlobID> => {
  const input = createInput(w, fields);
  expect(await w.t.app.createVlob(w.alice, input)).toEqual({ kind: "ok" });
  return input.vlobId;
};

const read = (w: World, vlobId: VlobID, fields: { encryptionRevision?: number; version?: number | null; timestamp?: DateTime | null } = {}) =>
  w.t.app.readVlob(w.alice, { encryptionRevision: 1, vlobId, version: null, timestamp: null, ...fields });

describe("vlob_create", () => {
  it("writes version 1, readable by every member, and publishes realm.vlobs_updated after commit", async () => {
    const w = await setup();
    const vlobId = await created(w, { blob: Buffer.from("Initial commit.") });
    expect(w.t.published.filter((e) => e.type === "realm.vlobs_updated")).toEqual([
      {
        type: "realm.vlobs_updated",
        organizationId: w.org.organizationId,
        author: w.alice.deviceId,
        realmId: w.realm.id,
        checkpoint: 1,
        srcId: vlobId,
        srcVersion: 1,
      },
    ]);
    expect(await w.t.app.readVlob(w.member("rachel"), { encryptionRevision: 1, vlobId, version: null, timestamp: null })).toEqual({
      kind: "ok",
      version: 1,
      blob: Buffer.from("Initial commit."),
      author: w.alice.deviceId,
      timestamp: w.t.clock.now(),
      authorLastRoleGrantedOn: w.grantedOn,
    });
  });

  it("is allowed to OWNER, MANAGER and CONTRIBUTOR; not to READER, non-members or former members; an unknown realm is not_allowed", async () => {
    const w = await setup();
    for (const name of ["alice", "mallory", "bob"]) expect(await w.t.app.createVlob(w.member(name), createInput(w))).toEqual({ kind: "ok" });
    for (const name of ["rachel", "zack"]) expect(await w.t.app.createVlob(w.member(name), createInput(w))).toEqual({ kind: "not_allowed" });
    await w.saveRealm({
      ...w.realm,
      grants: [...w.realm.grants, { userId: userId("bob"), role: null, certificate: Buffer.from("x"), grantedBy: w.alice.deviceId, grantedOn: w.grantedOn.addSeconds(1) }],
    });
    expect(await w.t.app.createVlob(w.member("bob"), createInput(w))).toEqual({ kind: "not_allowed" });
    expect(await w.t.app.createVlob(w.alice, createInput(w, { realmId: newRealmId() }))).toEqual({ kind: "not_allowed" });
  });

  it("already_exists when the organization has the vlob id, even in another realm", async () => {
    const w = await setup();
    const vlobId = await created(w);
    const other: Realm = { ...w.realm, id: newRealmId() };
    await w.saveRealm(other);
    expect(await w.t.app.createVlob(w.alice, createInput(w, { vlobId }))).toEqual({ kind: "already_exists" });
    expect(await w.t.app.createVlob(w.alice, createInput(w, { vlobId, realmId: other.id }))).toEqual({ kind: "already_exists" });
    expect(w.t.published.filter((e) => e.type === "realm.vlobs_updated")).toHaveLength(1);
  });

  it("bad_encryption_revision when the revision is not the realm's", async () => {
    const w = await setup();
    expect(await w.t.app.createVlob(w.alice, createInput(w, { encryptionRevision: 42 }))).toEqual({ kind: "bad_encryption_revision" });
    expect(await w.t.app.createVlob(w.alice, createInput(w, { encryptionRevision: 0 }))).toEqual({ kind: "bad_encryption_revision" });
  });

  it("in_maintenance during any maintenance, at the old and the new revision", async () => {
    const w = await setup();
    await w.saveRealm(inMaintenance(w, "REENCRYPTION", 2));
    expect(await w.t.app.createVlob(w.alice, createInput(w, { encryptionRevision: 1 }))).toEqual({ kind: "in_maintenance" });
    expect(await w.t.app.createVlob(w.alice, createInput(w, { encryptionRevision: 2 }))).toEqual({ kind: "in_maintenance" });
    await w.saveRealm(inMaintenance(w, "GARBAGE_COLLECTION"));
    expect(await w.t.app.createVlob(w.alice, createInput(w))).toEqual({ kind: "in_maintenance" });
  });

  it("bad_timestamp outside the ballpark (300 s early, 320 s late, bounds excluded), with offsets and both timestamps", async () => {
    const w = await setup();
    const now = w.t.clock.now();
    for (const offset of [300, -320, 3600]) {
      const timestamp = now.addSeconds(offset);
      expect(await w.t.app.createVlob(w.alice, createInput(w, { timestamp }))).toEqual({
        kind: "bad_timestamp",
        clientTimestamp: timestamp,
        backendTimestamp: now,
        ballparkClientEarlyOffset: 300,
        ballparkClientLateOffset: 320,
      });
    }
    expect(await w.t.app.createVlob(w.alice, createInput(w, { timestamp: now.addSeconds(299) }))).toEqual({ kind: "ok" });
    expect(await w.t.app.createVlob(w.alice, createInput(w, { timestamp: now.addSeconds(-59) }))).toEqual({ kind: "ok" });
  });

  it("causality: require_greater_timestamp when the writer's last role certificate is not older than the write", async () => {
    const w = await setup();
    const ref = w.t.clock.now().addSeconds(-10);
    await w.saveRealm({
      ...w.realm,
      grants: [...w.realm.grants, { userId: userId("bob"), role: "MANAGER", certificate: Buffer.from("x"), grantedBy: w.alice.deviceId, grantedOn: ref }],
    });
    const bob = w.member("bob");
    for (const timestamp of [ref, ref.addSeconds(-1)])
      expect(await w.t.app.createVlob(bob, createInput(w, { timestamp }))).toEqual({ kind: "require_greater_timestamp", strictlyGreaterThan: ref });
    expect(await w.t.app.createVlob(bob, createInput(w, { timestamp: ref.addSeconds(0.000001) }))).toEqual({ kind: "ok" });
  });

  it("not_a_sequestered_organization for any sequester_blob (even empty) without a sequester authority", async () => {
    const w = await setup();
    const service = newServiceId();
    expect(await w.t.app.createVlob(w.alice, createInput(w, { sequesterBlob: new Map() }))).toEqual({ kind: "not_a_sequestered_organization" });
    expect(await w.t.app.createVlob(w.alice, createInput(w, { sequesterBlob: new Map([[service, Buffer.from("s")]]) }))).toEqual({
      kind: "not_a_sequestered_organization",
    });
  });

  it("sequester_inconsistency in a sequestered organization when the blobs name services it does not have", async () => {
    const w = await setup();
    const data = w.t.persistence.store.organizations.get(w.org.organizationId)!;
    data.organization = { ...data.organization, sequesterAuthority: { certificate: Buffer.from("<authority>"), verifyKeyDer: Buffer.alloc(0) }, sequesterServicesCertificates: [] };
    // The authority is fixed at bootstrap: a session reads it at its handshake.
    const alice = await authenticate(w.t, w.org);
    expect(alice.sequesterAuthorityCertificate).toEqual(Buffer.from("<authority>"));
    const service = newServiceId();
    expect(await w.t.app.createVlob(alice, createInput(w, { sequesterBlob: new Map([[service, Buffer.from("s")]]) }))).toEqual({
      kind: "sequester_inconsistency",
      sequesterAuthorityCertificate: Buffer.from("<authority>"),
      sequesterServicesCertificates: [],
    });
    expect(await w.t.app.createVlob(alice, createInput(w))).toEqual({ kind: "ok" });
    expect(await w.t.app.createVlob(alice, createInput(w, { sequesterBlob: new Map() }))).toEqual({ kind: "ok" });
  });

  it("checks the access before the sequester blobs, and both before the vlob id", async () => {
    const w = await setup();
    const vlobId = await created(w);
    expect(await w.t.app.createVlob(w.member("rachel"), createInput(w, { vlobId, sequesterBlob: new Map() }))).toEqual({ kind: "not_allowed" });
    expect(await w.t.app.createVlob(w.alice, createInput(w, { vlobId, sequesterBlob: new Map() }))).toEqual({ kind: "not_a_sequestered_organization" });
  });
});

describe("vlob_update", () => {
  it("appends the next version and publishes realm.vlobs_updated with the realm's checkpoint", async () => {
    const w = await setup();
    const vlobId = await created(w);
    expect(await w.t.app.updateVlob(w.member("bob"), updateInput(w, vlobId))).toEqual({ kind: "ok" });
    expect(w.t.published.filter((e) => e.type === "realm.vlobs_updated").at(-1)).toEqual({
      type: "realm.vlobs_updated",
      organizationId: w.org.organizationId,
      author: deviceId("bob@dev1"),
      realmId: w.realm.id,
      checkpoint: 2,
      srcId: vlobId,
      srcVersion: 2,
    });
    expect(await read(w, vlobId)).toMatchObject({ kind: "ok", version: 2, blob: Buffer.from("v2"), author: "bob@dev1" });
  });

  it("replies before delivering realm.vlobs_updated: no subscriber has run when the use case resolves, every one has once the bus is idle", async () => {
    const w = await setup();
    const vlobId = await created(w);
    await w.t.events.idle();
    const seen: unknown[] = [];
    w.t.events.subscribe(w.org.organizationId, { event: (event) => seen.push(event) });
    const listener = { ...w.alice, deviceId: deviceId("alice@dev2") };
    await w.t.app.subscribeEvents(listener);
    const never = new AbortController().signal;
    const update = w.t.app.updateVlob(w.member("bob"), updateInput(w, vlobId));
    expect(seen).toEqual([]);
    expect(await update).toEqual({ kind: "ok" });
    const event = w.t.published.at(-1);
    expect(event).toMatchObject({ type: "realm.vlobs_updated", srcId: vlobId, srcVersion: 2, checkpoint: 2 });
    expect(seen).toEqual([]);
    expect(await w.t.app.listenEvents(listener, false, never)).toEqual({ kind: "no_events" });
    await w.t.events.idle();
    expect(seen).toEqual([event]);
    expect(await w.t.app.listenEvents(listener, false, never)).toEqual({ kind: "ok", event });
  });

  it("bad_version unless the version is exactly the last plus one", async () => {
    const w = await setup();
    const vlobId = await created(w);
    for (const version of [0, 1, 3, 4]) expect(await w.t.app.updateVlob(w.alice, updateInput(w, vlobId, { version }))).toEqual({ kind: "bad_version" });
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, vlobId))).toEqual({ kind: "ok" });
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, vlobId))).toEqual({ kind: "bad_version" });
  });

  it("not_found for an unknown vlob, or one of another organization", async () => {
    const w = await setup();
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, newVlobId()))).toEqual({ kind: "not_found" });
    const vlobId = await created(w);
    const other = await bootstrapOrganization(w.t, "OtherOrg");
    const zack = await authenticate(w.t, other);
    expect(await w.t.app.updateVlob(zack, updateInput(w, vlobId))).toEqual({ kind: "not_found" });
  });

  it("not_allowed for READER and non-members", async () => {
    const w = await setup();
    const vlobId = await created(w);
    for (const name of ["rachel", "zack"]) expect(await w.t.app.updateVlob(w.member(name), updateInput(w, vlobId))).toEqual({ kind: "not_allowed" });
  });

  it("bad_encryption_revision, in_maintenance, bad_timestamp", async () => {
    const w = await setup();
    const vlobId = await created(w);
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, vlobId, { encryptionRevision: 2 }))).toEqual({ kind: "bad_encryption_revision" });
    const late = w.t.clock.now().addSeconds(-400);
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, vlobId, { timestamp: late }))).toMatchObject({ kind: "bad_timestamp", clientTimestamp: late });
    await w.saveRealm(inMaintenance(w, "REENCRYPTION", 2));
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, vlobId, { encryptionRevision: 1 }))).toEqual({ kind: "in_maintenance" });
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, vlobId, { encryptionRevision: 2 }))).toEqual({ kind: "in_maintenance" });
  });

  it("require_greater_timestamp when older than the previous version (an equal timestamp is accepted, as in Parsec)", async () => {
    const w = await setup();
    const ref = w.t.clock.now();
    const vlobId = await created(w, { timestamp: ref });
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, vlobId, { timestamp: ref.addSeconds(-1) }))).toEqual({
      kind: "require_greater_timestamp",
      strictlyGreaterThan: ref,
    });
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, vlobId, { timestamp: ref }))).toEqual({ kind: "ok" });
  });

  it("causality: require_greater_timestamp when the writer's role changed at or after the write", async () => {
    const w = await setup();
    const vlobId = await created(w, { timestamp: w.t.clock.now().addSeconds(-30) });
    const ref = w.t.clock.now().addSeconds(-10);
    await w.saveRealm({
      ...w.realm,
      grants: [...w.realm.grants, { userId: userId("bob"), role: "MANAGER", certificate: Buffer.from("x"), grantedBy: w.alice.deviceId, grantedOn: ref }],
    });
    expect(await w.t.app.updateVlob(w.member("bob"), updateInput(w, vlobId, { timestamp: ref }))).toEqual({
      kind: "require_greater_timestamp",
      strictlyGreaterThan: ref,
    });
    expect(await w.t.app.updateVlob(w.member("bob"), updateInput(w, vlobId, { timestamp: ref.addSeconds(1) }))).toEqual({ kind: "ok" });
  });

  it("not_a_sequestered_organization with a sequester_blob", async () => {
    const w = await setup();
    const vlobId = await created(w);
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, vlobId, { sequesterBlob: new Map() }))).toEqual({ kind: "not_a_sequestered_organization" });
  });
});

describe("vlob_read", () => {
  const versions = async (w: World) => {
    const t0 = w.t.clock.now().addSeconds(-30);
    const vlobId = await created(w, { timestamp: t0 });
    expect(await w.t.app.updateVlob(w.member("bob"), updateInput(w, vlobId, { timestamp: t0.addSeconds(10) }))).toEqual({ kind: "ok" });
    return { vlobId, t1: t0, t2: t0.addSeconds(10) };
  };

  it("the latest version, or a given version, with the author's last role change", async () => {
    const w = await setup();
    const { vlobId, t1, t2 } = await versions(w);
    expect(await read(w, vlobId)).toEqual({
      kind: "ok",
      version: 2,
      blob: Buffer.from("v2"),
      author: deviceId("bob@dev1"),
      timestamp: t2,
      authorLastRoleGrantedOn: w.grantedOn,
    });
    expect(await read(w, vlobId, { version: 1 })).toEqual({
      kind: "ok",
      version: 1,
      blob: Buffer.from("v1"),
      author: w.alice.deviceId,
      timestamp: t1,
      authorLastRoleGrantedOn: w.grantedOn,
    });
    expect(await read(w, vlobId, { version: 1, timestamp: t2 })).toMatchObject({ version: 1 });
  });

  it("by timestamp: the last version written at or before it; bad_version before version 1", async () => {
    const w = await setup();
    const { vlobId, t1, t2 } = await versions(w);
    expect(await read(w, vlobId, { timestamp: t2.addSeconds(100) })).toMatchObject({ kind: "ok", version: 2 });
    expect(await read(w, vlobId, { timestamp: t2 })).toMatchObject({ kind: "ok", version: 2 });
    expect(await read(w, vlobId, { timestamp: t2.addSeconds(-0.000001) })).toMatchObject({ kind: "ok", version: 1 });
    expect(await read(w, vlobId, { timestamp: t1 })).toMatchObject({ kind: "ok", version: 1 });
    expect(await read(w, vlobId, { timestamp: t1.addSeconds(-0.000001) })).toEqual({ kind: "bad_version" });
  });

  it("bad_version for a version that does not exist", async () => {
    const w = await setup();
    const { vlobId } = await versions(w);
    for (const version of [0, 3, 99]) expect(await read(w, vlobId, { version })).toEqual({ kind: "bad_version" });
  });

  it("not_found, not_allowed, bad_encryption_revision", async () => {
    const w = await setup();
    const { vlobId } = await versions(w);
    expect(await read(w, newVlobId())).toEqual({ kind: "not_found" });
    expect(await w.t.app.readVlob(w.member("zack"), { encryptionRevision: 1, vlobId, version: null, timestamp: null })).toEqual({ kind: "not_allowed" });
    expect(await read(w, vlobId, { encryptionRevision: 42 })).toEqual({ kind: "bad_encryption_revision" });
  });

  it("during a re-encryption: the previous revision reads, the new one is in_maintenance, others bad_encryption_revision", async () => {
    const w = await setup();
    const { vlobId } = await versions(w);
    await w.saveRealm(inMaintenance(w, "REENCRYPTION", 2));
    expect(await read(w, vlobId, { encryptionRevision: 1 })).toMatchObject({ kind: "ok", version: 2, blob: Buffer.from("v2") });
    expect(await read(w, vlobId, { encryptionRevision: 2 })).toEqual({ kind: "in_maintenance" });
    expect(await read(w, vlobId, { encryptionRevision: 3 })).toEqual({ kind: "bad_encryption_revision" });
    expect(await read(w, vlobId, { encryptionRevision: 0 })).toEqual({ kind: "bad_encryption_revision" });
    expect(await w.t.app.readVlob(w.member("zack"), { encryptionRevision: 1, vlobId, version: null, timestamp: null })).toEqual({ kind: "not_allowed" });
  });

  it("in_maintenance during another maintenance", async () => {
    const w = await setup();
    const { vlobId } = await versions(w);
    await w.saveRealm(inMaintenance(w, "GARBAGE_COLLECTION"));
    expect(await read(w, vlobId)).toEqual({ kind: "in_maintenance" });
  });
});

describe("vlob_poll_changes", () => {
  it("checkpoint semantics: counts every write; changes after a checkpoint map each vlob to its latest version", async () => {
    const w = await setup();
    const poll = (lastCheckpoint: number) => w.t.app.pollVlobChanges(w.member("rachel"), w.realm.id, lastCheckpoint);
    expect(await poll(0)).toEqual({ kind: "ok", changes: new Map(), currentCheckpoint: 0 });
    const a = await created(w);
    const b = await created(w);
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, a))).toEqual({ kind: "ok" });
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, a, { version: 3 }))).toEqual({ kind: "ok" });
    expect(await poll(0)).toEqual({ kind: "ok", changes: new Map([[a, 3], [b, 1]]), currentCheckpoint: 4 });
    expect(await poll(1)).toEqual({ kind: "ok", changes: new Map([[b, 1], [a, 3]]), currentCheckpoint: 4 });
    expect(await poll(2)).toEqual({ kind: "ok", changes: new Map([[a, 3]]), currentCheckpoint: 4 });
    expect(await poll(4)).toEqual({ kind: "ok", changes: new Map(), currentCheckpoint: 4 });
    expect(await poll(10)).toEqual({ kind: "ok", changes: new Map(), currentCheckpoint: 4 });
    const checkpoints = w.t.published.flatMap((e) => (e.type === "realm.vlobs_updated" ? [e.checkpoint] : []));
    expect(checkpoints).toEqual([1, 2, 3, 4]);
  });

  it("each realm has its own checkpoint; failed writes do not count", async () => {
    const w = await setup();
    const other: Realm = { ...w.realm, id: newRealmId() };
    await w.saveRealm(other);
    const a = await created(w);
    expect(await w.t.app.updateVlob(w.alice, updateInput(w, a, { version: 5 }))).toEqual({ kind: "bad_version" });
    const b = await created(w, { realmId: other.id });
    expect(await w.t.app.pollVlobChanges(w.alice, w.realm.id, 0)).toEqual({ kind: "ok", changes: new Map([[a, 1]]), currentCheckpoint: 1 });
    expect(await w.t.app.pollVlobChanges(w.alice, other.id, 0)).toEqual({ kind: "ok", changes: new Map([[b, 1]]), currentCheckpoint: 1 });
  });

  it("not_found, not_allowed, in_maintenance (allowed during a re-encryption)", async () => {
    const w = await setup();
    await created(w);
    expect(await w.t.app.pollVlobChanges(w.alice, newRealmId(), 0)).toEqual({ kind: "not_found" });
    expect(await w.t.app.pollVlobChanges(w.member("zack"), w.realm.id, 0)).toEqual({ kind: "not_allowed" });
    await w.saveRealm(inMaintenance(w, "REENCRYPTION", 2));
    expect(await w.t.app.pollVlobChanges(w.alice, w.realm.id, 0)).toMatchObject({ kind: "ok", currentCheckpoint: 1 });
    await w.saveRealm(inMaintenance(w, "GARBAGE_COLLECTION"));
    expect(await w.t.app.pollVlobChanges(w.alice, w.realm.id, 0)).toEqual({ kind: "in_maintenance" });
  });
});

describe("vlob_list_versions", () => {
  it("every version with its timestamp and author", async () => {
    const w = await setup();
    const t1 = w.t.clock.now().addSeconds(-5);
    const vlobId = await created(w, { timestamp: t1 });
    expect(await w.t.app.updateVlob(w.member("bob"), updateInput(w, vlobId))).toEqual({ kind: "ok" });
    expect(await w.t.app.listVlobVersions(w.member("rachel"), vlobId)).toEqual({
      kind: "ok",
      versions: new Map([
        [1, { timestamp: t1, author: w.alice.deviceId }],
        [2, { timestamp: w.t.clock.now(), author: deviceId("bob@dev1") }],
      ]),
    });
  });

  it("not_found, not_allowed, in_maintenance (allowed during a re-encryption)", async () => {
    const w = await setup();
    const vlobId = await created(w);
    expect(await w.t.app.listVlobVersions(w.alice, newVlobId())).toEqual({ kind: "not_found" });
    expect(await w.t.app.listVlobVersions(w.member("zack"), vlobId)).toEqual({ kind: "not_allowed" });
    await w.saveRealm(inMaintenance(w, "REENCRYPTION", 2));
    expect(await w.t.app.listVlobVersions(w.alice, vlobId)).toMatchObject({ kind: "ok" });
    await w.saveRealm(inMaintenance(w, "GARBAGE_COLLECTION"));
    expect(await w.t.app.listVlobVersions(w.alice, vlobId)).toEqual({ kind: "in_maintenance" });
  });
});

describe("memory vlob repository", () => {
  it("rolls back a write, its checkpoint and its event when the unit of work throws", async () => {
    const w = await setup();
    const orgId = w.org.organizationId;
    const vlobId = newVlobId();
    const atom = { blob: Buffer.from("x"), author: w.alice.deviceId, timestamp: w.t.clock.now() };
    await expect(
      w.t.deps.uow.run(orgId, async (tx) => {
        expect(await w.t.deps.vlobs.create(tx, orgId, w.realm.id, vlobId, 1, atom)).toBe(1);
        expect(await w.t.deps.vlobs.append(tx, orgId, w.realm.id, vlobId, 2, atom)).toBe(2);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await w.t.deps.vlobs.read(orgId, vlobId, { kind: "latest" }, w.alice.userId)).toBeNull();
    expect(await w.t.deps.vlobs.pollChanges(orgId, w.realm.id, 0)).toEqual({ checkpoint: 0, changes: new Map() });
    expect(await w.t.deps.vlobs.lastWriteBy(orgId, w.realm.id, w.alice.userId)).toBeNull();
    expect(await w.t.deps.vlobs.realmSize(orgId, w.realm.id)).toBe(0);
    expect(await created(w, { vlobId })).toBe(vlobId);
  });

  it("sizes and last writes: realmSize, metadataSize up to a date, lastWriteBy per user", async () => {
    const w = await setup();
    const orgId = w.org.organizationId;
    const t1 = w.t.clock.now().addSeconds(-20);
    const vlobId = await created(w, { timestamp: t1, blob: Buffer.from("12345") });
    expect(await w.t.app.updateVlob(w.member("bob"), updateInput(w, vlobId, { blob: Buffer.from("123") }))).toEqual({ kind: "ok" });
    expect(await w.t.deps.vlobs.realmSize(orgId, w.realm.id)).toBe(8);
    expect(await w.t.deps.vlobs.metadataSize(orgId, w.t.clock.now())).toBe(8);
    expect(await w.t.deps.vlobs.metadataSize(orgId, t1)).toBe(5);
    expect(await w.t.deps.vlobs.metadataSize(orgId, t1.addSeconds(-1))).toBe(0);
    expect(await w.t.deps.vlobs.lastWriteBy(orgId, w.realm.id, w.alice.userId)).toEqual(t1);
    expect(await w.t.deps.vlobs.lastWriteBy(orgId, w.realm.id, userId("bob"))).toEqual(w.t.clock.now());
    expect(await w.t.deps.vlobs.lastWriteBy(orgId, w.realm.id, userId("rachel"))).toBeNull();
  });
});

describe("wire replies (vlobHandlers)", () => {
  const ctx = (w: World, session: AuthenticatedSession = w.alice) => handlerContext(w.t, session);
  const ok = <T>(value: T | null): T => {
    if (value === null) throw new Error("no reply");
    return value;
  };

  it("vlob_create: ok, errors without reason, already_exists with reason null, bad_timestamp with the ballpark fields", async () => {
    const w = await setup();
    const vlobId = newVlobId();
    const req = (fields: Partial<{ timestamp: DateTime; encryption_revision: number }> = {}) => ({
      cmd: "vlob_create" as const,
      realm_id: w.realm.id,
      encryption_revision: 1,
      vlob_id: vlobId,
      timestamp: w.t.clock.now(),
      blob: new Uint8Array([1, 2, 3]),
      ...fields,
    });
    const replies = [
      ok(await vlobHandlers.vlob_create(ctx(w), req())),
      ok(await vlobHandlers.vlob_create(ctx(w), req())),
      ok(await vlobHandlers.vlob_create(ctx(w, w.member("rachel")), req())),
      ok(await vlobHandlers.vlob_create(ctx(w), { ...req(), sequester_blob: new Map() })),
      ok(await vlobHandlers.vlob_create(ctx(w), req({ timestamp: w.grantedOn }))),
      ok(await vlobHandlers.vlob_create(ctx(w), req({ timestamp: w.t.clock.now().addSeconds(1000) }))),
    ];
    expect(replies).toEqual([
      { status: "ok" },
      { status: "already_exists", reason: null },
      { status: "not_allowed" },
      { status: "not_a_sequestered_organization" },
      { status: "require_greater_timestamp", strictly_greater_than: w.grantedOn },
      {
        status: "bad_timestamp",
        reason: null,
        ballpark_client_early_offset: 300,
        ballpark_client_late_offset: 320,
        backend_timestamp: w.t.clock.now(),
        client_timestamp: w.t.clock.now().addSeconds(1000),
      },
    ]);
    for (const reply of replies) {
      expect(vlobCreate.rep.is(reply)).toBe(true);
      expect(() => encodeTypedReply("authenticated", "vlob_create", reply)).not.toThrow();
    }
  });

  it("vlob_update, vlob_read, vlob_poll_changes, vlob_list_versions", async () => {
    const w = await setup();
    const vlobId = await created(w);
    const update = (version: number) =>
      vlobHandlers.vlob_update(ctx(w), { cmd: "vlob_update", encryption_revision: 1, vlob_id: vlobId, timestamp: w.t.clock.now(), version, blob: new Uint8Array([9]) });
    const updates = [ok(await update(2)), ok(await update(2)), ok(await vlobHandlers.vlob_update(ctx(w), { cmd: "vlob_update", encryption_revision: 1, vlob_id: newVlobId(), timestamp: w.t.clock.now(), version: 2, blob: new Uint8Array() }))];
    expect(updates).toEqual([{ status: "ok" }, { status: "bad_version" }, { status: "not_found", reason: null }]);
    for (const reply of updates) expect(vlobUpdate.rep.is(reply)).toBe(true);

    const readReq = (fields: { version?: number | null; vlob_id?: VlobID } = {}) => ({ cmd: "vlob_read" as const, encryption_revision: 1, vlob_id: vlobId, version: null, timestamp: null, ...fields });
    const reads = [ok(await vlobHandlers.vlob_read(ctx(w), readReq())), ok(await vlobHandlers.vlob_read(ctx(w), readReq({ version: 7 }))), ok(await vlobHandlers.vlob_read(ctx(w), readReq({ vlob_id: newVlobId() })))];
    expect(reads).toEqual([
      { status: "ok", version: 2, blob: Buffer.from([9]), author: w.alice.deviceId, timestamp: w.t.clock.now(), author_last_role_granted_on: w.grantedOn },
      { status: "bad_version" },
      { status: "not_found", reason: null },
    ]);
    for (const reply of reads) {
      expect(vlobRead.rep.is(reply)).toBe(true);
      expect(() => encodeTypedReply("authenticated", "vlob_read", reply)).not.toThrow();
    }

    const polls = [
      ok(await vlobHandlers.vlob_poll_changes(ctx(w), { cmd: "vlob_poll_changes", realm_id: w.realm.id, last_checkpoint: 0 })),
      ok(await vlobHandlers.vlob_poll_changes(ctx(w), { cmd: "vlob_poll_changes", realm_id: newRealmId(), last_checkpoint: 0 })),
      ok(await vlobHandlers.vlob_poll_changes(ctx(w, w.member("zack")), { cmd: "vlob_poll_changes", realm_id: w.realm.id, last_checkpoint: 0 })),
    ];
    expect(polls).toEqual([{ status: "ok", changes: new Map([[vlobId, 2]]), current_checkpoint: 2 }, { status: "not_found", reason: null }, { status: "not_allowed" }]);
    for (const reply of polls) {
      expect(vlobPollChanges.rep.is(reply)).toBe(true);
      expect(() => encodeTypedReply("authenticated", "vlob_poll_changes", reply)).not.toThrow();
    }

    const lists = [
      ok(await vlobHandlers.vlob_list_versions(ctx(w), { cmd: "vlob_list_versions", vlob_id: vlobId })),
      ok(await vlobHandlers.vlob_list_versions(ctx(w), { cmd: "vlob_list_versions", vlob_id: newVlobId() })),
    ];
    expect(lists).toEqual([
      {
        status: "ok",
        versions: new Map([
          [1, [w.t.clock.now(), w.alice.deviceId]],
          [2, [w.t.clock.now(), w.alice.deviceId]],
        ]),
      },
      { status: "not_found", reason: null },
    ]);
    for (const reply of lists) {
      expect(vlobListVersions.rep.is(reply)).toBe(true);
      expect(() => encodeTypedReply("authenticated", "vlob_list_versions", reply)).not.toThrow();
    }
  });
});
