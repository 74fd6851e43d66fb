import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VlobUpdateFacts, VlobUpdateWrite } from "../../../src/application/ports/index.js";
import { RealmID, VlobID, type OrganizationID } from "../../../src/domain/ids.js";
import { checkNewVersion } from "../../../src/domain/vlob/index.js";
import { bootstrapMaterial, login, orgId, type Member } from "../../support/app.js";
import { realmRoleCertificate } from "../../support/certificates.js";
import { databaseUrl } from "../../support/postgres.js";
import { buildPostgresTestApp, type PostgresTestApp } from "../../support/postgres-app.js";
import { addUser, parsed } from "../../support/world.js";

/**
 * The batched one-statement `vlob_update` (`PgVlobRepository.writes` / `writeRound`): a failing statement fails only
 * its own writes, each vlob is found by its whole key, and under concurrent writers on both paths every version is
 * written once with consecutive, announced checkpoints.
 */
describe("PostgreSQL vlob_update batches", () => {
  let t: PostgresTestApp;
  let alice: Member;
  let bob: Member;
  let organizationId: OrganizationID;
  let other: pg.Client;

  const newVlobId = () => parsed(VlobID.parse(randomBytes(16).toString("hex")));

  beforeAll(async () => {
    t = await buildPostgresTestApp({ random: "real" });
    const created = await t.app.createOrganization({ organizationId: orgId("BatchedWrites") });
    if (created.kind !== "ok") throw new Error(created.kind);
    const material = bootstrapMaterial(t.clock.now());
    organizationId = orgId("BatchedWrites");
    const booted = await t.app.bootstrapOrganization({ organizationId, bootstrapToken: created.bootstrapToken, ...material.request });
    if (booted.kind !== "ok") throw new Error(booted.kind);
    const org = { ...material, organizationId, bootstrapToken: created.bootstrapToken };
    alice = await login(t, org, org.deviceId, org.deviceKey);
    bob = await addUser({ t, org }, alice, { userId: "bob" });
    other = new pg.Client({ connectionString: databaseUrl(t.database.name) });
    await other.connect();
  }, 60_000);

  afterAll(async () => {
    await other?.end();
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
    const role = (userId: Member["userId"], r: "OWNER" | "CONTRIBUTOR") =>
      realmRoleCertificate(alice.key.signingKey, { author: alice.deviceId, timestamp: t.clock.now(), realmId, userId, role: r });
    expect(await t.app.createRealm(alice.session, role(alice.userId, "OWNER"))).toEqual({ kind: "ok" });
    t.clock.advance(0.001);
    expect(await t.app.updateRealmRoles(alice.session, { roleCertificate: role(bob.userId, "CONTRIBUTOR"), recipientMessage: null })).toEqual({ kind: "ok" });
    t.clock.advance(0.001);
    const vlobId = newVlobId();
    expect(await t.app.createVlob(bob.session, { realmId, vlobId, encryptionRevision: 1, timestamp: t.clock.now(), blob: randomBytes(16), sequesterBlob: null })).toEqual({
      kind: "ok",
    });
    t.clock.advance(0.001);
    return { realmId, vlobId };
  };

  const writeOf = (vlobId: VlobID, version: number, blob: Buffer): VlobUpdateWrite => ({
    version,
    atom: { blob, author: bob.deviceId, timestamp: t.clock.now() },
    event: (realmId, checkpoint) => ({ type: "realm.vlobs_updated", organizationId, author: bob.deviceId, realmId, checkpoint, srcId: vlobId, srcVersion: version }),
  });

  /** The use case's version rule (`bad_version` unless the write is the head plus one). */
  const versionCheck = (version: number) => (facts: VlobUpdateFacts) => {
    const next = checkNewVersion(facts.head, version, t.clock.now());
    return next.kind === "ok" ? null : next.kind;
  };

  const versionsOf = async (vlobId: VlobID) => {
    const listed = await t.app.listVlobVersions(bob.session, vlobId);
    return listed.kind === "ok" ? [...listed.versions.keys()] : listed.kind;
  };

  it("a failing statement for realm B does not turn realm A's committed write (same batch) into a refusal", async () => {
    const a = await realmWithVlob();
    const b = await realmWithVlob();
    const poison = Buffer.from("injected: poison");
    // Stands for any error of realm B's statement (statement timeout, connection loss, a data error of one write):
    // it fails after realm A's statement of the same batch has committed.
    await other.query(`
      CREATE OR REPLACE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.blob = '\\x${poison.toString("hex")}'::bytea THEN
          PERFORM pg_sleep(0.5);
          RAISE EXCEPTION 'injected failure of realm B''s statement' USING ERRCODE = '57014';
        END IF;
        RETURN NEW;
      END $$`);
    await other.query("CREATE TRIGGER injected_failure BEFORE INSERT ON vlob_atom FOR EACH ROW EXECUTE FUNCTION injected_failure()");
    try {
      // Same turn of the event loop: one facts batch, then one writes batch holding both (two realms, two statements).
      const [resultA, resultB] = await Promise.allSettled([
        updateIfUnchanged()(organizationId, a.vlobId, bob.userId, versionCheck(2), writeOf(a.vlobId, 2, Buffer.from("A's version 2"))),
        updateIfUnchanged()(organizationId, b.vlobId, bob.userId, versionCheck(2), writeOf(b.vlobId, 2, poison)),
      ]);
      // B's own failure reaches B.
      expect(resultB.status).toBe("rejected");
      // A's version 2 is committed, by A's call...
      expect(await versionsOf(a.vlobId)).toEqual([1, 2]);
      expect((await t.deps.vlobs.read(organizationId, a.vlobId, { kind: "latest" }, bob.userId))?.selected?.blob).toEqual(Buffer.from("A's version 2"));
      // ...so A's caller must be told it was written (a client told `bad_version` believes its change was not saved).
      expect(resultA).toEqual({ status: "fulfilled", value: { kind: "written" } });
    } finally {
      await other.query("DROP TRIGGER injected_failure ON vlob_atom");
    }
  });

  it("the batched write statement finds each vlob by its whole key, not by scanning the realm's vlobs", async () => {
    const { realmId, vlobId } = await realmWithVlob();
    // A realm of 30,000 vlobs (written directly: the point is the statement's plan, not how they came).
    await other.query(
      `INSERT INTO vlob (organization, realm, vlob_id, encryption_revision, head_version, head_timestamp)
       SELECT r.organization, r._id, gen_random_uuid(), 1, 1, 0 FROM realm r, generate_series(1, 30000) WHERE r.realm_id = $1`,
      [realmId],
    );
    // The statements the repository sends on the pool, to EXPLAIN the batched write itself.
    const uow = t.deps.uow as unknown as { connectionOf(tx: unknown): object };
    const connectionOf = uow.connectionOf.bind(uow);
    const captured: { sql: string; values: readonly unknown[] }[] = [];
    uow.connectionOf = (tx: unknown) => {
      const connection = connectionOf(tx) as Record<string, unknown>;
      if (tx) return connection;
      return new Proxy(connection, {
        get: (target, key) => {
          const value = target[key as string];
          if (typeof value !== "function") return value;
          return (token: { sql: string; values: readonly unknown[] }, ...rest: unknown[]) => {
            if (typeof token?.sql === "string" && token.sql.includes("INSERT INTO vlob_atom") && token.sql.includes("pg_notify")) captured.push(token);
            return (value as (...args: unknown[]) => unknown).call(target, token, ...rest);
          };
        },
      });
    };
    try {
      expect(await updateIfUnchanged()(organizationId, vlobId, bob.userId, versionCheck(2), writeOf(vlobId, 2, Buffer.from("v2")))).toEqual({ kind: "written" });
    } finally {
      uow.connectionOf = connectionOf;
    }
    expect(captured).toHaveLength(1);
    // slonik's placeholders, as its driver sends them.
    const statement = { sql: captured[0]!.sql.replace(/\$slonik_(\d+)/gu, "$$$1"), values: captured[0]!.values };
    const seen: { analyzed: boolean; blocks: number[] }[] = [];
    for (const analyzed of [false, true]) {
      if (analyzed) await other.query("ANALYZE");
      await other.query("BEGIN");
      try {
        const { rows } = await other.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement.sql}`, [...statement.values]);
        type Node = { "Node Type": string; "Relation Name"?: string; "Shared Hit Blocks": number; "Shared Read Blocks": number; Plans?: Node[] };
        const nodes: Node[] = [];
        const walk = (n: Node) => (nodes.push(n), n.Plans?.forEach(walk));
        walk((rows[0] as { "QUERY PLAN": { Plan: Node }[] })["QUERY PLAN"][0]!.Plan);
        const vlobScans = nodes.filter((n) => n["Relation Name"] === "vlob" && n["Node Type"] !== "ModifyTable");
        const blocks = vlobScans.map((n) => n["Shared Hit Blocks"] + n["Shared Read Blocks"]);
        seen.push({ analyzed, blocks });
      } finally {
        await other.query("ROLLBACK");
      }
    }
    // One vlob found by (organization, vlob_id) is a handful of pages, as in the single-write statement it replaced.
    expect(seen).toEqual(seen.map(({ analyzed, blocks }) => ({ analyzed, blocks: blocks.map((b) => Math.min(b, 20)) })));
  }, 60_000);
  it("stress: concurrent updates of one realm's vlobs, on both paths — one version each, consecutive checkpoints, each announced once with its own", async () => {
    const { realmId, vlobId } = await realmWithVlob();
    const vlobIds = [vlobId];
    for (let k = 0; k < 7; k++) {
      const id = newVlobId();
      expect(await t.app.createVlob(bob.session, { realmId, vlobId: id, encryptionRevision: 1, timestamp: t.clock.now(), blob: randomBytes(8), sequesterBlob: null })).toEqual({ kind: "ok" });
      vlobIds.push(id);
    }
    t.clock.advance(0.001);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const start = (await t.deps.vlobs.pollChanges(organizationId, realmId, 0)).checkpoint;
    const received: { checkpoint: number; srcId: string; srcVersion: number }[] = [];
    const unsubscribe = t.deps.events.subscribe(organizationId, {
      event: (e) => void (e.type === "realm.vlobs_updated" && e.realmId === realmId && received.push({ checkpoint: e.checkpoint, srcId: e.srcId, srcVersion: e.srcVersion })),
    });
    const heads = new Map(vlobIds.map((id) => [id, 1]));
    try {
      for (let round = 0; round < 40; round++) {
        t.clock.advance(0.001);
        const attempts = vlobIds.flatMap((id) => {
          const next = heads.get(id)! + 1;
          const input = { vlobId: id, version: next, encryptionRevision: 1, timestamp: t.clock.now(), blob: randomBytes(16), sequesterBlob: null };
          const locked = () => t.deps.uow.run(organizationId, async (tx): Promise<string> => {
            const found = await t.deps.vlobs.getForUpdate(tx, organizationId, id, bob.userId);
            if (!found || found.head.version + 1 !== next) return "bad_version";
            const checkpoint = await t.deps.vlobs.append(tx, organizationId, realmId, id, next, { blob: input.blob, author: bob.deviceId, timestamp: input.timestamp });
            await t.deps.events.publish(tx, { type: "realm.vlobs_updated", organizationId, author: bob.deviceId, realmId, checkpoint, srcId: id, srcVersion: next });
            return "ok";
          });
          return [
            t.app.updateVlob(bob.session, input).then((o) => o.kind),
            t.app.updateVlob(alice.session, input).then((o) => o.kind),
            ...(round % 3 === 0 ? [locked()] : []),
          ].map((p) => p.then((kind) => [id, kind] as const));
        });
        const outcomes = await Promise.all(attempts);
        for (const id of vlobIds) {
          const kinds = outcomes.filter(([v]) => v === id).map(([, k]) => k).sort();
          expect({ round, oks: kinds.filter((k) => k === "ok").length, kinds }).toEqual({ round, oks: 1, kinds });
          expect(kinds.every((k) => k === "ok" || k === "bad_version")).toBe(true);
          heads.set(id, heads.get(id)! + 1);
        }
      }
      for (const id of vlobIds) expect(await versionsOf(id)).toEqual(Array.from({ length: heads.get(id)! }, (_, i) => i + 1));
      const end = (await t.deps.vlobs.pollChanges(organizationId, realmId, 0)).checkpoint;
      expect(end - start).toBe(40 * vlobIds.length);
      const log = await other.query<{ index: string; vlob_id: string; version: string }>(
        `SELECT u.index::text, replace(v.vlob_id::text, '-', '') AS vlob_id, u.version::text FROM realm_vlob_update u JOIN vlob v ON v._id = u.vlob
         WHERE u.realm = (SELECT _id FROM realm WHERE realm_id = $1) AND u.index > $2 ORDER BY u.index`,
        [realmId, start],
      );
      const rows = log.rows.map((r) => ({ checkpoint: Number(r.index), srcId: r.vlob_id, srcVersion: Number(r.version) }));
      expect(rows.map((r) => r.checkpoint)).toEqual(Array.from({ length: end - start }, (_, i) => start + 1 + i));
      for (let i = 0; i < 200 && received.length < rows.length; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(received).toEqual(rows);
    } finally {
      unsubscribe();
    }
  }, 120_000);
});
