import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokedUserCertificate } from "../support/certificates.js";
import { connectAuthenticated, connectInvited, expectSession, type ParsecSession } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { createTestDatabase, dropTestDatabase } from "../support/postgres.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import type { TestServer } from "../support/server.js";
import { aliceOptions, createBootstrappedOrganization, within } from "./helpers.js";
import { bounded, eventOf, newId, roleCertificate, rpc, tick, userCreateOf, wire } from "./realms-data-helpers.js";
import { runClaimer, runGreeter, sasMaterial } from "./users-invitations-helpers.js";

/**
 * Two `parsec backend run` processes on one PostgreSQL database behave as one server: an event published through
 * one reaches a session of the other, a revocation through one closes the sessions of the other, and an invitation
 * greeted on one is claimed on the other.
 */
describe.skipIf(!fixtures)("two server processes on one PostgreSQL database", () => {
  const f = fixtures!;
  const aliceSigner = { deviceId: f.alice.deviceId, signingKey: f.alice.signingKey };
  let database: { name: string; url: string };
  let a: ServerProcess;
  let b: ServerProcess;
  let organizationId: string;
  const sessions: ParsecSession<"authenticated" | "invited">[] = [];

  const asTestServer = (p: ServerProcess) => ({ url: p.url, wsUrl: p.wsUrl, administrationToken: p.administrationToken }) as unknown as TestServer;
  const connect = async (on: ServerProcess, who: "alice" | "bob") => {
    const device = f[who];
    const session = expectSession(
      await bounded(
        connectAuthenticated(aliceOptions(asTestServer(on), f, organizationId, { deviceId: device.deviceId, signingKey: device.signingKey })),
        `${who}'s handshake`,
      ),
    );
    sessions.push(session);
    return session;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    [a, b] = await Promise.all([startServerProcess({ db: database.url }), startServerProcess({ db: database.url })]);
    organizationId = await createBootstrappedOrganization(asTestServer(a), f, f.organization.id);
    const alice = await connect(a, "alice");
    expect(await rpc(alice, "user_create", userCreateOf(aliceSigner, f.bob, "STANDARD", tick()))).toEqual({ status: "ok" });
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(sessions.map((s) => within(2_000, s.close(), "closing a session")));
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    if (database) await dropTestDatabase(database.name);
    expect(codes).toEqual([0, 0]);
    for (const p of [a, b]) expect(p.logs.filter((r) => typeof r["level"] === "number" && r["level"] >= 50)).toEqual([]);
  });

  it("a vlob_update through A wakes bob's events_listen on B", async () => {
    const alice = await connect(a, "alice");
    const bob = await connect(b, "bob");
    const realmId = newId();
    const vlobId = newId();
    expect(await rpc(alice, "realm_create", { role_certificate: roleCertificate(aliceSigner, realmId, f.alice.userId, "OWNER", tick()) })).toEqual({ status: "ok" });
    expect(await rpc(bob, "events_subscribe")).toEqual({ status: "ok" });
    const shared = bob.send("events_listen", { wait: true });
    expect(
      await rpc(alice, "realm_update_roles", { role_certificate: roleCertificate(aliceSigner, realmId, f.bob.userId, "CONTRIBUTOR", tick()), recipient_message: null }),
    ).toEqual({ status: "ok" });
    expect(eventOf(await bounded(shared, "bob's roles_updated event"))).toMatchObject({ event: "realm.roles_updated", role: "CONTRIBUTOR" });

    expect(await rpc(alice, "vlob_create", { realm_id: wire(realmId), encryption_revision: 1, vlob_id: wire(vlobId), timestamp: tick(), blob: randomBytes(64) })).toEqual({
      status: "ok",
    });
    expect(eventOf(await rpc(bob, "events_listen", { wait: true }))).toMatchObject({ event: "realm.vlobs_updated", checkpoint: 1, src_version: 1 });
    const waiting = bob.send("events_listen", { wait: true });
    const started = Date.now();
    expect(
      await rpc(alice, "vlob_update", { encryption_revision: 1, vlob_id: wire(vlobId), timestamp: tick(), version: 2, blob: randomBytes(64) }),
    ).toEqual({ status: "ok" });
    const event = eventOf(await bounded(waiting, "bob's vlobs_updated event"));
    expect(event).toMatchObject({ event: "realm.vlobs_updated", checkpoint: 2, src_version: 2 });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("a 1 MB ping through A reaches bob's events_listen on B intact (too large for a NOTIFY payload)", async () => {
    const alice = await connect(a, "alice");
    const bob = await connect(b, "bob");
    expect(await rpc(bob, "events_subscribe")).toEqual({ status: "ok" });
    const waiting = bob.send("events_listen", { wait: true });
    const big = "ping-".repeat(200_000);
    expect(await rpc(alice, "ping", { ping: big })).toEqual({ status: "ok", pong: big });
    const event = eventOf(await bounded(waiting, "bob's pinged event"));
    expect(event["event"]).toBe("pinged");
    expect(event["ping"]).toBe(big);
  });

  it("revoking bob through A closes bob's sessions on B within 1 s", async () => {
    const alice = await connect(a, "alice");
    const bobOnB = await connect(b, "bob");
    const otherBobOnB = await connect(b, "bob");
    const certificate = revokedUserCertificate(f.alice.signingKey, { author: f.alice.deviceId, timestamp: tick(), userId: f.bob.userId });
    const started = Date.now();
    expect(await rpc(alice, "user_revoke", { revoked_user_certificate: certificate })).toEqual({ status: "ok" });
    const closes = await within(1_000, Promise.all([bobOnB.closed, otherBobOnB.closed]), "bob's sessions closing");
    expect(Date.now() - started).toBeLessThan(1_000);
    for (const close of closes) expect(close.code).toBe(1008);
    // And bob can no longer connect, to either process.
    for (const p of [a, b]) {
      const refused = await connectAuthenticated(aliceOptions(asTestServer(p), f, organizationId, { deviceId: f.bob.deviceId, signingKey: f.bob.signingKey }));
      expect(refused.ok).toBe(false);
    }
  });

  it("an invitation greeted on A is claimed on B, and the claimer's presence is seen from both", async () => {
    const alice = await connect(a, "alice");
    const invited = await rpc(alice, "invite_new", { type: "DEVICE", send_email: false });
    expect(invited["status"]).toBe("ok");
    const token = (invited["token"] as { hex: string }).hex;
    const claimer = expectSession(
      await bounded(connectInvited({ url: b.wsUrl, organizationId, invitationType: "DEVICE", token, timeoutMs: 5_000 }), "claimer's handshake"),
    );
    sessions.push(claimer);
    const aliceOnB = await connect(b, "alice");
    for (const session of [alice, aliceOnB])
      await expect
        .poll(async () => ((await rpc(session, "invite_list"))["invitations"] as { status: string }[])[0]?.status, { timeout: 3_000 })
        .toBe("READY");
    const m = sasMaterial();
    const [greeterGot, claimerGot] = await Promise.all([runGreeter(alice, token, m.greeter), runClaimer(claimer, m.claimer)]);
    expect(greeterGot.claimerPublicKey).toEqual(m.claimer.publicKey);
    expect(greeterGot.claimerNonce).toEqual(m.claimer.nonce);
    expect(claimerGot.greeterPublicKey).toEqual(m.greeter.publicKey);
    expect(claimerGot.payloads).toEqual(m.greeter.payloads);
    expect(greeterGot.payloads).toEqual(m.claimer.payloads);
    await claimer.close();
    await expect
      .poll(async () => ((await rpc(alice, "invite_list"))["invitations"] as { status: string }[])[0]?.status, { timeout: 3_000 })
      .toBe("IDLE");
  });
});
