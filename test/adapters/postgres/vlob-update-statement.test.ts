import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeInline, encodeInlineAroundCheckpoint, MAX_INLINE_NOTIFICATION_BYTES, decodeNotification } from "../../../src/adapters/events/postgres/notification.js";
import type { BackendEvent, VlobUpdateFacts, VlobUpdateWrite } from "../../../src/application/ports/index.js";
import { RealmID, VlobID, type OrganizationID } from "../../../src/domain/ids.js";
import { bootstrapMaterial, login, orgId, type Member } from "../../support/app.js";
import { realmRoleCertificate } from "../../support/certificates.js";
import { databaseUrl } from "../../support/postgres.js";
import { buildPostgresTestApp, type PostgresTestApp } from "../../support/postgres-app.js";
import { addUser, parsed } from "../../support/world.js";

type VlobsUpdated = Extract<BackendEvent, { type: "realm.vlobs_updated" }>;

/**
 * `vlob_update` in one autocommit statement (`PgVlobRepository.updateIfUnchanged`): it writes only if what its check
 * read still holds when the statement has its locks, reads again otherwise, and announces the write with the
 * checkpoint the statement assigned.
 */
describe("PostgreSQL one-statement vlob_update", () => {
  let t: PostgresTestApp;
  let alice: Member;
  let bob: Member;
  let organizationId: OrganizationID;
  let org: Parameters<typeof addUser>[0]["org"];
  let other: pg.Client;

  const newVlobId = () => parsed(VlobID.parse(randomBytes(16).toString("hex")));

  beforeAll(async () => {
    t = await buildPostgresTestApp({ random: "real" });
    const created = await t.app.createOrganization({ organizationId: orgId("OneStatement") });
    if (created.kind !== "ok") throw new Error(created.kind);
    const material = bootstrapMaterial(t.clock.now());
    organizationId = orgId("OneStatement");
    const booted = await t.app.bootstrapOrganization({ organizationId, bootstrapToken: created.bootstrapToken, ...material.request });
    if (booted.kind !== "ok") throw new Error(booted.kind);
    org = { ...material, organizationId, bootstrapToken: created.bootstrapToken };
    alice = await login(t, org, org.deviceId, org.deviceKey);
    bob = await addUser({ t, org }, alice, { userId: "bob" });
    other = new pg.Client({ connectionString: databaseUrl(t.database.name) });
    await other.connect();
  }, 60_000);

  afterAll(async () => {
    await other?.end();
    expect(t?.busErrors ?? []).toEqual([]);
    await t?.close();
  });

  const updateIfUnchanged = () => {
    const fast = t.deps.vlobs.updateIfUnchanged;
    if (!fast) throw new Error("the PostgreSQL vlob repository offers no updateIfUnchanged");
    return fast.bind(t.deps.vlobs);
  };

  /** A realm of alice's where bob is CONTRIBUTOR, and a vlob bob wrote at version 1. */
  const realmWithVlob = async () => {
    const realmId = parsed(RealmID.parse(randomBytes(16).toString("hex")));
    const role = (userId: Member["userId"], r: "OWNER" | "CONTRIBUTOR" | "READER") =>
      realmRoleCertificate(alice.key.signingKey, { author: alice.deviceId, timestamp: t.clock.now(), realmId, userId, role: r });
    expect(await t.app.createRealm(alice.session, role(alice.userId, "OWNER"))).toEqual({ kind: "ok" });
    t.clock.advance(0.001);
    expect(await t.app.updateRealmRoles(alice.session, { roleCertificate: role(bob.userId, "CONTRIBUTOR"), recipientMessage: null })).toEqual({ kind: "ok" });
    t.clock.advance(0.001);
    const vlobId = newVlobId();
    const blob = randomBytes(16);
    expect(await t.app.createVlob(bob.session, { realmId, vlobId, encryptionRevision: 1, timestamp: t.clock.now(), blob, sequesterBlob: null })).toEqual({ kind: "ok" });
    t.clock.advance(0.001);
    return { realmId, vlobId };
  };

  /** Version `version` of `vlobId` by bob, announced as the use case does. */
  const writeOf = (vlobId: VlobID, version: number): VlobUpdateWrite => ({
    version,
    atom: { blob: Buffer.from(`version ${version}`), author: bob.deviceId, timestamp: t.clock.now() },
    event: (realmId, checkpoint) => ({ type: "realm.vlobs_updated", organizationId, author: bob.deviceId, realmId, checkpoint, srcId: vlobId, srcVersion: version }),
  });

  const versionsOf = async (vlobId: VlobID) => {
    const listed = await t.app.listVlobVersions(bob.session, vlobId);
    return listed.kind === "ok" ? [...listed.versions.keys()] : listed.kind;
  };

  /** Resolves once some statement of the test database waits for a row lock. */
  const someoneWaitsForALock = async () => {
    for (let i = 0; i < 200; i++) {
      const { rows } = await other.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      if ((rows[0] as { n: number }).n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error("no statement ever waited for a lock");
  };

  it("writes, moves the realm's checkpoint by one and announces the write with that checkpoint", async () => {
    const { realmId, vlobId } = await realmWithVlob();
    const before = await t.deps.vlobs.pollChanges(organizationId, realmId, 0);
    const received: BackendEvent[] = [];
    const unsubscribe = t.deps.events.subscribe(organizationId, { event: (e) => void received.push(e) });
    try {
      const seen: VlobUpdateFacts[] = [];
      const result = await updateIfUnchanged()(organizationId, vlobId, bob.userId, (facts) => (seen.push(facts), null), writeOf(vlobId, 2));
      expect(result).toEqual({ kind: "written" });
      expect(seen.map((f) => [f.head.version, f.realm.lastGrant?.role])).toEqual([[1, "CONTRIBUTOR"]]);
      const after = await t.deps.vlobs.pollChanges(organizationId, realmId, 0);
      expect(after.checkpoint).toBe(before.checkpoint + 1);
      expect(await versionsOf(vlobId)).toEqual([1, 2]);
      const read = await t.deps.vlobs.read(organizationId, vlobId, { kind: "latest" }, bob.userId);
      expect(read?.selected?.blob).toEqual(Buffer.from("version 2"));
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(received).toEqual([
        { type: "realm.vlobs_updated", organizationId, author: bob.deviceId, realmId, checkpoint: after.checkpoint, srcId: vlobId, srcVersion: 2 },
      ]);
    } finally {
      unsubscribe();
    }
  });

  it("returns the check's refusal and writes nothing; not_found for an unknown vlob", async () => {
    const { realmId, vlobId } = await realmWithVlob();
    const before = await t.deps.vlobs.pollChanges(organizationId, realmId, 0);
    expect(await updateIfUnchanged()(organizationId, vlobId, bob.userId, () => "refused by the test", writeOf(vlobId, 2))).toEqual({
      kind: "refused",
      outcome: "refused by the test",
    });
    expect(await updateIfUnchanged()(organizationId, newVlobId(), bob.userId, () => null, writeOf(vlobId, 2))).toEqual({ kind: "not_found" });
    expect((await t.deps.vlobs.pollChanges(organizationId, realmId, 0)).checkpoint).toBe(before.checkpoint);
    expect(await versionsOf(vlobId)).toEqual([1]);
  });

  it("a version committed while it waited for the vlob: nothing written, the check runs again on the new head", async () => {
    const { realmId, vlobId } = await realmWithVlob();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    // A locked-path writer holds the realm and the vlob, and commits version 2 once the statement waits behind it.
    const concurrent = t.deps.uow.run(organizationId, async (tx) => {
      const found = await t.deps.vlobs.getForUpdate(tx, organizationId, vlobId, bob.userId);
      holding();
      await gate;
      return t.deps.vlobs.append(tx, organizationId, found!.realm.realmId, vlobId, 2, writeOf(vlobId, 2).atom);
    });
    await held;
    const heads: number[] = [];
    const statement = updateIfUnchanged()(organizationId, vlobId, bob.userId, (facts) => (heads.push(facts.head.version), heads.length === 1 ? null : "stale"), writeOf(vlobId, 2));
    await someoneWaitsForALock();
    release();
    await concurrent;
    expect(await statement).toEqual({ kind: "refused", outcome: "stale" });
    expect(heads).toEqual([1, 2]);
    expect(await versionsOf(vlobId)).toEqual([1, 2]);
    expect((await t.deps.vlobs.read(organizationId, vlobId, { kind: "latest" }, bob.userId))?.selected?.author).toBe(bob.deviceId);
    expect((await t.deps.vlobs.pollChanges(organizationId, realmId, 0)).changes.get(vlobId)).toBe(2);
  });

  it("a role change committed while it waited for the grant: nothing written, the check sees the new role", async () => {
    const { vlobId } = await realmWithVlob();
    await other.query("BEGIN");
    await other.query(
      `UPDATE realm_member SET role = 'READER', granted_on = granted_on + 1
       WHERE user_id = $1 AND realm = (SELECT realm FROM vlob WHERE vlob_id = $2)`,
      [bob.userId, vlobId],
    );
    const roles: (string | null | undefined)[] = [];
    const statement = updateIfUnchanged()(
      organizationId,
      vlobId,
      bob.userId,
      (facts) => (roles.push(facts.realm.lastGrant?.role), facts.realm.lastGrant?.role === "READER" ? "not_allowed" : null),
      writeOf(vlobId, 2),
    );
    await someoneWaitsForALock();
    await other.query("COMMIT");
    expect(await statement).toEqual({ kind: "refused", outcome: "not_allowed" });
    expect(roles).toEqual(["CONTRIBUTOR", "READER"]);
    expect(await versionsOf(vlobId)).toEqual([1]);
  });

  /** `count` more vlobs of `realmId`, written at version 1 by `by`. */
  const moreVlobs = async (realmId: RealmID, count: number, by: Member = bob): Promise<VlobID[]> => {
    const ids: VlobID[] = [];
    for (let k = 0; k < count; k++) {
      const vlobId = newVlobId();
      expect(await t.app.createVlob(by.session, { realmId, vlobId, encryptionRevision: 1, timestamp: t.clock.now(), blob: randomBytes(8), sequesterBlob: null })).toEqual({
        kind: "ok",
      });
      ids.push(vlobId);
    }
    t.clock.advance(0.001);
    return ids;
  };

  /** The realm's `(checkpoint, vlob)` log after `after`, in checkpoint order. */
  const logAfter = async (realmId: RealmID, after: number) =>
    (
      await other.query<{ index: string; vlob_id: string }>(
        `SELECT u.index::text, replace(v.vlob_id::text, '-', '') AS vlob_id FROM realm_vlob_update u JOIN vlob v ON v._id = u.vlob
         WHERE u.realm = (SELECT _id FROM realm WHERE realm_id = $1) AND u.index > $2 ORDER BY u.index`,
        [realmId, after],
      )
    ).rows.map((r) => [Number(r.index), r.vlob_id] as const);

  it("writes the concurrent updates of one realm in one statement: consecutive checkpoints, each announced with its own, in order", async () => {
    const { realmId, vlobId } = await realmWithVlob();
    const vlobIds = [vlobId, ...(await moreVlobs(realmId, 7))];
    const before = (await t.deps.vlobs.pollChanges(organizationId, realmId, 0)).checkpoint;
    const received: VlobsUpdated[] = [];
    // Version 2 only: the creations' events may still be on their way.
    const unsubscribe = t.deps.events.subscribe(organizationId, {
      event: (e) => void (e.type === "realm.vlobs_updated" && e.realmId === realmId && e.srcVersion === 2 && received.push(e)),
    });
    try {
      const results = await Promise.all(vlobIds.map((id) => updateIfUnchanged()(organizationId, id, bob.userId, () => null, writeOf(id, 2))));
      expect(results).toEqual(vlobIds.map(() => ({ kind: "written" })));
      expect((await t.deps.vlobs.pollChanges(organizationId, realmId, 0)).checkpoint).toBe(before + vlobIds.length);
      const log = await logAfter(realmId, before);
      expect(log.map(([checkpoint]) => checkpoint)).toEqual(vlobIds.map((_, k) => before + 1 + k));
      expect(log.map(([, id]) => id).sort()).toEqual([...vlobIds].sort());
      // One transaction wrote every version 2.
      const writers = await other.query<{ n: number }>(
        `SELECT count(DISTINCT a.xmin::text)::int AS n FROM vlob_atom a JOIN vlob v ON v._id = a.vlob
         WHERE a.version = 2 AND replace(v.vlob_id::text, '-', '') = ANY($1)`,
        [vlobIds],
      );
      expect(writers.rows[0]!.n).toBe(1);
      for (let i = 0; i < 100 && received.length < vlobIds.length; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(received.map((e) => [e.checkpoint, e.srcId, e.srcVersion])).toEqual(log.map(([checkpoint, id]) => [checkpoint, id, 2]));
    } finally {
      unsubscribe();
    }
  });

  it("two updates of one vlob at once: one is written, the other's check runs again on the new head", async () => {
    const { realmId, vlobId } = await realmWithVlob();
    const before = (await t.deps.vlobs.pollChanges(organizationId, realmId, 0)).checkpoint;
    const check = (facts: VlobUpdateFacts) => (facts.head.version === 1 ? null : "stale");
    const results = await Promise.all([1, 2].map(() => updateIfUnchanged()(organizationId, vlobId, bob.userId, check, writeOf(vlobId, 2))));
    expect(results).toContainEqual({ kind: "written" });
    expect(results).toContainEqual({ kind: "refused", outcome: "stale" });
    expect(await versionsOf(vlobId)).toEqual([1, 2]);
    expect((await t.deps.vlobs.pollChanges(organizationId, realmId, 0)).checkpoint).toBe(before + 1);
  });

  it("in one statement, a write whose grant changed while it waited is left out, the others are written", async () => {
    const { realmId, vlobId } = await realmWithVlob();
    const [ownVlob] = await moreVlobs(realmId, 1, alice);
    const before = (await t.deps.vlobs.pollChanges(organizationId, realmId, 0)).checkpoint;
    await other.query("BEGIN");
    await other.query(
      `UPDATE realm_member SET role = 'READER', granted_on = granted_on + 1
       WHERE user_id = $1 AND realm = (SELECT _id FROM realm WHERE realm_id = $2)`,
      [bob.userId, realmId],
    );
    const roles: (string | null | undefined)[] = [];
    const bobs = updateIfUnchanged()(
      organizationId,
      vlobId,
      bob.userId,
      (facts) => (roles.push(facts.realm.lastGrant?.role), facts.realm.lastGrant?.role === "READER" ? "not_allowed" : null),
      writeOf(vlobId, 2),
    );
    const alices = updateIfUnchanged()(organizationId, ownVlob!, alice.userId, () => null, {
      ...writeOf(ownVlob!, 2),
      atom: { blob: Buffer.from("alice's"), author: alice.deviceId, timestamp: t.clock.now() },
    });
    await someoneWaitsForALock();
    await other.query("COMMIT");
    expect(await bobs).toEqual({ kind: "refused", outcome: "not_allowed" });
    expect(await alices).toEqual({ kind: "written" });
    expect(roles).toEqual(["CONTRIBUTOR", "READER"]);
    expect(await versionsOf(vlobId)).toEqual([1]);
    expect(await logAfter(realmId, before)).toEqual([[before + 1, ownVlob]]);
  });

  it("answers contended, writing nothing, for a user without a grant row (the locked path decides)", async () => {
    const { realmId, vlobId } = await realmWithVlob();
    const before = await t.deps.vlobs.pollChanges(organizationId, realmId, 0);
    const carol = await addUser({ t, org }, alice, { userId: "carol" });
    expect(await updateIfUnchanged()(organizationId, vlobId, carol.userId, () => null, writeOf(vlobId, 2))).toEqual({ kind: "contended" });
    expect((await t.deps.vlobs.pollChanges(organizationId, realmId, 0)).checkpoint).toBe(before.checkpoint);
    expect(await versionsOf(vlobId)).toEqual([1]);
  });
});

describe("notifications split around a checkpoint", () => {
  const processId = "0123456789abcdef0123456789abcdef";
  const event = (organizationId: string, author = "alice@dev1"): VlobsUpdated => ({
    type: "realm.vlobs_updated",
    organizationId: organizationId as OrganizationID,
    author: author as VlobsUpdated["author"],
    realmId: "a".repeat(32) as RealmID,
    checkpoint: 0,
    srcId: "b".repeat(32) as VlobID,
    srcVersion: 7,
  });

  it("joined with a checkpoint, reads as the inline notification of the event with that checkpoint", () => {
    for (const checkpoint of [0, 1, 42, Number.MAX_SAFE_INTEGER - 1]) {
      const split = encodeInlineAroundCheckpoint(processId, 3, event("Org"))!;
      const text = `${split.before}${checkpoint}${split.after}`;
      expect(text).toBe(encodeInline(processId, 3, { ...event("Org"), checkpoint }));
      const decoded = decodeNotification(text);
      expect(decoded.ok && decoded.value.kind === "inline" && decoded.value.event).toEqual({ ...event("Org"), checkpoint });
    }
  });

  it("is not fooled by fields that spell the checkpoint member", () => {
    const tricky = event(`"checkpoint":${Number.MAX_SAFE_INTEGER}`, `x"checkpoint":${Number.MAX_SAFE_INTEGER}@d`);
    const split = encodeInlineAroundCheckpoint(processId, 0, tricky)!;
    // (Not a valid organization or device id: compared as text, since decoding checks the ids.)
    expect(`${split.before}5${split.after}`).toBe(encodeInline(processId, 0, { ...tricky, checkpoint: 5 }));
  });

  it("is null when the notification could exceed the inline limit", () => {
    const big = event("O".repeat(MAX_INLINE_NOTIFICATION_BYTES));
    expect(encodeInlineAroundCheckpoint(processId, 0, big)).toBeNull();
  });
});
