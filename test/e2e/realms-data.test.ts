import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pack } from "../../src/domain/serialization/msgpack.js";
import { admin, connectAuthenticated, expectSession, type AuthenticatedConnectOptions, type ParsecSession, type WireMap } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import type { BackendSettings } from "../../src/bootstrap/settings.js";
import { startLocalS3, type LocalS3 } from "../support/s3.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { testSwift } from "../support/swift.js";
import { aliceOptions, createBootstrappedOrganization, within } from "./helpers.js";
import {
  bounded,
  entriesOf,
  eventOf,
  hexOf,
  micros,
  newId,
  roleCertificate,
  rpc,
  tick,
  userCreateOf,
  wire,
} from "./realms-data-helpers.js";

/**
 * Realms, vlobs, blocks, events and messages end to end, over real WebSockets against a real server on 127.0.0.1:
 * alice creates a realm and writes data, shares it with bob (who listens for events), re-encrypts it, and two of her
 * sessions race on the same vlob. The steps run in order and share state.
 */
/** A local S3 server for the S3 block stores below, started once for the file. */
let s3: LocalS3 | null = null;
beforeAll(async () => {
  s3 = await startLocalS3(["parsec", "raid-0", "raid-1", "raid-2"]);
});
afterAll(async () => {
  await s3?.close();
});

const s3Bucket = (bucket: string): BackendSettings["blockstore"] => ({
  type: "S3",
  endpointUrl: s3!.endpointUrl,
  region: "us-east-1",
  bucket,
  key: "S3RVER",
  secret: "S3RVER",
});

const swift = testSwift();

/** A Swift container of the run's Swift, created for the suite. */
const swiftContainer = async (): Promise<BackendSettings["blockstore"]> => ({
  type: "SWIFT",
  authUrl: swift!.authUrl,
  tenant: swift!.tenant,
  container: await swift!.createContainer("e2e"),
  user: swift!.user,
  password: swift!.password,
});

/** A bucket of the run's Swift, through its S3 API (which checks credentials and signatures). */
const swiftS3Bucket = async (): Promise<BackendSettings["blockstore"]> => ({
  type: "S3",
  endpointUrl: swift!.proxyUrl,
  region: "us-east-1",
  bucket: await swift!.createContainer("e2e-s3"),
  key: swift!.s3.accessKeyId,
  secret: swift!.s3.secretAccessKey,
});

/**
 * The block stores the suite runs on: the storage's own (memory or PostgreSQL), a RAID5 of three memory nodes, an S3
 * bucket, a RAID5 of three S3 buckets, and, when Swift is installed, a Swift container and a bucket of Swift's S3 API.
 */
const BLOCK_STORES: readonly { readonly label: string; readonly blockstore?: () => BackendSettings["blockstore"] | Promise<BackendSettings["blockstore"]> }[] = [
  { label: "the storage's block store" },
  { label: "a RAID5 of three MOCKED nodes", blockstore: () => ({ type: "RAID5", nodes: [{ type: "MOCKED" }, { type: "MOCKED" }, { type: "MOCKED" }] }) },
  { label: "an S3 bucket", blockstore: () => s3Bucket("parsec") },
  { label: "a RAID5 of three S3 buckets", blockstore: () => ({ type: "RAID5", nodes: ["raid-0", "raid-1", "raid-2"].map(s3Bucket) }) },
  ...(swift
    ? [
        { label: "a Swift container", blockstore: swiftContainer },
        { label: "a bucket of Swift's S3 API", blockstore: swiftS3Bucket },
      ]
    : []),
];

if (!swift)
  describe.skip("realms and data over the real transport, on Swift (SKIPPED: Swift is not installed)", () => {
    it("needs Debian's Swift packages (.ci/run installs them)", () => undefined);
  });

