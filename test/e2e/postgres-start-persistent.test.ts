import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeLocalPort } from "../../scripts/local-postgres.js";

/**
 * `npm run start:persistent` (scripts/start-persistent.ts) as a process: the superuser password on no command line,
 * the server and PostgreSQL stopped by a SIGTERM to the script or to npm, the data kept across restarts, a stale
 * `postmaster.pid` ignored, and a cluster still running from the data folder reported. Linux only (reads /proc).
 * Named `postgres-*` so that the `e2e-postgresql` project does not run it a second time.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const TOKEN = "s3cr3t";

/** The environment of the test runner without its PARSEC_* settings nor npm's variables (no npm runs the script). */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PARSEC_") && !name.startsWith("npm_")));

interface Launched {
  readonly child: ChildProcess;
  output: string;
  readonly exited: Promise<number | string>;
}

const launched: Launched[] = [];

const launch = (command: string, args: string[], env: Record<string, string>): Launched => {
  const child = spawn(command, args, { cwd: root, env: { ...cleanEnv, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const proc: Launched = {
    child,
    output: "",
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1))),
  };
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (proc.output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (proc.output += chunk));
  launched.push(proc);
  return proc;
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie has exited: it only waits for its parent to read its status.
  return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
};

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
};

/** Every process descending from `pid`, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const child of children.get(parent) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, proc?: Launched): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let exit: number | string | undefined;
  void proc?.exited.then((code) => (exit = code));
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (exit !== undefined) throw new Error(`exited (${exit}) before ${what}:\n${proc?.output}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${proc?.output ?? ""}`);
    await sleep(100);
  }
}

const adminFetch = (port: number, path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${port}/administration${path}`, { ...init, headers: { Authorization: `Bearer ${TOKEN}` } });

describe.skipIf(process.platform !== "linux")("npm run start:persistent", () => {
  let base: string;
  let dataDir: string;
  let pgPort: number;
  let serverPort: number;
  let stalePidFile: string;
  const pids: number[] = [];

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), "parsec-start-persistent-"));
    chmodSync(base, 0o755); // as root, PostgreSQL runs as `postgres`, which must reach the data folder
    dataDir = join(base, "postgresql");
    stalePidFile = join(base, "postmaster.pid.saved");
    pgPort = await freeLocalPort();
    serverPort = await freeLocalPort();
  });

  afterAll(async () => {
    for (const proc of launched) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
    for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    await sleep(200);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  const env = () => ({ PARSEC_DATA_DIR: base, PARSEC_LOCAL_PG_PORT: String(pgPort) });

  /** Waits until the server answers, then returns the PIDs of the server and of the postmaster. */
  async function started(proc: Launched): Promise<{ server: number; postmaster: number }> {
    await until("an answer of the server", 45_000, async () => ((await fetch(`http://127.0.0.1:${serverPort}/`).catch(() => null)) ? true : undefined), proc);
    const server = descendants(proc.child.pid!).find((pid) => cmdline(pid).includes("bin/parsec.js backend run"));
    const postmaster = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    expect(server).toBeDefined();
    expect(cmdline(postmaster)).toContain(`-D ${dataDir}`);
    pids.push(server!, postmaster);
    return { server: server!, postmaster };
  }

  it("runs the server with no password on any command line, and stops it and PostgreSQL on SIGTERM", { timeout: 60_000 }, async () => {
    const proc = launch(process.execPath, ["--import", "tsx", "scripts/start-persistent.ts", "--", "--port", String(serverPort)], env());
    const { server, postmaster } = await started(proc);

    const password = readFileSync(`${dataDir}.password`, "utf8").trim();
    expect(password.length).toBeGreaterThan(8);
    for (const pid of [proc.child.pid!, ...descendants(proc.child.pid!)]) expect(cmdline(pid)).not.toContain(password);
    expect(cmdline(server)).toContain(`--port ${serverPort}`);
    expect(readFileSync(`/proc/${server}/environ`, "utf8").split("\0")).toContain(`PARSEC_DB=postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/parsec`);

    const created = await adminFetch(serverPort, "/organizations", { method: "POST", body: JSON.stringify({ organization_id: "Persistent" }) });
    expect(created.status).toBe(200);
    copyFileSync(join(dataDir, "postmaster.pid"), stalePidFile);

    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(alive(server)).toBe(false);
    expect(alive(postmaster)).toBe(false);
    expect(existsSync(join(dataDir, "postmaster.pid"))).toBe(false);
  });

  it("starts again through npm despite a stale postmaster.pid, with the same data, refuses a second run, and stops when npm gets SIGTERM", { timeout: 60_000 }, async () => {
    // The pid file of the stopped run: its postmaster is gone.
    copyFileSync(stalePidFile, join(dataDir, "postmaster.pid"));
    const owner = statSync(dataDir);
    chownSync(join(dataDir, "postmaster.pid"), owner.uid, owner.gid);
    const proc = launch("npm", ["run", "start:persistent", "--", "--port", String(serverPort)], env());
    const { server, postmaster } = await started(proc);
    expect((await adminFetch(serverPort, "/organizations/Persistent")).status).toBe(200);
    const password = readFileSync(`${dataDir}.password`, "utf8").trim();
    for (const pid of [proc.child.pid!, ...descendants(proc.child.pid!)]) expect(cmdline(pid)).not.toContain(password);

    // A second start on the same data folder, while this one runs: a clear error, nothing touched.
    const otherPort = await freeLocalPort();
    const second = launch(process.execPath, ["--import", "tsx", "scripts/start-persistent.ts", "--", "--port", String(otherPort)], {
      ...env(),
      PARSEC_LOCAL_PG_PORT: String(await freeLocalPort()),
    });
    expect(await second.exited).toBe(1);
    expect(second.output).toContain(`PostgreSQL is already running from ${dataDir} (PID ${postmaster})`);
    expect(alive(postmaster)).toBe(true);
    expect((await adminFetch(serverPort, "/organizations/Persistent")).status).toBe(200);

    // npm does not pass the SIGTERM on: the script notices npm is gone and stops the server and PostgreSQL.
    proc.child.kill("SIGTERM");
    await proc.exited;
    await until("the server and PostgreSQL to stop", 20_000, () => (!alive(server) && !alive(postmaster) ? true : undefined));
    expect(existsSync(join(dataDir, "postmaster.pid"))).toBe(false);
  });
});
