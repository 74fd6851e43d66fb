import { randomBytes } from "node:crypto";
import pg from "pg";
import type { DatabasePool, QuerySqlToken } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresBlockStore } from "../../../src/adapters/blockstore/postgres/index.js";
import { createParsecPool, PgBlockRepository, PgUnitOfWork, PgVlobRepository } from "../../../src/adapters/persistence/postgres/index.js";
import { BlockID, RealmID, VlobID, type OrganizationID, type UserID } from "../../../src/domain/ids.js";
import { bootstrapMaterial, login, orgId, type Member } from "../../support/app.js";
import { realmRoleCertificate } from "../../support/certificates.js";
import { databaseUrl } from "../../support/postgres.js";
import { buildPostgresTestApp, type PostgresTestApp } from "../../support/postgres-app.js";
import { addUser, parsed } from "../../support/world.js";

/** A node of `EXPLAIN (ANALYZE, FORMAT JSON)`. */
interface PlanNode {
  readonly "Node Type": string;
  readonly "Relation Name"?: string;
  readonly "Index Cond"?: string;
  readonly "Actual Rows": number;
  readonly Plans?: readonly PlanNode[];
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/**
 * The batched hot reads (`block_read`'s and `vlob_read`'s lookups, `vlob_update`'s check) find each row by its whole
 * key, whatever PostgreSQL knows of the tables: here thousands of blocks and vlobs in one organization and hundreds of
 * members in one realm, never analyzed (as in the first minutes of a new deployment), where a lookup planned on the
 * first key column only reads every block of the organization. Each query the repositories send is recorded and
 * explained, with its values, on the same database.
 */
describe("PostgreSQL batched lookups: each row found by its whole key", () => {
  let t: PostgresTestApp;
  let alice: Member;
  let bob: Member;
  let organizationId: OrganizationID;
  let realmId: RealmID;
  let pool: DatabasePool;
  let client: pg.Client;
  const recorded: QuerySqlToken[] = [];
  const blockIds: BlockID[] = [];
  const vlobIds: VlobID[] = [];

  beforeAll(async () => {
    t = await buildPostgresTestApp({ random: "real" });
    const created = await t.app.createOrganization({ organizationId: orgId("Lookups") });
    if (created.kind !== "ok") throw new Error(created.kind);
    const material = bootstrapMaterial(t.clock.now());
    organizationId = orgId("Lookups");
    const booted = await t.app.bootstrapOrganization({ organizationId, bootstrapToken: created.bootstrapToken, ...material.request });
    if (booted.kind !== "ok") throw new Error(booted.kind);
    const org = { ...material, organizationId, bootstrapToken: created.bootstrapToken };
    alice = await login(t, org, org.deviceId, org.deviceKey);
    bob = await addUser({ t, org }, alice, { userId: "bob" });
    realmId = parsed(RealmID.parse(randomBytes(16).toString("hex")));
    const role = (userId: UserID, r: "OWNER" | "READER") =>
      realmRoleCertificate(alice.key.signingKey, { author: alice.deviceId, timestamp: t.clock.now(), realmId, userId, role: r });
    expect(await t.app.createRealm(alice.session, role(alice.userId, "OWNER"))).toEqual({ kind: "ok" });
    t.clock.advance(0.001);
    expect(await t.app.updateRealmRoles(alice.session, { roleCertificate: role(bob.userId, "READER"), recipientMessage: null })).toEqual({ kind: "ok" });
    t.clock.advance(0.001);

    client = new pg.Client({ connectionString: databaseUrl(t.database.name) });
    await client.connect();
    // Thousands of blocks and vlobs, hundreds of members, and no statistics about any of them.
    for (const table of ["block", "block_data", "vlob", "vlob_atom", "realm_member"]) {
      await client.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    }
    const keys = await client.query<{ org: string; realm: string }>("SELECT organization AS org, _id AS realm FROM realm WHERE realm_id = $1", [realmId]);
    const { org: orgKey, realm: realmKey } = keys.rows[0]!;
    await client.query(
      `INSERT INTO block (organization, block_id, realm, author, size, created_on)
       SELECT $1, gen_random_uuid(), $2, 'alice@dev1', 4096, 0 FROM generate_series(1, 5000)`,
      [orgKey, realmKey],
    );
    await client.query(
      `INSERT INTO block_data (organization_id, block_id, data) SELECT $1, block_id, '\\x01' FROM block WHERE realm = $2`,
      [organizationId, realmKey],
    );
    await client.query(
      `INSERT INTO vlob (organization, realm, vlob_id, encryption_revision, head_version, head_timestamp)
       SELECT $1, $2, gen_random_uuid(), 1, 1, 0 FROM generate_series(1, 5000)`,
      [orgKey, realmKey],
    );
    await client.query(
      `INSERT INTO vlob_atom (vlob, realm, version, blob, size, author, author_user_id, timestamp)
       SELECT _id, realm, 1, '\\x00', 1, 'alice@dev1', 'alice', 0 FROM vlob WHERE realm = $1`,
      [realmKey],
    );
    await client.query(
      `INSERT INTO realm_member (realm, user_id, organization, role, granted_on)
       SELECT $2, 'member' || i, $1, 'READER', 0 FROM generate_series(1, 500) AS i`,
      [orgKey, realmKey],
    );
    const ids = await client.query<{ block_id: string }>("SELECT replace(block_id::text, '-', '') AS block_id FROM block ORDER BY _id DESC LIMIT 16");
    blockIds.push(...ids.rows.map((r) => parsed(BlockID.parse(r.block_id))));
    const vids = await client.query<{ vlob_id: string }>("SELECT replace(vlob_id::text, '-', '') AS vlob_id FROM vlob ORDER BY _id DESC LIMIT 16");
    vlobIds.push(...vids.rows.map((r) => parsed(VlobID.parse(r.vlob_id))));

    pool = await createParsecPool(t.database.url, { minConnections: 0, maxConnections: 2 });
  }, 60_000);

  afterAll(async () => {
    await client?.end();
    await pool?.end();
    await t?.close();
  });

  /** `target` (the pool, or one of its connections) recording every query it is given, and its connections doing the same. */
  const recording = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const token = args[0] as Partial<QuerySqlToken> | undefined;
          if (token && typeof token.sql === "string") recorded.push(token as QuerySqlToken);
          if (property === "connect" && typeof args[0] === "function") {
            const work = args[0] as (connection: object) => unknown;
            args[0] = (connection: object) => work(recording(connection));
          }
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      },
    });

  /** A unit of work whose pool records every query it is given. */
  const recordingUow = (): PgUnitOfWork => new PgUnitOfWork(recording(pool));

  /** The plan nodes, as executed, of the last recorded query that reads `table`. */
  const explainLast = async (table: string): Promise<PlanNode[]> => {
    const token = [...recorded].reverse().find((q) => q.sql.includes(`FROM ${table} `));
    if (!token) throw new Error(`no recorded query reads ${table}`);
    // slonik numbers its placeholders `$slonik_N`, and rewrites them `$N` when it sends the query.
    const text = token.sql.replace(/\$slonik_(\d+)/g, "$$$1");
    const { rows } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, token.values as unknown[]);
    return nodesOf(rows[0]!["QUERY PLAN"][0].Plan);
  };

  /** Every scan of `table` is an index scan on both `columns`, finding at most one row per lookup. */
  const expectKeyLookups = (nodes: PlanNode[], table: string, columns: readonly string[]) => {
    const scans = nodes.filter((n) => n["Relation Name"] === table);
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) {
      expect(`${table}: ${scan["Node Type"]}`).toMatch(/: Index (Only )?Scan$/);
      for (const column of columns) expect(scan["Index Cond"]).toContain(column);
      expect(scan["Actual Rows"]).toBeLessThanOrEqual(1);
    }
  };

  it("block_read: the block by organization and id, the reader's grant by realm and user, with and without payloads", async () => {
    for (const payloads of [false, true]) {
      const blocks = new PgBlockRepository(recordingUow(), { payloads });
      const found = await Promise.all(blockIds.map((id) => blocks.getForRead(organizationId, id, bob.userId)));
      expect(found.every((f) => f !== null && f.realm.lastGrant?.role === "READER")).toBe(true);
      expect(found.every((f) => (payloads ? f?.payload?.equals(Buffer.from([1])) : f !== null && !("payload" in f)))).toBe(true);
      const nodes = await explainLast("block");
      expectKeyLookups(nodes, "block", ["organization", "block_id"]);
      expectKeyLookups(nodes, "realm_member", ["realm", "user_id"]);
      if (payloads) expectKeyLookups(nodes, "block_data", ["organization_id", "block_id"]);
    }
    // The block store's own reads (the repository without payloads leaves them to it).
    const store = new PostgresBlockStore(recording(pool));
    const payloads = await Promise.all(blockIds.map((id) => store.read(organizationId, id)));
    expect(payloads.every((p) => p?.equals(Buffer.from([1])))).toBe(true);
    expectKeyLookups(await explainLast("block_data"), "block_data", ["organization_id", "block_id"]);
  });

  it("vlob_read and vlob_update's check: the vlob by organization and id, the grants by realm and user", async () => {
    // Notifications that are never needed: every check below refuses, so nothing is written.
    const unused = { notificationAroundCheckpoint: () => null };
    const vlobs = new PgVlobRepository(recordingUow(), unused);
    const read = await Promise.all(vlobIds.map((id) => vlobs.read(organizationId, id, { kind: "latest" }, bob.userId)));
    expect(read.every((r) => r !== null && r.selected?.version === 1 && r.realm.lastGrant?.role === "READER")).toBe(true);
    let nodes = await explainLast("vlob");
    expectKeyLookups(nodes, "vlob", ["organization", "vlob_id"]);
    expectKeyLookups(nodes, "realm_member", ["realm", "user_id"]);

    const update = vlobs.updateIfUnchanged;
    if (!update) throw new Error("the PostgreSQL vlob repository offers no updateIfUnchanged");
    const write = { version: 2, atom: { blob: Buffer.from("x"), author: bob.deviceId, timestamp: t.clock.now() }, event: () => { throw new Error("no write expected"); } };
    const seen = await Promise.all(vlobIds.map((id) => update(organizationId, id, bob.userId, (facts) => ({ head: facts.head.version, role: facts.realm.lastGrant?.role }), write)));
    expect(seen.every((s) => s.kind === "refused" && s.outcome.head === 1 && s.outcome.role === "READER")).toBe(true);
    nodes = await explainLast("vlob");
    expectKeyLookups(nodes, "vlob", ["organization", "vlob_id"]);
    expectKeyLookups(nodes, "realm_member", ["realm", "user_id"]);
  });
});