describe.skipIf(!fixtures).each(BLOCK_STORES)("realms and data over the real transport, on $label", ({ blockstore }) => {
  const f = fixtures!;
  const aliceSigner = { deviceId: f.alice.deviceId, signingKey: f.alice.signingKey };
  const BLOCK_SIZE = 512 * 1024;

  let server: TestServer;
  let organizationId: string;
  const sessions: ParsecSession<"authenticated">[] = [];
  let alice: ParsecSession<"authenticated">;
  let bob: ParsecSession<"authenticated">;
  /** bob's `events_listen wait: true` in flight (its reply is the next frame bob receives). */
  let bobListen: Promise<WireMap> | null = null;

  const realmId = newId();
  const vlobId = newId();
  const blockId = newId();
  const blobs: Buffer[] = [randomBytes(300), randomBytes(450)];
  const block = randomBytes(BLOCK_SIZE);
  const versionTimestamps: number[] = [];

  const connect = async (options: AuthenticatedConnectOptions) => {
    const session = expectSession(await bounded(connectAuthenticated(options), `handshake of ${options.deviceId}`));
    sessions.push(session);
    return session;
  };

  /** Starts bob's blocking listen; {@link bobEvent} awaits it. */
  const bobStartsListening = (): void => {
    if (bobListen) throw new Error("bob is already listening");
    bobListen = bob.send("events_listen", { wait: true });
    // Settled by bobEvent; avoid an unhandled rejection if a step fails before.
    bobListen.catch(() => undefined);
  };

  /** The event bob's pending listen returns (bounded), ids as hex. */
  const bobEvent = async (): Promise<WireMap> => {
    if (!bobListen) throw new Error("bob is not listening");
    const pending = bobListen;
    bobListen = null;
    const reply = await bounded(pending, "bob's events_listen");
    expect(reply["status"]).toBe("ok");
    return eventOf(reply);
  };

  const vlobRead = (session: ParsecSession<"authenticated">, fields: { encryption_revision: number; version?: number; timestamp?: unknown }) =>
    rpc(session, "vlob_read", { vlob_id: wire(vlobId), version: null, timestamp: null, ...fields });

  beforeAll(async () => {
    server = await startTestServer(blockstore ? { blockstore: await blockstore() } : {});
  });

  afterAll(async () => {
    await Promise.allSettled(sessions.map((s) => within(2_000, s.close(), "closing a session")));
    await server?.stop();
  });

  it("1. CoolOrg is bootstrapped with alice, who creates bob; bob subscribes and listens", async () => {
    organizationId = await bounded(createBootstrappedOrganization(server, f, f.organization.id), "bootstrap");
    expect(organizationId).toBe("CoolOrg");
    alice = await connect(aliceOptions(server, f, organizationId));
    expect(await rpc(alice, "user_create", userCreateOf(aliceSigner, f.bob, "STANDARD", tick()))).toEqual({ status: "ok" });
    bob = await connect(aliceOptions(server, f, organizationId, { deviceId: f.bob.deviceId, signingKey: f.bob.signingKey }));
    expect(await rpc(bob, "events_subscribe")).toEqual({ status: "ok" });
    expect(await rpc(bob, "events_listen", { wait: false })).toEqual({ status: "no_events" });
    bobStartsListening();
  });

  it("2. alice creates a realm, writes and reads vlobs and a block; the stats report the sizes", async () => {
    expect(await rpc(alice, "realm_create", { role_certificate: roleCertificate(aliceSigner, realmId, f.alice.userId, "OWNER", tick()) })).toEqual({
      status: "ok",
    });
    expect(await rpc(alice, "realm_create", { role_certificate: roleCertificate(aliceSigner, realmId, f.alice.userId, "OWNER", tick()) })).toMatchObject({
      status: "already_exists",
    });

    const t1 = tick();
    expect(await rpc(alice, "vlob_create", { realm_id: wire(realmId), encryption_revision: 1, vlob_id: wire(vlobId), timestamp: t1, blob: blobs[0] })).toEqual({
      status: "ok",
    });
    const t2 = tick();
    expect(await rpc(alice, "vlob_update", { encryption_revision: 1, vlob_id: wire(vlobId), timestamp: t2, version: 2, blob: blobs[1] })).toEqual({
      status: "ok",
    });
    versionTimestamps.push(t1.epochMicroseconds, t2.epochMicroseconds);
    // Same version again: refused.
    expect(await rpc(alice, "vlob_update", { encryption_revision: 1, vlob_id: wire(vlobId), timestamp: tick(), version: 2, blob: randomBytes(10) })).toEqual({
      status: "bad_version",
    });

    const latest = await vlobRead(alice, { encryption_revision: 1 });
    expect(latest).toMatchObject({ status: "ok", version: 2, blob: blobs[1], author: f.alice.deviceId });
    expect(micros(latest["timestamp"])).toBe(t2.epochMicroseconds);
    expect(await vlobRead(alice, { encryption_revision: 1, version: 1 })).toMatchObject({ status: "ok", version: 1, blob: blobs[0] });
    expect(await vlobRead(alice, { encryption_revision: 1, version: 3 })).toEqual({ status: "bad_version" });
    expect(await vlobRead(alice, { encryption_revision: 1, timestamp: t1 })).toMatchObject({ status: "ok", version: 1, blob: blobs[0] });
    expect(await vlobRead(alice, { encryption_revision: 1, timestamp: t2 })).toMatchObject({ status: "ok", version: 2, blob: blobs[1] });
    expect(await vlobRead(alice, { encryption_revision: 1, timestamp: t1.addSeconds(-1) })).toEqual({ status: "bad_version" });
    expect(await vlobRead(alice, { encryption_revision: 2 })).toEqual({ status: "bad_encryption_revision" });

    const listed = await rpc(alice, "vlob_list_versions", { vlob_id: wire(vlobId) });
    expect(listed["status"]).toBe("ok");
    expect(entriesOf(listed["versions"]).map(([v, entry]) => [v, micros((entry as unknown[])[0]), (entry as unknown[])[1]])).toEqual(
      [[1, t1.epochMicroseconds, f.alice.deviceId], [2, t2.epochMicroseconds, f.alice.deviceId]],
    );

    // Checkpoints count writes: create (1), update (2).
    const poll = async (lastCheckpoint: number) => {
      const reply = await rpc(alice, "vlob_poll_changes", { realm_id: wire(realmId), last_checkpoint: lastCheckpoint });
      expect(reply["status"]).toBe("ok");
      return { changes: entriesOf(reply["changes"]), checkpoint: reply["current_checkpoint"] };
    };
    expect(await poll(0)).toEqual({ changes: [[vlobId, 2]], checkpoint: 2 });
    expect(await poll(1)).toEqual({ changes: [[vlobId, 2]], checkpoint: 2 });
    expect(await poll(2)).toEqual({ changes: [], checkpoint: 2 });
    expect(await poll(10)).toEqual({ changes: [], checkpoint: 2 });

    expect(await rpc(alice, "block_create", { block_id: wire(blockId), realm_id: wire(realmId), block })).toEqual({ status: "ok" });
    expect(await rpc(alice, "block_create", { block_id: wire(blockId), realm_id: wire(realmId), block })).toEqual({ status: "already_exists" });
    const read = await rpc(alice, "block_read", { block_id: wire(blockId) });
    expect(read["status"]).toBe("ok");
    expect(Buffer.compare(read["block"] as Buffer, block)).toBe(0);
    expect(await rpc(alice, "block_read", { block_id: wire(newId()) })).toEqual({ status: "not_found" });

    const vlobsSize = blobs[0]!.length + blobs[1]!.length;
    expect(await rpc(alice, "realm_stats", { realm_id: wire(realmId) })).toEqual({ status: "ok", blocks_size: BLOCK_SIZE, vlobs_size: vlobsSize });
    const orgStats = await rpc(alice, "organization_stats");
    expect(orgStats).toMatchObject({ status: "ok", data_size: BLOCK_SIZE, metadata_size: vlobsSize, realms: 1, users: 2, active_users: 2 });
    expect(orgStats["users_per_profile_detail"]).toEqual(
      expect.arrayContaining([
        { profile: "ADMIN", active: 1, revoked: 0 },
        { profile: "STANDARD", active: 1, revoked: 0 },
      ]),
    );
    const adminStats = await bounded(admin(server.url, server.administrationToken).organizationStats(organizationId), "administration stats");
    expect(adminStats.status).toBe(200);
    expect(adminStats.body).toMatchObject({ data_size: BLOCK_SIZE, metadata_size: vlobsSize, realms: 1, users: 2, active_users: 2 });
  });

  it("3. alice shares the realm with bob (READER): bob gets the events and the message, reads but cannot write", async () => {
    const message = randomBytes(64);
    const grantedOn = tick();
    expect(
      await rpc(alice, "realm_update_roles", {
        role_certificate: roleCertificate(aliceSigner, realmId, f.bob.userId, "READER", grantedOn),
        recipient_message: message,
      }),
    ).toEqual({ status: "ok" });

    // The server publishes realm.roles_updated, then message.received (the recipient message): bob sees both, in order.
    expect(await bobEvent()).toEqual({ status: "ok", event: "realm.roles_updated", realm_id: realmId, role: "READER" });
    bobStartsListening();
    expect(await bobEvent()).toEqual({ status: "ok", event: "message.received", index: 1 });
    // Nothing else is pending (the vlob events of step 2 happened before bob was a member).
    expect(await rpc(bob, "events_listen", { wait: false })).toEqual({ status: "no_events" });

    const messages = await rpc(bob, "message_get", { offset: 0 });
    expect(messages).toMatchObject({ status: "ok", messages: [{ count: 1, sender: f.alice.deviceId, body: message }] });
    expect(micros((messages["messages"] as WireMap[])[0]!["timestamp"])).toBe(grantedOn.epochMicroseconds);
    expect(await rpc(bob, "message_get", { offset: 1 })).toEqual({ status: "ok", messages: [] });

    expect(await vlobRead(bob, { encryption_revision: 1 })).toMatchObject({ status: "ok", version: 2, blob: blobs[1], author: f.alice.deviceId });
    const bobBlock = await rpc(bob, "block_read", { block_id: wire(blockId) });
    expect(bobBlock["status"]).toBe("ok");
    expect(Buffer.compare(bobBlock["block"] as Buffer, block)).toBe(0);
    expect(await rpc(bob, "vlob_update", { encryption_revision: 1, vlob_id: wire(vlobId), timestamp: tick(), version: 3, blob: randomBytes(10) })).toEqual({
      status: "not_allowed",
    });
    expect(await rpc(bob, "block_create", { block_id: wire(newId()), realm_id: wire(realmId), block: randomBytes(16) })).toEqual({ status: "not_allowed" });
    expect(await rpc(bob, "realm_status", { realm_id: wire(realmId) })).toEqual({
      status: "ok",
      in_maintenance: false,
      maintenance_type: null,
      maintenance_started_on: null,
      maintenance_started_by: null,
      encryption_revision: 1,
    });
    const certificates = await rpc(bob, "realm_get_role_certificates", { realm_id: wire(realmId) });
    expect(certificates).toMatchObject({ status: "ok" });
    expect(certificates["certificates"]).toHaveLength(2);

    bobStartsListening();
    const t3 = tick();
    blobs.push(randomBytes(200));
    expect(await rpc(alice, "vlob_update", { encryption_revision: 1, vlob_id: wire(vlobId), timestamp: t3, version: 3, blob: blobs[2] })).toEqual({
      status: "ok",
    });
    versionTimestamps.push(t3.epochMicroseconds);
    expect(await bobEvent()).toEqual({ status: "ok", event: "realm.vlobs_updated", realm_id: realmId, checkpoint: 3, src_id: vlobId, src_version: 3 });
  });

  it("4. a pending events_listen is cancelled by the next command: no reply for it, the session goes on", async () => {
    expect(await rpc(bob, "events_listen", { wait: false })).toEqual({ status: "no_events" });
    bob.channel.send(pack({ cmd: "events_listen", wait: true }));
    expect(await bounded(bob.ping("after-cancel"), "ping after a pending listen")).toBe("after-cancel");
    // No late reply for the cancelled listen.
    await expect(bob.channel.next(300)).rejects.toThrow(/No frame received/);
    expect(await rpc(bob, "realm_status", { realm_id: wire(realmId) })).toMatchObject({ status: "ok", in_maintenance: false });
    expect(await rpc(bob, "events_listen", { wait: false })).toEqual({ status: "no_events" });

    // And a listen started afterwards still receives events.
    bobStartsListening();
    const t4 = tick();
    blobs.push(randomBytes(120));
    expect(await rpc(alice, "vlob_update", { encryption_revision: 1, vlob_id: wire(vlobId), timestamp: t4, version: 4, blob: blobs[3] })).toEqual({
      status: "ok",
    });
    versionTimestamps.push(t4.epochMicroseconds);
    expect(await bobEvent()).toEqual({ status: "ok", event: "realm.vlobs_updated", realm_id: realmId, checkpoint: 4, src_id: vlobId, src_version: 4 });
  });

  it("5. re-encryption: maintenance, batches, finish; bob is told at each stage and gets the new key", async () => {
    const aliceKey = randomBytes(48);
    const bobKey = randomBytes(48);
    const startedOn = tick();
    bobStartsListening();
    expect(
      await rpc(alice, "realm_start_reencryption_maintenance", {
        realm_id: wire(realmId),
        encryption_revision: 2,
        timestamp: startedOn,
        per_participant_message: { [f.alice.userId]: aliceKey, [f.bob.userId]: bobKey },
      }),
    ).toEqual({ status: "ok" });
    expect(await bobEvent()).toEqual({ status: "ok", event: "realm.maintenance_started", realm_id: realmId, encryption_revision: 2 });
    bobStartsListening();
    expect(await bobEvent()).toEqual({ status: "ok", event: "message.received", index: 2 });
    expect(await rpc(bob, "message_get", { offset: 1 })).toMatchObject({ status: "ok", messages: [{ count: 2, sender: f.alice.deviceId, body: bobKey }] });
    expect(await rpc(alice, "message_get", { offset: 0 })).toMatchObject({ status: "ok", messages: [{ count: 1, sender: f.alice.deviceId, body: aliceKey }] });

    const status = await rpc(bob, "realm_status", { realm_id: wire(realmId) });
    expect(status).toMatchObject({
      status: "ok",
      in_maintenance: true,
      maintenance_type: "REENCRYPTION",
      maintenance_started_by: f.alice.deviceId,
      encryption_revision: 2,
    });
    expect(micros(status["maintenance_started_on"])).toBe(startedOn.epochMicroseconds);

    // During the maintenance: no writes, reads only at the previous revision.
    expect(await rpc(alice, "vlob_update", { encryption_revision: 1, vlob_id: wire(vlobId), timestamp: tick(), version: 5, blob: randomBytes(10) })).toEqual({
      status: "in_maintenance",
    });
    expect(await rpc(alice, "vlob_update", { encryption_revision: 2, vlob_id: wire(vlobId), timestamp: tick(), version: 5, blob: randomBytes(10) })).toEqual({
      status: "in_maintenance",
    });
    expect(await vlobRead(alice, { encryption_revision: 2 })).toEqual({ status: "in_maintenance" });
    expect(await vlobRead(alice, { encryption_revision: 1 })).toMatchObject({ status: "ok", version: 4, blob: blobs[3] });
    expect(await vlobRead(bob, { encryption_revision: 1, version: 1 })).toMatchObject({ status: "ok", version: 1, blob: blobs[0] });
    expect(
      await rpc(alice, "realm_start_reencryption_maintenance", {
        realm_id: wire(realmId),
        encryption_revision: 3,
        timestamp: tick(),
        per_participant_message: { [f.alice.userId]: aliceKey, [f.bob.userId]: bobKey },
      }),
    ).toEqual({ status: "in_maintenance" });
    // Only the OWNER handles batches.
    expect(await rpc(bob, "vlob_maintenance_get_reencryption_batch", { realm_id: wire(realmId), encryption_revision: 2, size: 100 })).toEqual({
      status: "not_allowed",
    });

    const got = await rpc(alice, "vlob_maintenance_get_reencryption_batch", { realm_id: wire(realmId), encryption_revision: 2, size: 100 });
    expect(got["status"]).toBe("ok");
    const batch = (got["batch"] as WireMap[]).map((entry) => ({ vlob_id: hexOf(entry["vlob_id"]), version: entry["version"], blob: entry["blob"] }));
    expect([...batch].sort((a, b) => (a.version as number) - (b.version as number))).toEqual(
      blobs.map((blob, i) => ({ vlob_id: vlobId, version: i + 1, blob })),
    );
    expect(await rpc(alice, "vlob_maintenance_get_reencryption_batch", { realm_id: wire(realmId), encryption_revision: 1, size: 100 })).toEqual({
      status: "bad_encryption_revision",
    });

    expect(await rpc(alice, "realm_finish_reencryption_maintenance", { realm_id: wire(realmId), encryption_revision: 2 })).toMatchObject({
      status: "maintenance_error",
    });

    const reencrypted = blobs.map((blob) => Buffer.concat([Buffer.from("re-encrypted:"), blob]));
    const saved = await rpc(alice, "vlob_maintenance_save_reencryption_batch", {
      realm_id: wire(realmId),
      encryption_revision: 2,
      batch: reencrypted.map((blob, i) => ({ vlob_id: wire(vlobId), version: i + 1, blob })),
    });
    expect(saved).toEqual({ status: "ok", total: blobs.length, done: blobs.length });
    expect(await rpc(alice, "vlob_maintenance_get_reencryption_batch", { realm_id: wire(realmId), encryption_revision: 2, size: 100 })).toEqual({
      status: "ok",
      batch: [],
    });

    bobStartsListening();
    expect(await rpc(alice, "realm_finish_reencryption_maintenance", { realm_id: wire(realmId), encryption_revision: 2 })).toEqual({ status: "ok" });
    expect(await bobEvent()).toEqual({ status: "ok", event: "realm.maintenance_finished", realm_id: realmId, encryption_revision: 2 });
    expect(await rpc(bob, "events_listen", { wait: false })).toEqual({ status: "no_events" });
    expect(await rpc(alice, "realm_finish_reencryption_maintenance", { realm_id: wire(realmId), encryption_revision: 2 })).toMatchObject({
      status: "not_in_maintenance",
    });

    expect(await vlobRead(alice, { encryption_revision: 2 })).toMatchObject({ status: "ok", version: 4, blob: reencrypted[3] });
    expect(await vlobRead(bob, { encryption_revision: 2, version: 1 })).toMatchObject({ status: "ok", version: 1, blob: reencrypted[0] });
    expect(await vlobRead(alice, { encryption_revision: 1 })).toEqual({ status: "bad_encryption_revision" });
    expect(await rpc(alice, "vlob_update", { encryption_revision: 1, vlob_id: wire(vlobId), timestamp: tick(), version: 5, blob: randomBytes(10) })).toEqual({
      status: "bad_encryption_revision",
    });
    expect(await rpc(bob, "realm_status", { realm_id: wire(realmId) })).toMatchObject({ status: "ok", in_maintenance: false, maintenance_type: null, encryption_revision: 2 });
    // Versions keep their original timestamps.
    const listed = await rpc(alice, "vlob_list_versions", { vlob_id: wire(vlobId) });
    expect(entriesOf(listed["versions"]).map(([v, entry]) => [v, micros((entry as unknown[])[0])])).toEqual(versionTimestamps.map((ts, i) => [i + 1, ts]));
    expect(await rpc(bob, "message_get", { offset: 0 })).toMatchObject({ status: "ok", messages: [{ count: 1 }, { count: 2, body: bobKey }] });
    // vlob metadata now counts the re-encrypted blobs.
    expect(await rpc(alice, "realm_stats", { realm_id: wire(realmId) })).toEqual({
      status: "ok",
      blocks_size: BLOCK_SIZE,
      vlobs_size: reencrypted.reduce((sum, blob) => sum + blob.length, 0),
    });
  });

  it("6. two sessions of alice race vlob_update on the same version: exactly one wins each round", async () => {
    const alice2 = await connect(aliceOptions(server, f, organizationId));
    const ROUNDS = 50;
    const firstVersion = blobs.length + 1;
    let lastWinner: Buffer | null = null;
    for (let round = 0; round < ROUNDS; round++) {
      const version = firstVersion + round;
      const candidates = [randomBytes(32), randomBytes(32)] as const;
      const [a, b] = await Promise.all(
        [alice, alice2].map((session, i) =>
          rpc(session, "vlob_update", { encryption_revision: 2, vlob_id: wire(vlobId), timestamp: tick(), version, blob: candidates[i] }),
        ),
      );
      const statuses = [a!["status"], b!["status"]];
      expect([...statuses].sort(), `round ${round}`).toEqual(["bad_version", "ok"]);
      lastWinner = candidates[statuses.indexOf("ok")]!;
    }
    const lastVersion = firstVersion + ROUNDS - 1;
    expect(await vlobRead(alice2, { encryption_revision: 2 })).toMatchObject({ status: "ok", version: lastVersion, blob: lastWinner });
    const listed = await rpc(alice, "vlob_list_versions", { vlob_id: wire(vlobId) });
    expect(entriesOf(listed["versions"]).map(([v]) => v)).toEqual(Array.from({ length: lastVersion }, (_, i) => i + 1));

    // bob (not listening meanwhile) has one realm.vlobs_updated per winning write, in order.
    for (let round = 0; round < ROUNDS; round++) {
      const event = eventOf(await rpc(bob, "events_listen", { wait: false }));
      expect(event).toEqual({
        status: "ok",
        event: "realm.vlobs_updated",
        realm_id: realmId,
        checkpoint: firstVersion + round,
        src_id: vlobId,
        src_version: firstVersion + round,
      });
    }
    expect(await rpc(bob, "events_listen", { wait: false })).toEqual({ status: "no_events" });
  });

  it("7. a subscriber letting more than 100 events pile up unread is disconnected (1008), as Parsec does", async () => {
    const bob2 = await connect({ ...aliceOptions(server, f, organizationId), deviceId: f.bob.deviceId, signingKey: f.bob.signingKey });
    expect(await rpc(bob2, "events_subscribe")).toEqual({ status: "ok" });
    for (let i = 0; i < 101; i++) expect(await rpc(alice, "ping", { ping: `flood ${i}` })).toMatchObject({ status: "ok" });
    // The events reach bob2's queue asynchronously (through PostgreSQL, on that storage): wait for the overflow.
    const closed = await bounded(bob2.closed, "bob2 closed");
    await expect(bob2.send("events_listen", { wait: false })).rejects.toThrow(/closed/i);
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/Too many pending events/);
    expect(await rpc(alice, "ping", { ping: "still here" })).toMatchObject({ status: "ok", pong: "still here" });
  });

  it("the server logged no internal error", () => {
    expect(bobListen).toBeNull();
    expect(server.loggedErrors).toEqual([]);
  });

});
