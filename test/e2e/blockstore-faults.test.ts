import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3ObjectKey } from "../../src/adapters/blockstore/s3/index.js";
import type { BackendSettings } from "../../src/bootstrap/settings.js";
import type { BlockID, OrganizationID } from "../../src/domain/ids.js";
import { connectAuthenticated, expectSession, type ParsecSession } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { aliceOptions, createBootstrappedOrganization, within } from "./helpers.js";
import { bounded, newId, roleCertificate, rpc, tick, wire } from "./realms-data-helpers.js";

/**
 * Block store faults end to end: a real server (startTestServer, the composition root's S3 and RAID block stores)
 * on real S3 servers (`s3rver` on 127.0.0.1, one per node, each its own port and folder, started here), alice over a
 * real WebSocket.
 *
 * - One S3 bucket, an object deleted behind the server's back: `block_read` answers `timeout`, the error
 *   "Block payload missing from the block store" is logged with the organization and the block id, and the server
 *   keeps serving (`ping`, other blocks).
 * - The same S3 server stopped: `block_read` and `block_create` answer `timeout` quickly, the errors logged name the
 *   bucket and its endpoint and never hold the secret, the server goes on answering; with s3rver restarted on the
 *   same port and folder, the blocks written before read back identical and the refused creation, retried, succeeds.
 * - A RAID5 of three S3 servers: with any one stopped, `block_read` answers `ok` with identical bytes and the warning
 *   "RAID block store node failed" names the node (index, bucket, endpoint), never the secret; `block_create`
 *   answers `timeout` (partial creations are refused, as in Parsec) until the node is back. A chunk deleted behind
 *   the server's back is worked around the same way, with a warning.
 */

const SECRET = "e2e-blockstore-faults-secret";
/** A bound for each fault to be answered: generous, it only tells an answer from a hang. */
const LIVENESS_MS = 4_000;

/** An s3rver on its own port and folder that can be stopped and started again on both. */
class RestartableS3 {
  readonly directory = mkdtempSync(join(tmpdir(), "parsec-e2e-faults-"));
  port = 0;
  private running: { readonly server: S3rver; readonly http: HttpServer } | null = null;

  constructor(readonly bucket: string) {}

  get endpointUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  settings(): BackendSettings["blockstore"] {
    return { type: "S3", endpointUrl: this.endpointUrl, region: "us-east-1", bucket: this.bucket, key: "S3RVER", secret: SECRET };
  }

  /** The URL of the object of a block (path-style). */
  objectUrl(organizationId: string, blockId: string): string {
    return `${this.endpointUrl}/${this.bucket}/${s3ObjectKey(organizationId as OrganizationID, blockId as BlockID)}`;
  }

  async start(): Promise<void> {
    const server = new S3rver({ address: "127.0.0.1", port: this.port, silent: true, directory: this.directory, configureBuckets: [{ name: this.bucket }] });
    const { port } = await server.run();
    if (this.port !== 0) expect(port).toBe(this.port);
    this.port = port;
    this.running = { server, http: (server as unknown as { httpServer: HttpServer }).httpServer };
  }

