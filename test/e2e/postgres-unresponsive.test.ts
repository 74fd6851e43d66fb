import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations, connectDatabase } from "../../src/adapters/persistence/postgres/index.js";
import { startBackend } from "../../src/bootstrap/compose.js";
import { LocalPostgres } from "../../scripts/local-postgres.js";
import { admin, ConnectionClosedError, connectAuthenticated, expectSession } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { startServerProcess } from "../support/server-process.js";
import { defaultTestSettings, type TestServer } from "../support/server.js";
import { aliceOptions, createBootstrappedOrganization, within } from "./helpers.js";
import { newId, wire } from "./realms-data-helpers.js";

/**
 * PostgreSQL that stops answering without closing anything — every process of the cluster SIGSTOPped, as a frozen
 * host or a silent network would look: the statement timeout, which PostgreSQL enforces, cannot fire. Commands fail
 * within the client-side query timeout (HTTP 503, WebSocket closed with 1013), SIGTERM still stops a server process
 * (each shutdown step is bounded), and once PostgreSQL answers again the same server serves again.
 */
describe.skipIf(!fixtures)("PostgreSQL not answering (its processes stopped)", () => {
  const f = fixtures!;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  /** Bounds of the in-process server: a query given up after 1.5 s, a new connection after 1 s. */
  const QUERY_TIMEOUT_MS = 1_500;
  const CONNECTION_TIMEOUT_MS = 1_000;
  /** Worst case of one command: a query timeout, or two connection attempts, plus slack. */
  const COMMAND_BOUND_MS = QUERY_TIMEOUT_MS + 2 * CONNECTION_TIMEOUT_MS + 2_000;

  /** SIGSTOPs the postmaster (so that it forks no more), then each of its children; returns a SIGCONT of them all. */
  const freeze = (cluster: LocalPostgres): (() => void) => {
    const postmaster = Number(readFileSync(join(cluster.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    process.kill(postmaster, "SIGSTOP");
    let children: number[] = [];
    try {
      children = execFileSync("pgrep", ["-P", String(postmaster)], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
    } catch {
      // pgrep exits 1 when there is no child.
    }
    for (const pid of children) process.kill(pid, "SIGSTOP");
    let thawed = false;
    return () => {
      if (thawed) return;
      thawed = true;
      for (const pid of [postmaster, ...children]) {
        try {
          process.kill(pid, "SIGCONT");
        } catch {
          // gone
        }
      }
    };
  };

  it("commands fail within the query timeout, SIGTERM exits, and the server serves again once PostgreSQL answers", async () => {
    const cluster = await LocalPostgres.open({ unsafeFast: true });
    cleanups.push(() => cluster.destroy());
    const url = await cluster.createDatabase("parsec");
    const client = await connectDatabase(url);
    expect((await applyMigrations(client)).kind).toBe("ok");
    await client.end();

    const logged: Record<string, unknown>[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
    const backend = await startBackend(
      { ...defaultTestSettings, db: { type: "POSTGRESQL", url, minConnections: 1, maxConnections: 5 }, blockstore: { type: "POSTGRESQL" } },
      { logger, postgres: { queryTimeoutMs: QUERY_TIMEOUT_MS, connectionTimeoutMs: CONNECTION_TIMEOUT_MS, closeStepTimeoutMs: 1_000 } },
    );
    let stopped = false;
    cleanups.push(() => (stopped ? Promise.resolve() : backend.stop()));
    const authority = `127.0.0.1:${backend.port}`;
    const server = { url: `http://${authority}`, wsUrl: `ws://${authority}/ws`, administrationToken: defaultTestSettings.administrationToken } as TestServer;
    const organizationId = await createBootstrappedOrganization(server, f, f.organization.id);
    const administration = admin(server.url, server.administrationToken);
    const session = expectSession(await within(5_000, connectAuthenticated(aliceOptions(server, f, organizationId)), "handshake"));
    cleanups.push(() => within(2_000, session.close(), "close"));
    const vlobRead = { encryption_revision: 1, vlob_id: wire(newId()), version: null, timestamp: null };
    expect(await within(5_000, session.send("vlob_read", vlobRead), "vlob_read")).toMatchObject({ status: "not_found" });

    // A server process with the default bounds (35 s per query), to stop with SIGTERM while PostgreSQL is frozen.
    const proc = await startServerProcess({ db: url });
    cleanups.push(() => proc.stop());

    const thaw = freeze(cluster);
    cleanups.push(async () => thaw());
    try {
      const sigterm = Date.now();
      proc.child.kill("SIGTERM");
      const exited = proc.exited.then((code) => ({ code, afterMs: Date.now() - sigterm }));

      let started = Date.now();
      const organization = await within(COMMAND_BOUND_MS + 5_000, administration.getOrganization(organizationId), "GET organization");
      expect(organization).toMatchObject({ status: 503, body: { error: "storage_unavailable" } });
      expect(Date.now() - started).toBeLessThan(COMMAND_BOUND_MS);

      started = Date.now();
      const failed = await within(COMMAND_BOUND_MS + 5_000, session.send("vlob_read", vlobRead), "vlob_read").then(
        (reply) => reply,
        (err: unknown) => err,
      );
      expect(failed).toBeInstanceOf(ConnectionClosedError);
      expect((await session.closed).code).toBe(1013);
      expect(Date.now() - started).toBeLessThan(COMMAND_BOUND_MS);

      // Shutdown: LISTEN close (2 s), process deregistration and pool close (5 s each at most), then exit.
      const exit = await within(25_000, exited, "exit after SIGTERM");
      expect(exit.code).toBe(0);
      expect(proc.logs.some((r) => /given up/.test(String(r["msg"])))).toBe(true);
    } finally {
      thaw();
    }

    // The same in-process server serves again (new connections; the timed-out ones were destroyed).
    const deadline = Date.now() + 20_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await administration.getOrganization(organizationId)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status).toBe(200);
    const again = expectSession(await within(5_000, connectAuthenticated(aliceOptions(server, f, organizationId)), "handshake after thaw"));
    cleanups.push(() => within(2_000, again.close(), "close"));
    expect(await within(5_000, again.send("vlob_read", vlobRead), "vlob_read after thaw")).toMatchObject({ status: "not_found" });
    stopped = true;
    await within(10_000, backend.stop(), "in-process server stop");
  }, 90_000);
});
