import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { admin } from "../support/client.js";
import { adminQuery, createTestDatabase, dropTestDatabase } from "../support/postgres.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { uniqueOrganizationId } from "./helpers.js";

/**
 * `--db` naming a Unix-domain socket directory the libpq way (`?host=/dir`): every connection of the server — the
 * start-up schema check, the pool and the LISTEN connection — goes through the socket, none through TCP.
 */
describe("a server on PostgreSQL's Unix-domain socket", () => {
  let database: { name: string; url: string };
  let server: ServerProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url);
    url.searchParams.set("host", inject("postgres").socketDir);
    server = await startServerProcess({ db: url.toString() });
  }, 60_000);

  afterAll(async () => {
    const code = await server?.stop();
    if (database) await dropTestDatabase(database.name);
    expect(code).toBe(0);
  });

  it("stores through the socket, and has no TCP connection to the database", async () => {
    const organizationId = uniqueOrganizationId("Socket");
    await admin(server.url, server.administrationToken).bootstrapToken(organizationId);
    const stored = await adminQuery("SELECT organization_id FROM organization", [], database.name);
    expect(stored.rows).toEqual([{ organization_id: organizationId }]);

    const activity = await adminQuery(
      "SELECT application_name, client_addr IS NULL AS over_socket FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [database.name],
    );
    const rows = activity.rows as { application_name: string; over_socket: boolean }[];
    expect(rows.some((r) => r.application_name.startsWith("parsec-listen-"))).toBe(true);
    expect(rows.some((r) => !r.application_name.startsWith("parsec-listen-"))).toBe(true);
    expect(rows.filter((r) => !r.over_socket)).toEqual([]);
  });
});
