import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type ServerResponse } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Raid5BlockStore } from "../../../src/adapters/blockstore/raid/index.js";
import { S3BlockStore, s3ObjectKey, type S3BlockStoreOptions } from "../../../src/adapters/blockstore/s3/index.js";
import { BlockStoreError } from "../../../src/application/ports/index.js";
import type { BlockID, OrganizationID } from "../../../src/domain/ids.js";
import { blockStoreContract } from "../../contract/index.js";

/**
 * The S3 block store against a real S3 server on loopback (`s3rver`, started here; it does not check credentials, so
 * wrong keys are tested against Swift's S3 API): the block store contract, on one bucket and on a RAID5 of three
 * buckets; Parsec's object keys; the start-up check of the bucket; a server that is down or silent.
 */
describe("S3BlockStore on s3rver", () => {
  const directory = mkdtempSync(join(tmpdir(), "parsec-s3rver-"));
  const buckets = ["parsec", "raid-0", "raid-1", "raid-2"];
  let server: S3rver;
  let endpointUrl: string;
  const stores: S3BlockStore[] = [];

  const store = (overrides: Partial<S3BlockStoreOptions> = {}): S3BlockStore => {
    const s = new S3BlockStore({
      endpointUrl,
      region: "us-east-1",
      bucket: "parsec",
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      requestTimeoutMs: 2_000,
      ...overrides,
    });
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
    const address = (await server.run()) as { port: number };
    endpointUrl = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    for (const s of stores) s.destroy();
    await server?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  // s3rver ignores If-None-Match: a second write replaces the object.
  blockStoreContract(async () => ({ store: store() }), { firstWriteWins: false });
  blockStoreContract(async () => ({ store: new Raid5BlockStore(["raid-0", "raid-1", "raid-2"].map((bucket) => store({ bucket }))) }), { firstWriteWins: false });

  it("names objects as Parsec does: <organization>/<hyphenated block id>", async () => {
    const blockId = "0123456789abcdef0123456789abcdef" as BlockID;
    expect(s3ObjectKey("CoolOrg" as OrganizationID, blockId)).toBe("CoolOrg/01234567-89ab-cdef-0123-456789abcdef");
    await store().create("CoolOrg" as OrganizationID, blockId, Buffer.from("payload"));
    // Read straight from the object's key (s3rver serves objects without checking credentials).
    const response = await fetch(`${endpointUrl}/parsec/CoolOrg/01234567-89ab-cdef-0123-456789abcdef`);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from("payload"));
  });

  it("checks at start-up that the bucket exists", async () => {
    await expect(store().checkReady()).resolves.toBeUndefined();
    await expect(store({ bucket: "no-such-bucket" }).checkReady()).rejects.toThrow(new BlockStoreError(`S3 bucket no-such-bucket at ${endpointUrl}: no such bucket`));
  });

  it("fails reads and writes on a missing bucket with a BlockStoreError naming it, never the secret", async () => {
    const missing = store({ bucket: "no-such-bucket", secretAccessKey: "the-secret-value" });
    const blockId = "00000000000000000000000000000001" as BlockID;
    for (const attempt of [() => missing.read("Org" as OrganizationID, blockId), () => missing.create("Org" as OrganizationID, blockId, Buffer.from("x"))]) {
      const err = await attempt().then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(BlockStoreError);
      expect(err?.message).toMatch(new RegExp(`^S3 bucket no-such-bucket at ${endpointUrl}: (read|write) failed: NoSuchBucket`));
      expect(err?.message).not.toContain("the-secret-value");
    }
  });

  it("refuses an answer larger than any block (announced or endless) quickly and without buffering it", async () => {
    const answers: Record<string, (response: ServerResponse) => void> = {
      "announced 4 GiB": (response) => {
        response.writeHead(200, { "Content-Length": String(4 * 1024 ** 3) });
        response.write(Buffer.alloc(64 * 1024));
      },
      "endless, no length": (response) => {
        response.writeHead(200, { "Transfer-Encoding": "chunked" });
        const chunk = Buffer.alloc(256 * 1024, 1);
        const pump = () => {
          while (!response.destroyed && response.write(chunk));
          if (!response.destroyed) response.once("drain", pump);
        };
        pump();
      },
    };
    for (const [label, answer] of Object.entries(answers)) {
      const server = createHttpServer((request, response) => {
        request.resume();
        answer(response);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const port = (server.address() as { port: number }).port;
        const s = store({ endpointUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 5_000 });
        const before = process.memoryUsage().rss;
        const started = Date.now();
        const err = await s.read("Org" as OrganizationID, "00000000000000000000000000000003" as BlockID).then(
          () => null,
          (e: unknown) => e as Error,
        );
        expect(err, label).toBeInstanceOf(BlockStoreError);
        expect(err?.message, label).toMatch(/larger than any block/);
        expect(Date.now() - started, label).toBeLessThan(4_000);
        // Far below what buffering the answer would take (the cap is 4 MiB).
        expect(process.memoryUsage().rss - before, label).toBeLessThan(256 * 1024 * 1024);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    }
  });

  it("fails within its request timeout against a server that accepts connections and never answers, and when nothing listens", async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const s = store({ endpointUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 300 });
      const started = Date.now();
      await expect(s.read("Org" as OrganizationID, "00000000000000000000000000000002" as BlockID)).rejects.toThrow(BlockStoreError);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.close();
    }
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(store({ endpointUrl: `http://127.0.0.1:${port}` }).checkReady()).rejects.toThrow(BlockStoreError);
  });
});
