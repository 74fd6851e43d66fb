import { randomBytes, randomUUID } from "node:crypto";
import type { DatabasePool } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createParsecPool, createPostgresPersistence } from "../../../src/adapters/persistence/postgres/index.js";
import { InvitationToken, type UserID } from "../../../src/domain/ids.js";
import { DateTime } from "../../../src/domain/time.js";
import { seedOrganization, seedUser, uid } from "../../contract/fixtures.js";
import { adminQuery, createTestDatabase, dropTestDatabase } from "../../support/postgres.js";

/**
 * Claimer presence across server processes on PostgreSQL: presence rows belong to a process, count only while that
 * process heartbeats, and are deleted once it has been silent for a while — so a crashed process never leaves an
 * invitation READY forever, and a live one keeps it READY however long the claimer stays.
 */
describe("claimer presence of server processes (PostgreSQL)", () => {
  let database: { name: string; url: string };
  let pool: DatabasePool;
  const now = () => DateTime.fromEpochMilliseconds(Date.now());
  const started: { stop(): Promise<void> }[] = [];

  /** The adapters of one "server process" with short timings: heartbeat 0.2 s, alive 1 s after it, deleted after 2 s. */
  const processOn = async (processId = randomUUID()) => {
    const p = createPostgresPersistence(pool, { processId, now, livenessSeconds: 1, heartbeatSeconds: 0.2, expireSeconds: 2 });
    await p.processes.start();
    started.push(p.processes);
    return p;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = await createParsecPool(database.url, { minConnections: 1, maxConnections: 5 });
  });

  afterAll(async () => {
    for (const registry of started) await registry.stop().catch(() => undefined);
    await pool?.end();
    if (database) await dropTestDatabase(database.name);
  });

  /** An organization with greeter alice and one DEVICE invitation of hers. */
  const invitation = async (p: Awaited<ReturnType<typeof processOn>>) => {
    const org = await seedOrganization(p);
    await seedUser(p, org.id, "alice");
    const token = InvitationToken.parse(randomBytes(16).toString("hex"));
    if (!token.ok) throw new Error(token.error);
    await p.uow.run(org.id, (tx) =>
      p.invitations.createOrReuse(tx, org.id, {
        token: token.value,
        type: "DEVICE",
        greeterUserId: uid("alice") as UserID,
        greeterHumanHandle: null,
        claimerEmail: null,
        createdOn: now(),
        status: "IDLE",
        deleted: null,
      }),
    );
    const status = async () => (await p.invitations.get(org.id, token.value))?.status;
    const presence = (connection: string, present: boolean, on = p) => on.uow.run(org.id, (tx) => on.invitations.setClaimerPresence(tx, org.id, token.value, connection, present));
    return { org: org.id, token: token.value, status, presence };
  };

  it("stays READY while the claimer's process heartbeats, beyond the liveness window", async () => {
    const a = await processOn();
    const inv = await invitation(a);
    expect(await inv.presence("conn-1", true)).toBe("READY");
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect(await inv.status()).toBe("READY");
    expect(await inv.presence("conn-1", false)).toBe("IDLE");
  });

  it("counts every process's connections: READY until the last leaves, whichever process it is on", async () => {
    const a = await processOn();
    const b = await processOn();
    const inv = await invitation(a);
    expect(await inv.presence("conn-a", true, a)).toBe("READY");
    expect(await inv.presence("conn-b", true, b)).toBe("READY");
    // The same connection id on another process is another connection.
    expect(await inv.presence("conn-a", false, b)).toBe("READY");
    expect(await inv.presence("conn-a", false, a)).toBe("READY");
    expect(await inv.presence("conn-b", false, b)).toBe("IDLE");
  });

  it("no longer counts the presence of a process that stopped heartbeating (crash), and deletes it later", async () => {
    const a = await processOn();
    const inv = await invitation(a);
    // What a process killed with a claimer connected leaves behind: its row and its presence, and no heartbeat.
    const crashed = randomUUID();
    const c = createPostgresPersistence(pool, { processId: crashed, now, livenessSeconds: 1 });
    await adminQuery("INSERT INTO server_process (process_id) VALUES ($1)", [crashed], database.name);
    expect(await inv.presence("conn-dead", true, c)).toBe("READY");
    expect(await inv.status()).toBe("READY");
    await expect.poll(inv.status, { timeout: 3_000, interval: 200 }).toBe("IDLE");
    // Another process's heartbeat deletes the silent process (and its presence) once it has been silent long enough.
    await expect
      .poll(async () => (await adminQuery("SELECT count(*)::int AS n FROM server_process WHERE process_id = $1", [crashed], database.name)).rows[0].n, {
        timeout: 5_000,
        interval: 200,
      })
      .toBe(0);
    expect((await adminQuery("SELECT count(*)::int AS n FROM invitation_presence", [], database.name)).rows[0].n).toBe(0);
  });

  it("deregisters a process that stops cleanly, with its presence", async () => {
    const a = await processOn();
    const b = await processOn();
    const inv = await invitation(a);
    expect(await inv.presence("conn-b", true, b)).toBe("READY");
    await b.processes.stop();
    expect(await inv.status()).toBe("IDLE");
  });
});
