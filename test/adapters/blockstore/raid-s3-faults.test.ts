import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Raid1BlockStore, Raid5BlockStore, splitIntoChunks, TimeoutBlockStore, xorChunks } from "../../../src/adapters/blockstore/raid/index.js";
import { S3BlockStore } from "../../../src/adapters/blockstore/s3/index.js";
import { BlockStoreError, type BlockStore } from "../../../src/application/ports/index.js";
import type { BlockID, OrganizationID } from "../../../src/domain/ids.js";

/**
 * RAID1 and RAID5 block stores over REAL S3 servers, with node faults.
 *
 * Each of the three nodes is its own `s3rver` on 127.0.0.1, with its own port and its own folder. A node can be put
 * in one of these states, always on the same port, so that the RAID's S3 clients (built once) reach whatever is
 * there now:
 * - `up`: an s3rver on the node's folder. Restarting it on the same port and folder shows that the data survived.
 * - `stopped`: nothing listens (connections are refused).
 * - `errors`: a plain HTTP server that answers 500 `InternalError` to every request.
 * - `hanging`: a TCP server that accepts connections and never answers.
 * - `stalling`: an HTTP server that sends the headers and a few bytes of a 200 answer and then nothing.
 *
 * The nodes are wrapped as the composition root wraps them (`TimeoutBlockStore`), with short bounds: 300 ms per S3
 * request, 1 s per call.
 *
 * Covered:
 * 1. RAID1 and RAID5 with any one node stopped, answering errors, hanging or stalling: 4 KiB and 512 KiB blocks of
 *    random bytes read back byte-identical, each read within a few seconds (a liveness bound, not a performance
 *    one), and the failing node is reported through `onNodeError`, naming the node and its bucket. Also with S3
 *    requests bounded by 10 s (as in production): the 1 s call bound cuts off the silent node. A RAID1 creation
 *    with one node faulty fails within bounds, naming the node.
 * 1b. One S3 node (no call bound around it) whose answer stalls after the headers fails the read within its request
 *    bound and closes the connection (regression: the S3 client's request timeout stopped counting once the headers
 *    were in, so such a read never ended and held its socket for good; `S3BlockStore` now also bounds socket
 *    inactivity).
 * 2. RAID5 with two nodes down (stopped, or hanging and erroring): reads fail with a `BlockStoreError`, so do new
 *    writes and the retry of an earlier write; all within bounds. Once the nodes are back (s3rver restarted on the
 *    same port and folder), every block written before reads back identical and every node's object is still exactly
 *    the chunk (or parity) written at first; the failed write, retried, succeeds.
 */

const ORG = "FaultOrg" as OrganizationID;
const REGION = "us-east-1";
const BUCKETS = ["raid1", "raid5"] as const;
/** S3 request bound of the nodes (short, so that the tests are quick). */
const REQUEST_TIMEOUT_MS = 300;
/** Call bound of each node (compose uses 15 s). */
const CALL_TIMEOUT_MS = 1_000;
/** Liveness bound of every read or write below: generous, it only tells a bounded answer from a hang. */
const LIVENESS_MS = 4_000;

const newBlockId = (): BlockID => randomBytes(16).toString("hex") as BlockID;

type NodeState = "up" | "stopped" | "errors" | "hanging" | "stalling";
type Fault = Exclude<NodeState, "up">;

const listen = (server: HttpServer | TcpServer, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });

const closeHttp = async (server: HttpServer): Promise<void> => {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
};

/** A node of the RAID: one port on 127.0.0.1, one folder, and whatever listens on that port now. */
class S3Node {
  readonly directory = mkdtempSync(join(tmpdir(), "parsec-raid-faults-"));
  port = 0;
  state: NodeState = "stopped";
  private closeCurrent: (() => Promise<void>) | null = null;
  /** Connections open to the stalling server, while the node is `stalling`. */
  private countConnections: (() => Promise<number>) | null = null;

  constructor(readonly index: number) {}

  get endpointUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** How many connections are open to the node now. */
  openConnections(): Promise<number> {
    if (!this.countConnections) throw new Error(`node ${this.index} is ${this.state}: nothing counts its connections`);
    return this.countConnections();
  }

