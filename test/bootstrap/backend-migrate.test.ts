import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadMigrations } from "../../src/adapters/persistence/postgres/index.js";
import { resolveBackendMigrateSettings, runCli, USAGE_ERROR_EXIT_CODE } from "../../src/bootstrap/cli/index.js";
import { freeLocalPort } from "../../scripts/local-postgres.js";
import { adminQuery, createTestDatabase, dropTestDatabase } from "../support/postgres.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PARSEC_")));
const directories: string[] = [];

function migrationDirectory(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), "parsec-migrations-"));
  directories.push(directory);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(directory, name), sql);
  return directory;
}

const TWO = {
  "0001_organization.sql": "CREATE TABLE organization (id bigint PRIMARY KEY);\n",
  "0002_user.sql": "CREATE TABLE human (id bigint PRIMARY KEY, organization bigint REFERENCES organization (id));\n",
};

async function migrate(argv: string[], options: { env?: Record<string, string>; directory?: string } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on("data", (chunk: Buffer) => err.push(chunk.toString()));
  const started = Date.now();
  const code = await runCli(["backend", "migrate", ...argv], options.env ?? {}, {
    stdout,
    stderr,
    runBackend: async () => {
      throw new Error("backend migrate must not run the server");
    },
    migrationsDirectory: options.directory,
  });
  return { code, stdout: out.join(""), stderr: err.join(""), ms: Date.now() - started };
}

