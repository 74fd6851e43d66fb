import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations, connectDatabase } from "../../src/adapters/persistence/postgres/index.js";
import { LocalPostgres } from "../../scripts/local-postgres.js";
import { ConnectionClosedError, connectAuthenticated, expectSession, type ParsecSession } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { adminQuery, createTestDatabase, dropTestDatabase } from "../support/postgres.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { aliceOptions, createBootstrappedOrganization, within } from "./helpers.js";
import { bounded, entriesOf, eventOf, newId, roleCertificate, rpc, tick, userCreateOf, wire } from "./realms-data-helpers.js";

/**
 * PostgreSQL going wrong under a running server: its LISTEN connection killed while a client waits for events, and
 * the whole database stopped (crash-like) and restarted during a stream of writes. Clients get replies or closed
 * connections, never a hang; nothing acknowledged is lost; the server recovers without a restart.
 */
describe.skipIf(!fixtures)("PostgreSQL faults under a running server", () => {
  const f = fixtures!;
  const aliceSigner = { deviceId: f.alice.deviceId, signingKey: f.alice.signingKey };
  const cleanups: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  const serverOn = async (url: string): Promise<TestServer> => {
    const server = await startTestServer({
      db: { type: "POSTGRESQL", url, minConnections: 1, maxConnections: 5 },
      blockstore: { type: "POSTGRESQL" },
    });
    cleanups.push(() => server.stop());
    return server;
  };

  const connect = async (server: TestServer, organizationId: string, who: "alice" | "bob"): Promise<ParsecSession<"authenticated">> => {
    const device = f[who];
    const session = expectSession(
      await bounded(connectAuthenticated(aliceOptions(server, f, organizationId, { deviceId: device.deviceId, signingKey: device.signingKey })), "handshake"),
    );
    cleanups.push(() => within(2_000, session.close(), "close"));
    return session;
  };

  it("killing the LISTEN connection ends a waiting events_listen (connection closed), and events flow again after", async () => {
    const database = await createTestDatabase();
    cleanups.push(() => dropTestDatabase(database.name));
    const server = await serverOn(database.url);
    const organizationId = await createBootstrappedOrganization(server, f, f.organization.id);
    const alice = await connect(server, organizationId, "alice");
    expect(await rpc(alice, "user_create", userCreateOf(aliceSigner, f.bob, "STANDARD", tick()))).toEqual({ status: "ok" });
    const bob = await connect(server, organizationId, "bob");
    expect(await rpc(bob, "events_subscribe")).toEqual({ status: "ok" });
    const waiting = bob.send("events_listen", { wait: true });
    waiting.catch(() => undefined);

    const killed = await adminQuery(
      "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'parsec-listen-%'",
      [database.name],
    );
    expect(killed.rows).toEqual([{ killed: true }]);

    // Events may have been lost meanwhile: bob's subscription cannot be trusted, so his connection is closed.
    await expect(within(10_000, waiting, "bob's listen")).rejects.toBeInstanceOf(ConnectionClosedError);
    expect((await bob.closed).code).toBe(1013);

    // The bus reconnected: a new subscription gets the next event.
    const bobAgain = await connect(server, organizationId, "bob");
    expect(await rpc(bobAgain, "events_subscribe")).toEqual({ status: "ok" });
    const next = bobAgain.send("events_listen", { wait: true });
    const realmId = newId();
    expect(await rpc(alice, "realm_create", { role_certificate: roleCertificate(aliceSigner, realmId, f.alice.userId, "OWNER", tick()) })).toEqual({ status: "ok" });
    expect(
      await rpc(alice, "realm_update_roles", { role_certificate: roleCertificate(aliceSigner, realmId, f.bob.userId, "READER", tick()), recipient_message: null }),
    ).toEqual({ status: "ok" });
    expect(eventOf(await bounded(next, "bob's event after the reconnection"))).toMatchObject({ event: "realm.roles_updated", role: "READER" });
    // Alice's session, not subscribed, was left alone.
    expect(await rpc(alice, "events_listen", { wait: false })).toEqual({ status: "no_events" });
  }, 60_000);

  it("PostgreSQL stopped (crash) and restarted during a stream of writes: error replies or closes, no hang, nothing acknowledged lost", async () => {
    const cluster = await LocalPostgres.open();
    cleanups.push(() => cluster.destroy());
    const url = await cluster.createDatabase("parsec");
    const client = await connectDatabase(url);
    expect((await applyMigrations(client)).kind).toBe("ok");
    await client.end();
    const server = await serverOn(url);
    const organizationId = await createBootstrappedOrganization(server, f, f.organization.id);
    const realmId = newId();
    const vlobId = newId();
    let session = await connect(server, organizationId, "alice");
    expect(await rpc(session, "realm_create", { role_certificate: roleCertificate(aliceSigner, realmId, f.alice.userId, "OWNER", tick()) })).toEqual({ status: "ok" });
    expect(await rpc(session, "vlob_create", { realm_id: wire(realmId), encryption_revision: 1, vlob_id: wire(vlobId), timestamp: tick(), blob: randomBytes(16) })).toEqual({
      status: "ok",
    });

    const acknowledged: number[] = [1];
    const outcomes: Record<string, number> = {};
    let version = 1;
    let outage: Promise<void> | null = null;
    let restarted = false;
    const deadline = Date.now() + 40_000;
    // Write until 40 acknowledged writes happened after the restart.
    while (!(restarted && (outcomes["ok after restart"] ?? 0) >= 40)) {
      if (Date.now() > deadline) throw new Error(`stream did not recover: ${JSON.stringify(outcomes)}`);
      if (acknowledged.length === 20 && !outage)
        outage = (async () => {
          await cluster.stop("immediate");
          await new Promise((r) => setTimeout(r, 2_000));
          await cluster.start();
          restarted = true;
        })();
      const started = Date.now();
      try {
        const reply = await within(
          15_000,
          session.send("vlob_update", { encryption_revision: 1, vlob_id: wire(vlobId), timestamp: tick(), version: version + 1, blob: randomBytes(16) }),
          "a vlob_update during the outage",
        );
        const status = String(reply["status"]);
        if (status === "ok") {
          version += 1;
          acknowledged.push(version);
          if (restarted) outcomes["ok after restart"] = (outcomes["ok after restart"] ?? 0) + 1;
        } else if (status === "bad_version") {
          // An update whose reply was lost with its connection may have committed: resynchronise on the latest version.
          const latest = await rpc(session, "vlob_read", { encryption_revision: 1, vlob_id: wire(vlobId), version: null, timestamp: null });
          version = Number(latest["version"]);
        } else throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
      } catch (err) {
        if (!(err instanceof ConnectionClosedError)) throw err;
        outcomes[`closed ${err.message}`] = (outcomes[`closed ${err.message}`] ?? 0) + 1;
        expect(Date.now() - started).toBeLessThan(15_000);
        // Reconnect (handshakes fail while the database is away: retry).
        for (;;) {
          if (Date.now() > deadline) throw new Error(`could not reconnect: ${JSON.stringify(outcomes)}`);
          await new Promise((r) => setTimeout(r, 200));
          const outcome = await connectAuthenticated(aliceOptions(server, f, organizationId)).catch(() => null);
          if (outcome?.ok) {
            session = outcome.session;
            cleanups.push(() => within(2_000, session.close(), "close"));
            break;
          }
        }
      }
    }
    await outage;
    expect(Object.keys(outcomes).some((k) => k.startsWith("closed"))).toBe(true);
    const listed = await rpc(session, "vlob_list_versions", { vlob_id: wire(vlobId) });
    expect(listed["status"]).toBe("ok");
    const stored = new Set(entriesOf(listed["versions"]).map(([v]) => Number(v)));
    for (const v of acknowledged) expect(stored.has(v), `acknowledged version ${v} is stored`).toBe(true);
    // The same server process served before and after: no restart.
    expect(server.loggedErrors.filter((r) => !/PostgreSQL|storage|LISTEN|connect|heartbeat|Pool|terminat/i.test(JSON.stringify(r)))).toEqual([]);
  }, 90_000);
});