  /** Replaces what listens on the node's port (the first `up` picks the port). */
  async become(state: NodeState): Promise<void> {
    await this.closeCurrent?.();
    this.closeCurrent = null;
    this.countConnections = null;
    this.state = "stopped";
    switch (state) {
      case "stopped":
        break;
      case "up": {
        const server = new S3rver({ address: "127.0.0.1", port: this.port, silent: true, directory: this.directory, configureBuckets: BUCKETS.map((name) => ({ name })) });
        const { port } = await server.run();
        if (this.port !== 0) expect(port).toBe(this.port);
        this.port = port;
        // s3rver's close() waits for open (kept-alive) connections: cut them, as a stopped process would.
        const http = (server as unknown as { httpServer: HttpServer }).httpServer;
        this.closeCurrent = async () => {
          const closed = server.close();
          http.closeAllConnections();
          await closed;
        };
        break;
      }
      case "errors": {
        const server = createHttpServer((req, res) => {
          req.resume();
          res.writeHead(500, { "content-type": "application/xml" });
          res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>');
        });
        await listen(server, this.port);
        this.closeCurrent = () => closeHttp(server);
        break;
      }
      case "hanging": {
        const sockets = new Set<Socket>();
        const server = createTcpServer((socket) => {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
          socket.on("error", () => undefined);
        });
        await listen(server, this.port);
        this.closeCurrent = async () => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          for (const socket of sockets) socket.destroy();
          await closed;
        };
        break;
      }
      case "stalling": {
        const server = createHttpServer((req, res) => {
          req.resume();
          res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(1024 * 1024) });
          res.write(Buffer.alloc(1024, 7));
        });
        await listen(server, this.port);
        this.closeCurrent = () => closeHttp(server);
        this.countConnections = () => new Promise((resolve, reject) => server.getConnections((err, count) => (err ? reject(err) : resolve(count))));
        break;
      }
    }
    this.state = state;
  }

  async dispose(): Promise<void> {
    await this.closeCurrent?.();
    this.closeCurrent = null;
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** Runs `work`, bounded by twice {@link LIVENESS_MS} (so that a hang fails the test), and tells how long it took. */
const timed = async <T>(work: () => Promise<T>): Promise<{ readonly outcome: { ok: true; value: T } | { ok: false; error: unknown }; readonly ms: number }> => {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    work().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${2 * LIVENESS_MS} ms`)), 2 * LIVENESS_MS))),
  ]).finally(() => clearTimeout(timer));
  return { outcome, ms: performance.now() - started };
};

/** `work`'s value, which must come within {@link LIVENESS_MS}. */
const answersInTime = async <T>(work: () => Promise<T>): Promise<T> => {
  const { outcome, ms } = await timed(work);
  expect(ms).toBeLessThan(LIVENESS_MS);
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
};

/** The error `work` fails with, which must be a {@link BlockStoreError} and come within {@link LIVENESS_MS}. */
const failsInTime = async (work: () => Promise<unknown>): Promise<BlockStoreError> => {
  const { outcome, ms } = await timed(work);
  expect(ms).toBeLessThan(LIVENESS_MS);
  expect(outcome.ok).toBe(false);
  const error = (outcome as { error: unknown }).error;
  expect(error).toBeInstanceOf(BlockStoreError);
  return error as BlockStoreError;
};

/** The exact bytes, compared without printing half a megabyte on failure. */
const expectSameBytes = (actual: Buffer | null | undefined, expected: Buffer): void => {
  expect(actual).toBeInstanceOf(Buffer);
  expect(actual!.length).toBe(expected.length);
  expect(Buffer.compare(actual!, expected)).toBe(0);
};

describe("RAID1 and RAID5 over three real S3 servers (s3rver), with node faults", () => {
  const nodes = [new S3Node(0), new S3Node(1), new S3Node(2)];
  const clients: S3BlockStore[] = [];
  /** Failures the RAIDs reported, as `<RAID> <node> <operation>: <message>`. */
  const reports: { readonly raid: "RAID1" | "RAID5"; readonly node: number; readonly operation: string; readonly message: string }[] = [];

  const s3 = (node: S3Node, bucket: string, requestTimeoutMs = REQUEST_TIMEOUT_MS): S3BlockStore => {
    const client = new S3BlockStore({
      endpointUrl: node.endpointUrl,
      region: REGION,
      bucket,
      accessKeyId: "S3RVER",
      secretAccessKey: "raid-faults-secret",
      requestTimeoutMs,
    });
    clients.push(client);
    return client;
  };
  /** The nodes of a RAID on `bucket`, each bounded as compose bounds them. */
  const raidNodes = (bucket: string, requestTimeoutMs = REQUEST_TIMEOUT_MS): BlockStore[] =>
    nodes.map((node) => new TimeoutBlockStore(s3(node, bucket, requestTimeoutMs), CALL_TIMEOUT_MS));

  let raid1: Raid1BlockStore;
  let raid5: Raid5BlockStore;
  /** The same RAIDs with S3 requests bounded by 10 s, as in production: only the call bound cuts off a silent node. */
  let slowRaid1: Raid1BlockStore;
  let slowRaid5: Raid5BlockStore;
  /** Each node's bucket `raid5` straight, to check the chunks themselves. */
  let raid5Raw: S3BlockStore[];

  const report = (raid: "RAID1" | "RAID5") => (node: number, operation: string, err: BlockStoreError) => void reports.push({ raid, node, operation, message: err.message });

  /** The blocks written while every node was up, by RAID. */
  const blocks: Record<"RAID1" | "RAID5", { readonly id: BlockID; readonly payload: Buffer }[]> = { RAID1: [], RAID5: [] };
  const store = (raid: "RAID1" | "RAID5", slow = false): BlockStore => (raid === "RAID1" ? (slow ? slowRaid1 : raid1) : slow ? slowRaid5 : raid5);

  /** Every RAID5 block of {@link blocks} is intact: read through the RAID, and chunk by chunk on every node. */
  const expectRaid5BlocksIntact = async (): Promise<void> => {
    for (const { id, payload } of blocks.RAID5) {
      expectSameBytes(await answersInTime(() => raid5.read(ORG, id)), payload);
      const chunks = splitIntoChunks(payload, nodes.length - 1);
      const pieces = [...chunks, xorChunks(chunks)];
      for (const [index, raw] of raid5Raw.entries()) expectSameBytes(await raw.read(ORG, id), pieces[index]!);
    }
  };

  beforeAll(async () => {
    for (const node of nodes) await node.become("up");
    expect(new Set(nodes.map((n) => n.port)).size).toBe(3);
    raid1 = new Raid1BlockStore(raidNodes("raid1"), { onNodeError: report("RAID1") });
    raid5 = new Raid5BlockStore(raidNodes("raid5"), { onNodeError: report("RAID5") });
    slowRaid1 = new Raid1BlockStore(raidNodes("raid1", 10_000), { onNodeError: report("RAID1") });
    slowRaid5 = new Raid5BlockStore(raidNodes("raid5", 10_000), { onNodeError: report("RAID5") });
    raid5Raw = nodes.map((node) => s3(node, "raid5", 2_000));
    for (const raid of ["RAID1", "RAID5"] as const) {
      for (const size of [4 * 1024, 512 * 1024]) {
        const block = { id: newBlockId(), payload: randomBytes(size) };
        await store(raid).create(ORG, block.id, block.payload);
        blocks[raid].push(block);
      }
    }
    // RAID1 mirrors: every node holds the whole block; RAID5: every node holds its piece.
    for (const { id, payload } of blocks.RAID1) for (const node of nodes) expectSameBytes(await s3(node, "raid1", 2_000).read(ORG, id), payload);
    await expectRaid5BlocksIntact();
    expect(reports).toEqual([]);
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await Promise.allSettled(nodes.map((node) => node.dispose()));
  });

  const FAULTS: readonly Fault[] = ["stopped", "errors", "hanging", "stalling"];
  const CASES = (["RAID1", "RAID5"] as const).flatMap((raid) => FAULTS.flatMap((fault) => [0, 1, 2].map((down) => ({ raid, fault, down }))));

  for (const { raid, fault, down } of CASES) {
    it(`${raid} with node ${down} ${fault}: 4 KiB and 512 KiB blocks read back identical, each read within bounds`, async () => {
      reports.length = 0;
      const node = nodes[down]!;
      await node.become(fault);
      try {
        for (const { id, payload } of blocks[raid]) expectSameBytes(await answersInTime(() => store(raid).read(ORG, id)), payload);
        if (raid === "RAID5" && down === nodes.length - 1) {
          // The parity node is only asked when a data node fails: nothing to work around.
          expect(reports).toEqual([]);
        } else {
          // RAID1 answers with the first payload: the faulty node's failure may come after.
          await vi.waitFor(() => expect(reports.length).toBeGreaterThanOrEqual(blocks[raid].length), { timeout: LIVENESS_MS, interval: 20 });
          if (raid === "RAID5") expect(reports).toHaveLength(blocks[raid].length);
          for (const r of reports) {
            expect(r).toMatchObject({ raid, node: down, operation: "read" });
            expect(r.message).toContain(`${raid} node ${down}: `);
            // The node's own S3 bounds (300 ms) answer before the 1 s call bound, a stalled body included.
            expect(r.message).toContain(`S3 bucket ${raid.toLowerCase()} at ${node.endpointUrl}: read failed`);
            expect(r.message).not.toContain("raid-faults-secret");
          }
        }
      } finally {
        await node.become("up");
      }
      // Back up on the same port and folder: it serves its data again.
      const direct = s3(node, raid.toLowerCase(), 2_000);
      for (const { id, payload } of blocks[raid]) {
        const chunks = splitIntoChunks(payload, nodes.length - 1);
        expectSameBytes(await direct.read(ORG, id), raid === "RAID1" ? payload : [...chunks, xorChunks(chunks)][down]!);
      }
    });
  }

  for (const { raid, fault } of (["RAID1", "RAID5"] as const).flatMap((raid) => (["hanging", "stalling"] as const).map((fault) => ({ raid, fault })))) {
    it(`${raid} with node 0 ${fault} and S3 requests bounded by 10 s: the 1 s call bound cuts the node off, reads are identical and bounded`, async () => {
      reports.length = 0;
      await nodes[0]!.become(fault);
      try {
        for (const { id, payload } of blocks[raid]) expectSameBytes(await answersInTime(() => store(raid, true).read(ORG, id)), payload);
        await vi.waitFor(() => expect(reports.length).toBeGreaterThanOrEqual(blocks[raid].length), { timeout: LIVENESS_MS, interval: 20 });
        for (const r of reports) expect(r).toMatchObject({ raid, node: 0, operation: "read", message: `${raid} node 0: read not answered within 1 s` });
      } finally {
        await nodes[0]!.become("up");
      }
    });
  }

  it("an S3 node whose answer stalls after the headers fails a read within its request bound, without a call bound, and lets go of the connection", async () => {
    const node = nodes[2]!;
    await node.become("stalling");
    try {
      // Straight on the node: no TimeoutBlockStore around it. 1.5 s per request: the headers come well within it, the
      // body never does (before the fix, this read never ended).
      const direct = s3(node, "raid5", 1_500);
      const error = await failsInTime(() => direct.read(ORG, blocks.RAID5[0]!.id));
      expect(error.message).toMatch(new RegExp(`^S3 bucket raid5 at ${node.endpointUrl}: read failed: `));
      await vi.waitFor(async () => expect(await node.openConnections()).toBe(0), { timeout: 2_000, interval: 20 });
    } finally {
      await node.become("up");
    }
  });

  it("RAID1 with one node faulty fails a creation within bounds, naming the node (partialCreateOk is off)", async () => {
    for (const fault of FAULTS) {
      reports.length = 0;
      await nodes[1]!.become(fault);
      try {
        const error = await failsInTime(() => raid1.create(ORG, newBlockId(), randomBytes(4096)));
        expect(error.message).toMatch(/^RAID1: RAID1 node 1: /);
        expect(reports.map((r) => [r.node, r.operation])).toEqual([[1, "create"]]);
      } finally {
        await nodes[1]!.become("up");
      }
    }
  });

  const PAIRS: readonly { readonly faults: readonly [number, Fault][] }[] = [
    { faults: [[0, "stopped"], [1, "stopped"]] },
    { faults: [[0, "stopped"], [2, "stopped"]] },
    { faults: [[1, "stopped"], [2, "stopped"]] },
    { faults: [[0, "hanging"], [2, "errors"]] },
    { faults: [[1, "stalling"], [0, "errors"]] },
  ];

  for (const { faults } of PAIRS) {
    it(`RAID5 with ${faults.map(([n, f]) => `node ${n} ${f}`).join(" and ")}: reads and writes fail within bounds; once back, every earlier block is intact and the failed write succeeds when retried`, async () => {
      const fresh = { id: newBlockId(), payload: randomBytes(512 * 1024) };
      try {
        for (const [index, fault] of faults) await nodes[index]!.become(fault);
        for (const { id } of blocks.RAID5) {
          const error = await failsInTime(() => raid5.read(ORG, id));
          expect(error.message).toMatch(/^RAID5: 2 nodes failed/);
        }
        // A new block, and the retry of an earlier one (same id, same bytes, as a client retries): both refused.
        await failsInTime(() => raid5.create(ORG, fresh.id, fresh.payload));
        const earlier = blocks.RAID5[0]!;
        await failsInTime(() => raid5.create(ORG, earlier.id, earlier.payload));
      } finally {
        for (const [index] of faults) await nodes[index]!.become("up");
      }
      // s3rver restarted on the same port and folder: nothing written before was damaged.
      await expectRaid5BlocksIntact();
      await answersInTime(() => raid5.create(ORG, fresh.id, fresh.payload));
      expectSameBytes(await answersInTime(() => raid5.read(ORG, fresh.id)), fresh.payload);
    });
  }

  it("RAID5 with every node restarted on its port and folder reads every earlier block identical", async () => {
    for (const node of nodes) await node.become("stopped");
    await failsInTime(() => raid5.read(ORG, blocks.RAID5[0]!.id));
    for (const node of nodes) await node.become("up");
    await expectRaid5BlocksIntact();
    for (const { id, payload } of blocks.RAID1) expectSameBytes(await answersInTime(() => raid1.read(ORG, id)), payload);
  });
});