/** `node bin/parsec.js <args>` in a child process. */
function parsec(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/parsec.js", ...args], { cwd: root, env: { ...cleanEnv, ...env }, encoding: "utf8", timeout: 18_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

let database: { name: string; url: string };

beforeEach(async () => {
  database = await createTestDatabase({ migrated: false });
});

afterEach(async () => {
  await dropTestDatabase(database.name);
});

afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const tables = async (): Promise<string[]> =>
  (await adminQuery("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", [], database.name)).rows.map((row: { tablename: string }) => row.tablename);

describe("parsec backend migrate", () => {
  it("applies each pending migration, printing it, then has nothing to apply", async () => {
    const directory = migrationDirectory(TWO);
    const first = await migrate([`--db=${database.url}`], { directory });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Applied 0001_organization\.sql \(\d+ ms\)\nApplied 0002_user\.sql \(\d+ ms\)\nDone: 2 migration\(s\) applied/);
    expect(await tables()).toEqual(["human", "organization", "schema_migration"]);

    const again = await migrate(["--db", database.url], { directory });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Nothing to apply/);
  });

  it("reads the database from PARSEC_DB", async () => {
    const result = await migrate([], { env: { PARSEC_DB: database.url }, directory: migrationDirectory(TWO) });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Applied 0002_user.sql");
  });

  it("lists what it would apply with --dry-run and changes nothing", async () => {
    const result = await migrate([`--db=${database.url}`, "--dry-run"], { directory: migrationDirectory(TWO) });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("Would apply 0001_organization.sql\nWould apply 0002_user.sql\nDry run: 2 migration(s) to apply, nothing was changed.\n");
    expect(await tables()).toEqual([]);
  });

  it("applies the repository's migrations by default", async () => {
    const expected = (await loadMigrations()).map((migration) => migration.fileName);
    const result = await migrate([`--db=${database.url}`]);
    expect(result.code).toBe(0);
    expect([...result.stdout.matchAll(/^Applied (\S+)/gm)].map((match) => match[1])).toEqual(expected);
    expect((await migrate([`--db=${database.url}`])).stdout).toMatch(/^Nothing to apply/);
  });

  it("exits 1 on a failing migration, naming it and quoting PostgreSQL, after printing the ones applied", async () => {
    const directory = migrationDirectory({ ...TWO, "0002_user.sql": "CREATE TABLE human (organization bigint REFERENCES nowhere (id));\n" });
    const result = await migrate([`--db=${database.url}`], { directory });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^Applied 0001_organization\.sql/);
    expect(result.stderr).toMatch(/^Error: Migration 0002_user\.sql failed and was rolled back: relation "nowhere" does not exist/);
  });

  it("exits 1 when an applied migration was altered, applying nothing", async () => {
    await migrate([`--db=${database.url}`], { directory: migrationDirectory({ "0001_organization.sql": TWO["0001_organization.sql"] }) });
    const result = await migrate([`--db=${database.url}`], { directory: migrationDirectory({ ...TWO, "0001_organization.sql": "CREATE TABLE organization (id int);\n" }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Refusing to migrate.*\n.*0001_organization\.sql was altered after it was applied/);
    expect(await tables()).toEqual(["organization", "schema_migration"]);
  });

  it("exits 1 when the database has a migration unknown to this server", async () => {
    await migrate([`--db=${database.url}`], { directory: migrationDirectory(TWO) });
    const result = await migrate([`--db=${database.url}`], { directory: migrationDirectory({ "0001_organization.sql": TWO["0001_organization.sql"] }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/0002_user\.sql was applied on .* but has no file/);
  });

  it("exits 1 on a badly named migration file, naming it", async () => {
    const result = await migrate([`--db=${database.url}`], { directory: migrationDirectory({ ...TWO, "3_device.sql": "SELECT 1;" }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: Bad migration directory .*\n\s+3_device\.sql: not a migration name/);
    expect(await tables()).toEqual([]);
  });

  it("exits 1 quickly with a one-line message when the database is unreachable", async () => {
    const port = await freeLocalPort();
    const result = await migrate([`--db=postgresql://parsec@127.0.0.1:${port}/parsec`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error: cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused\n`);
    expect(result.ms).toBeLessThan(5_000);
  });

  it.each<[string, string[], Record<string, string>, RegExp]>([
    ["no database", [], {}, /Missing setting '--db' \(or environment variable PARSEC_DB\)/],
    ["MOCKED", ["--db=MOCKED"], {}, /'--db': `MOCKED` is an in-memory database, there is nothing to migrate/],
    ["MOCKED from the environment", [], { PARSEC_DB: "mocked" }, /'--db' \(from PARSEC_DB\): `MOCKED`/],
    ["a MySQL URL", ["--db=mysql://db/parsec"], {}, /'--db': `mysql:` URLs are not supported/],
    ["a port out of range", ["--db=postgresql://postgres:pw@127.0.0.1:99999/parsec"], {}, /'--db': malformed PostgreSQL URL: port 99999 is out of range/],
    ["an unencoded # in the password", [], { PARSEC_DB: "postgresql://postgres:p#w@host/db" }, /'--db' \(from PARSEC_DB\): malformed PostgreSQL URL: .*contain a `#` \(write it `%23`\)/],
    ["a user name but no host", ["--db=postgresql://u:pw@/db?host=/sock"], {}, /'--db': malformed PostgreSQL URL: .*no host.*`postgresql:\/\/user@localhost\/db\?host=\/dir`/],
    ["a missing sslrootcert file", ["--db=postgresql://db/parsec?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"], {}, /'--db': `sslrootcert` names the file `\/nonexistent\/ca\.pem`, which does not exist/],
    ["an unknown option", ["--db=postgresql://db/parsec", "--force"], {}, /--force/],
  ])("exits 2 on %s", async (_, argv, env, message) => {
    const result = await migrate(argv, { env });
    expect(result.code).toBe(USAGE_ERROR_EXIT_CODE);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
  });

  it("is listed in the general help and has its own", async () => {
    const stdout = new PassThrough();
    const out: string[] = [];
    stdout.on("data", (chunk: Buffer) => out.push(chunk.toString()));
    expect(await runCli(["--help"], {}, { stdout, stderr: new PassThrough(), runBackend: async () => 0 })).toBe(0);
    expect(out.join("")).toMatch(/parsec backend migrate \[--db #0\] \[--dry-run\]\n\s+apply the pending database migrations/);
    const help = await migrate(["--help"]);
    expect(help.code).toBe(0);
    for (const text of ["--db", "--dry-run", "PARSEC_DB", "schema_migration"]) expect(help.stdout).toContain(text);
  });

  it("resolves its settings: the flag wins over PARSEC_DB, an empty PARSEC_DB is unset", () => {
    expect(resolveBackendMigrateSettings({ db: "postgresql://a/x" }, { PARSEC_DB: "postgresql://b/y" })).toEqual({ ok: true, settings: { url: "postgresql://a/x", dryRun: false } });
    expect(resolveBackendMigrateSettings({ dryRun: true }, { PARSEC_DB: "postgres://b/y" })).toEqual({ ok: true, settings: { url: "postgres://b/y", dryRun: true } });
    expect(resolveBackendMigrateSettings({}, { PARSEC_DB: "" }).ok).toBe(false);
  });
});

describe("the parsec backend migrate process", () => {
  it("migrates through bin/parsec.js and exits 0", async () => {
    const result = await parsec(["backend", "migrate"], { PARSEC_DB: database.url });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("exits 1 within the 10 s connection timeout when the server never answers", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    try {
      const result = await parsec(["backend", "migrate", `--db=postgresql://parsec@127.0.0.1:${port}/parsec`]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`Error: cannot connect to PostgreSQL at 127.0.0.1:${port}: no answer within 10 s\n`);
      expect(result.ms).toBeLessThan(14_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
