import { execFileSync } from "node:child_process";
import { sql, type DatabasePool } from "slonik";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { isStorageUnavailable, StorageUnavailableError } from "../../../src/application/ports/index.js";
import type { OrganizationID } from "../../../src/domain/ids.js";
import { createParsecPool, PgUnitOfWork, type PgTx } from "../../../src/adapters/persistence/postgres/index.js";
import { QueryTimeoutError } from "../../../src/adapters/persistence/postgres/errors.js";
import { createTestDatabase, dropTestDatabase } from "../../support/postgres.js";

/**
 * The pool's client-side bounds: a query PostgreSQL does not answer in time fails as an outage and its connection is
 * destroyed (its answer may still come: it is never read as another query's), and pool connections have TCP
 * keepalive. A sleeping statement stands for a server that does not answer (the statement timeout, which PostgreSQL
 * enforces, is left at its 30 s so that only the client's bound can end it).
 */
describe("PostgreSQL pool: query timeout and keepalive", () => {
  let database: { name: string; url: string };
  let pool: DatabasePool;
  let uow: PgUnitOfWork;
  const organizationId = "PoolOrg" as OrganizationID;
  const backendPid = sql.type(z.object({ pid: z.number() }))`SELECT pg_backend_pid() AS pid`;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = await createParsecPool(database.url, { minConnections: 0, maxConnections: 1, queryTimeoutMs: 500 });
    uow = new PgUnitOfWork(pool);
  });

  afterAll(async () => {
    await pool?.end();
    if (database) await dropTestDatabase(database.name);
  });

  const causes = (err: unknown): unknown[] => {
    const chain: unknown[] = [];
    for (let e: unknown = err; e && chain.length < 6; e = (e as { cause?: unknown }).cause) chain.push(e);
    return chain;
  };

  it("fails an unanswered query with StorageUnavailableError within the query timeout, and does not reuse its connection", async () => {
    const before = await uow.connectionOf(null).oneFirst(backendPid);

    for (const run of [
      () => uow.run(organizationId, (tx) => (tx as PgTx).connection.query(sql.unsafe`SELECT pg_sleep(5)`)),
      () => uow.connectionOf(null).query(sql.unsafe`SELECT pg_sleep(5)`),
    ]) {
      const started = Date.now();
      const failure = await run().then(
        () => null,
        (err: unknown) => err,
      );
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(failure).toBeInstanceOf(StorageUnavailableError);
      expect(isStorageUnavailable(failure)).toBe(true);
      expect(causes(failure).some((e) => e instanceof QueryTimeoutError)).toBe(true);
    }

    // One connection at most: a reused one would still be busy sleeping (or answer with the sleep's row).
    const after = await uow.connectionOf(null).oneFirst(backendPid);
    expect(after).not.toBe(before);
    expect(await uow.run(organizationId, (tx) => (tx as PgTx).connection.oneFirst(backendPid))).toBe(after);
  });

  it.skipIf(process.platform !== "linux")("turns TCP keepalive on for pool connections", async () => {
    const port = await uow.connectionOf(null).oneFirst(sql.type(z.object({ port: z.number() }))`SELECT inet_client_port() AS port`);
    // ss -o shows `timer:(keepalive,…)` for an established socket with SO_KEEPALIVE.
    const sockets = execFileSync("ss", ["-tno", "state", "established", `( sport = :${port} )`], { encoding: "utf8" });
    expect(sockets).toContain(`:${port}`);
    expect(sockets).toMatch(/timer:\(keepalive,/);
  });
});