  /** Stops listening and cuts the server's kept-alive connections, as a stopped process would. */
  async stop(): Promise<void> {
    const running = this.running;
    this.running = null;
    if (!running) return;
    const closed = running.server.close();
    running.http.closeAllConnections();
    await closed;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** `work`, which must settle within {@link LIVENESS_MS}. */
const inTime = async <T>(work: Promise<T>, what: string): Promise<T> => {
  const started = performance.now();
  const value = await within(2 * LIVENESS_MS, work, what);
  expect(performance.now() - started).toBeLessThan(LIVENESS_MS);
  return value;
};

const expectBlock = (reply: Record<string, unknown>, expected: Buffer): void => {
  expect(reply["status"]).toBe("ok");
  const block = reply["block"] as Buffer;
  expect(block).toBeInstanceOf(Buffer);
  expect(block.length).toBe(expected.length);
  expect(Buffer.compare(block, expected)).toBe(0);
};

describe.skipIf(!fixtures)("block store faults over the real transport, on real S3 servers", () => {
  const f = fixtures!;
  const aliceSigner = { deviceId: f.alice.deviceId, signingKey: f.alice.signingKey };

  /** A fresh organization on `server` with alice connected and a realm she owns. */
  const aliceWithRealm = async (server: TestServer, sessions: ParsecSession<"authenticated">[]) => {
    const organizationId = await bounded(createBootstrappedOrganization(server, f), "bootstrap");
    const alice = expectSession(await bounded(connectAuthenticated(aliceOptions(server, f, organizationId)), "alice's handshake"));
    sessions.push(alice);
    const realmId = newId();
    expect(await rpc(alice, "realm_create", { role_certificate: roleCertificate(aliceSigner, realmId, f.alice.userId, "OWNER", tick()) })).toEqual({ status: "ok" });
    const createBlock = (blockId: string, block: Buffer) => rpc(alice, "block_create", { block_id: wire(blockId), realm_id: wire(realmId), block });
    const readBlock = (blockId: string) => rpc(alice, "block_read", { block_id: wire(blockId) });
    return { organizationId, alice, createBlock, readBlock };
  };

  describe("one S3 bucket", () => {
    const node = new RestartableS3("parsec");
    const sessions: ParsecSession<"authenticated">[] = [];
    let server: TestServer;
    let ctx: Awaited<ReturnType<typeof aliceWithRealm>>;
    const deleted = { id: newId(), payload: randomBytes(4096) };
    const kept = { id: newId(), payload: randomBytes(512 * 1024) };

    beforeAll(async () => {
      await node.start();
      server = await startTestServer({ blockstore: node.settings() });
      ctx = await aliceWithRealm(server, sessions);
      for (const { id, payload } of [deleted, kept]) expect(await ctx.createBlock(id, payload)).toEqual({ status: "ok" });
    });

    afterAll(async () => {
      await Promise.allSettled(sessions.map((s) => within(2_000, s.close(), "closing a session")));
      await server?.stop();
      await node.dispose();
    });

    it("an object deleted behind the server's back: block_read answers timeout, the missing payload is logged, the server keeps serving", async () => {
      const url = node.objectUrl(ctx.organizationId, deleted.id);
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(url, { method: "DELETE" })).status).toBe(204);
      expect((await fetch(url)).status).toBe(404);

      expect(await inTime(ctx.readBlock(deleted.id), "block_read of the deleted block")).toEqual({ status: "timeout" });
      expect(server.loggedErrors).toContainEqual(
        expect.objectContaining({ msg: "Block payload missing from the block store", organizationId: ctx.organizationId, blockId: deleted.id }),
      );
      expect(JSON.stringify(server.loggedErrors)).not.toContain(SECRET);

      // The session and the server go on.
      expect(await bounded(ctx.alice.ping("still there"), "ping")).toBe("still there");
      expectBlock(await ctx.readBlock(kept.id), kept.payload);
      expect(await ctx.readBlock(deleted.id)).toEqual({ status: "timeout" });
    });

    it("the S3 server stopped: block_read and block_create answer timeout, the errors name the bucket but not the secret; back, it serves again", async () => {
      const refused = { id: newId(), payload: randomBytes(4096) };
      const before = server.loggedErrors.length;
      await node.stop();
      try {
        expect(await inTime(ctx.readBlock(kept.id), "block_read with S3 down")).toEqual({ status: "timeout" });
        expect(await inTime(ctx.createBlock(refused.id, refused.payload), "block_create with S3 down")).toEqual({ status: "timeout" });
        const logged = server.loggedErrors.slice(before);
        expect(logged).toContainEqual(
          expect.objectContaining({
            msg: "Block store read failed",
            organizationId: ctx.organizationId,
            blockId: kept.id,
            cause: expect.stringContaining(`S3 bucket parsec at ${node.endpointUrl}: read failed`),
          }),
        );
        expect(logged).toContainEqual(
          expect.objectContaining({
            msg: "Block store write failed",
            organizationId: ctx.organizationId,
            blockId: refused.id,
            cause: expect.stringContaining(`S3 bucket parsec at ${node.endpointUrl}: write failed`),
          }),
        );
        expect(JSON.stringify(server.loggedErrors)).not.toContain(SECRET);
        // Not crashed: the session still answers, and so does a new one.
        expect(await bounded(ctx.alice.ping("S3 is down"), "ping")).toBe("S3 is down");
        const other = expectSession(await bounded(connectAuthenticated(aliceOptions(server, f, ctx.organizationId)), "second handshake"));
        sessions.push(other);
        expect(await bounded(other.ping("second session"), "ping")).toBe("second session");
      } finally {
        await node.start();
      }
      // Same port, same folder: the blocks written before are there, the refused creation can be retried.
      expectBlock(await ctx.readBlock(kept.id), kept.payload);
      expect(await ctx.createBlock(refused.id, refused.payload)).toEqual({ status: "ok" });
      expectBlock(await ctx.readBlock(refused.id), refused.payload);
    });
  });

  describe("a RAID5 of three S3 servers", () => {
    const nodes = [0, 1, 2].map((i) => new RestartableS3(`raid-${i}`));
    const sessions: ParsecSession<"authenticated">[] = [];
    const warnings: Record<string, unknown>[] = [];
    let server: TestServer;
    let ctx: Awaited<ReturnType<typeof aliceWithRealm>>;
    const blocks = [
      { id: newId(), payload: randomBytes(4096) },
      { id: newId(), payload: randomBytes(512 * 1024) },
    ];
    const nodeWarnings = () => warnings.filter((w) => w["msg"] === "RAID block store node failed");

    beforeAll(async () => {
      for (const node of nodes) await node.start();
      server = await startTestServer(
        { blockstore: { type: "RAID5", nodes: nodes.map((n) => n.settings()) } },
        { level: "warn", onRecord: (record) => void (record["level"] === 40 && warnings.push(record)) },
      );
      ctx = await aliceWithRealm(server, sessions);
      for (const { id, payload } of blocks) expect(await ctx.createBlock(id, payload)).toEqual({ status: "ok" });
      expect(nodeWarnings()).toEqual([]);
    });

    afterAll(async () => {
      await Promise.allSettled(sessions.map((s) => within(2_000, s.close(), "closing a session")));
      await server?.stop();
      await Promise.allSettled(nodes.map((n) => n.dispose()));
    });

    for (const down of [0, 1, 2]) {
      it(`node ${down} stopped: block_read answers ok with identical bytes${down < 2 ? " and a warning names the node" : ""}; block_create answers timeout until it is back`, async () => {
        warnings.length = 0;
        const errorsBefore = server.loggedErrors.length;
        const node = nodes[down]!;
        const refused = { id: newId(), payload: randomBytes(4096) };
        await node.stop();
        try {
          for (const { id, payload } of blocks) expectBlock(await inTime(ctx.readBlock(id), `block_read with node ${down} down`), payload);
          expect(server.loggedErrors.slice(errorsBefore)).toEqual([]);
          const readWarnings = nodeWarnings();
          if (down === 2) {
            // The parity node is only asked when a data node fails.
            expect(readWarnings).toEqual([]);
          } else {
            expect(readWarnings).toHaveLength(blocks.length);
            for (const w of readWarnings) {
              expect(w).toMatchObject({ raid: "RAID5", node: down, operation: "read" });
              expect(w["err"]).toEqual(expect.stringContaining(`RAID5 node ${down}: S3 bucket raid-${down} at ${node.endpointUrl}: read failed`));
            }
          }
          warnings.length = 0;
          expect(await inTime(ctx.createBlock(refused.id, refused.payload), `block_create with node ${down} down`)).toEqual({ status: "timeout" });
          expect(nodeWarnings()).toEqual([
            expect.objectContaining({
              raid: "RAID5",
              node: down,
              operation: "create",
              err: expect.stringContaining(`RAID5 node ${down}: S3 bucket raid-${down} at ${node.endpointUrl}: write failed`),
            }),
          ]);
          expect(server.loggedErrors.slice(errorsBefore)).toContainEqual(expect.objectContaining({ msg: "Block store write failed", blockId: refused.id }));
          expect(JSON.stringify([...warnings, ...server.loggedErrors])).not.toContain(SECRET);
          expect(await bounded(ctx.alice.ping("one node down"), "ping")).toBe("one node down");
        } finally {
          await node.start();
        }
        expect(await ctx.createBlock(refused.id, refused.payload)).toEqual({ status: "ok" });
        for (const { id, payload } of [...blocks, refused]) expectBlock(await ctx.readBlock(id), payload);
      });
    }

    it("a chunk deleted behind the server's back: block_read still answers identical bytes, with a warning that the chunk is missing", async () => {
      warnings.length = 0;
      const [first] = blocks;
      const url = nodes[1]!.objectUrl(ctx.organizationId, first!.id);
      expect((await fetch(url, { method: "DELETE" })).status).toBe(204);
      expectBlock(await inTime(ctx.readBlock(first!.id), "block_read with a chunk missing"), first!.payload);
      expect(nodeWarnings()).toEqual([expect.objectContaining({ raid: "RAID5", node: 1, operation: "read", err: "RAID5 node 1: chunk missing" })]);
    });
  });
});
