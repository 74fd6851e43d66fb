import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  applyMigrations,
  checkSchema,
  connectDatabase,
  DatabaseUnreachableError,
  DEFAULT_MIGRATIONS_DIRECTORY,
  inspectMigrations,
  loadMigrations,
  MigrationDirectoryError,
  type MigrationEvent,
} from "../../../src/adapters/persistence/postgres/index.js";
import { freeLocalPort } from "../../../scripts/local-postgres.js";
import { adminQuery, createTestDatabase, dropTestDatabase } from "../../support/postgres.js";

const directories: string[] = [];

/** A fresh directory holding `files` (name → SQL). */
function migrationDirectory(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), "parsec-migrations-"));
  directories.push(directory);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(directory, name), sql);
  return directory;
}

const THREE = {
  "0001_organization.sql": "CREATE TABLE organization (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE);\n",
  "0002_user.sql": "CREATE TABLE human (id bigint PRIMARY KEY, organization bigint NOT NULL REFERENCES organization (id));\nCREATE INDEX ON human (organization);\n",
  "0010_device.sql": "CREATE TABLE device (id bigint PRIMARY KEY, human bigint NOT NULL REFERENCES human (id));\n",
  "README.md": "not a migration",
};

let database: { name: string; url: string };
let client: pg.Client;

beforeEach(async () => {
  database = await createTestDatabase({ migrated: false });
  client = await connectDatabase(database.url);
});

afterEach(async () => {
  await client.end();
  await dropTestDatabase(database.name);
});

afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const tables = async (): Promise<string[]> =>
  (await adminQuery("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", [], database.name)).rows.map((row: { tablename: string }) => row.tablename);

const records = async (): Promise<{ id: number; name: string; checksum: string }[]> =>
  (await adminQuery("SELECT id, name, checksum FROM schema_migration ORDER BY id", [], database.name)).rows;

const names = (migrations: readonly { fileName: string }[]) => migrations.map((migration) => migration.fileName);

describe("loadMigrations", () => {
  it("reads the .sql files in numeric order with the SHA-256 of their bytes", async () => {
    const migrations = await loadMigrations(migrationDirectory(THREE));
    expect(migrations.map(({ id, name }) => [id, name])).toEqual([
      [1, "organization"],
      [2, "user"],
      [10, "device"],
    ]);
    expect(migrations[0]?.checksum).toBe(createHash("sha256").update(THREE["0001_organization.sql"]).digest("hex"));
  });

  it("accepts the repository's migrations directory, even without any migration", async () => {
    await expect(loadMigrations(DEFAULT_MIGRATIONS_DIRECTORY)).resolves.toBeInstanceOf(Array);
    await expect(loadMigrations(migrationDirectory({}))).resolves.toEqual([]);
  });

  it.each([
    ["a badly named file", { "0001_init.sql": "SELECT 1;", "1_second.sql": "SELECT 2;" }, /1_second\.sql: not a migration name/],
    ["an upper-case name", { "0001_Init.sql": "SELECT 1;" }, /0001_Init\.sql: not a migration name/],
    ["a duplicate number", { "0001_init.sql": "SELECT 1;", "0001_again.sql": "SELECT 2;" }, /0001_init\.sql: number 0001 is also used by 0001_again\.sql/],
    ["an empty file", { "0001_init.sql": "SELECT 1;", "0002_nothing.sql": " \n\t\n" }, /0002_nothing\.sql: empty file/],
  ])("refuses %s, naming the file", async (_, files, message) => {
    const directory = migrationDirectory(files);
    const error = await loadMigrations(directory).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationDirectoryError);
    expect((error as Error).message).toMatch(message);
    await expect(applyMigrations(client, { directory })).rejects.toThrow(message);
    expect(await tables()).toEqual([]);
  });

  it("refuses a directory that does not exist", async () => {
    await expect(loadMigrations(join(tmpdir(), "parsec-no-such-directory"))).rejects.toThrow(/parsec-no-such-directory.*cannot read the directory/s);
  });
});

describe("applyMigrations", () => {
  it("applies every migration of an empty database in order, then has nothing to apply", async () => {
    const directory = migrationDirectory(THREE);
    const events: MigrationEvent[] = [];
    const outcome = await applyMigrations(client, { directory, onEvent: (event) => events.push(event) });
    expect(outcome.kind).toBe("ok");
    expect(outcome.kind === "ok" && names(outcome.migrations)).toEqual(["0001_organization.sql", "0002_user.sql", "0010_device.sql"]);
    expect(events.filter((event) => event.kind === "applied").map((event) => event.kind === "applied" && event.migration.fileName)).toEqual([
      "0001_organization.sql",
      "0002_user.sql",
      "0010_device.sql",
    ]);
    expect(await tables()).toEqual(["device", "human", "organization", "schema_migration"]);
    const files = await loadMigrations(directory);
    expect(await records()).toEqual(files.map(({ id, name, checksum }) => ({ id, name, checksum })));

    expect(await applyMigrations(client, { directory })).toEqual({ kind: "ok", dryRun: false, migrations: [] });
    expect(await checkSchema(client, { directory })).toEqual({ ok: true });
    const status = await inspectMigrations(client, { directory });
    expect(status.pending).toEqual([]);
    expect(status.unknown).toEqual([]);
    expect(status.applied.map((entry) => [entry.file.fileName, entry.altered])).toEqual([
      ["0001_organization.sql", false],
      ["0002_user.sql", false],
      ["0010_device.sql", false],
    ]);
    expect(status.applied[0]?.record.appliedOn).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it("applies only the migrations added since the last run", async () => {
    await applyMigrations(client, { directory: migrationDirectory({ "0001_organization.sql": THREE["0001_organization.sql"] }) });
    const outcome = await applyMigrations(client, { directory: migrationDirectory(THREE) });
    expect(outcome.kind === "ok" && names(outcome.migrations)).toEqual(["0002_user.sql", "0010_device.sql"]);
  });

  it("changes nothing on a dry run, not even creating schema_migration, and says what it would apply", async () => {
    const directory = migrationDirectory(THREE);
    const outcome = await applyMigrations(client, { directory, dryRun: true });
    expect(outcome.kind === "ok" && outcome.dryRun && names(outcome.migrations)).toEqual(["0001_organization.sql", "0002_user.sql", "0010_device.sql"]);
    expect(await tables()).toEqual([]);

    await applyMigrations(client, { directory: migrationDirectory({ "0001_organization.sql": THREE["0001_organization.sql"] }) });
    const before = await records();
    const second = await applyMigrations(client, { directory, dryRun: true });
    expect(second.kind === "ok" && names(second.migrations)).toEqual(["0002_user.sql", "0010_device.sql"]);
    expect(await tables()).toEqual(["organization", "schema_migration"]);
    expect(await records()).toEqual(before);
  });

  it("refuses to apply anything while an applied migration was altered, and checkSchema reports it", async () => {
    await applyMigrations(client, { directory: migrationDirectory({ "0001_organization.sql": THREE["0001_organization.sql"] }) });
    const altered = migrationDirectory({ ...THREE, "0001_organization.sql": `${THREE["0001_organization.sql"]}-- edited\n` });

    const outcome = await applyMigrations(client, { directory: altered });
    expect(outcome.kind).toBe("refused");
    expect(outcome.kind === "refused" && outcome.message).toMatch(/0001_organization\.sql was altered after it was applied/);
    expect((await applyMigrations(client, { directory: altered, dryRun: true })).kind).toBe("refused");
    expect(await tables()).toEqual(["organization", "schema_migration"]);

    const status = await inspectMigrations(client, { directory: altered });
    expect(status.applied.map((entry) => entry.altered)).toEqual([true]);
    const check = await checkSchema(client, { directory: altered });
    expect(check.ok).toBe(false);
    expect(!check.ok && check.error).toMatch(/0001_organization\.sql was altered/);
    expect(!check.ok && check.error).toMatch(/not applied yet: 0002_user\.sql, 0010_device\.sql/);
    expect(!check.ok && check.error).toContain("parsec backend migrate --db <url>");
  });

  it("refuses a renamed migration", async () => {
    await applyMigrations(client, { directory: migrationDirectory({ "0001_organization.sql": THREE["0001_organization.sql"] }) });
    const outcome = await applyMigrations(client, { directory: migrationDirectory({ "0001_organisation.sql": THREE["0001_organization.sql"] }) });
    expect(outcome.kind === "refused" && outcome.message).toMatch(/0001_organisation\.sql was applied as 0001_organization\.sql/);
  });

  it("refuses to apply anything while a recorded migration has no file, and checkSchema reports it", async () => {
    await applyMigrations(client, { directory: migrationDirectory(THREE) });
    const older = migrationDirectory({ "0001_organization.sql": THREE["0001_organization.sql"], "0002_user.sql": THREE["0002_user.sql"] });
    const outcome = await applyMigrations(client, { directory: older });
    expect(outcome.kind === "refused" && outcome.message).toMatch(/0010_device\.sql was applied on .* but has no file in /);
    const status = await inspectMigrations(client, { directory: older });
    expect(status.unknown.map((record) => record.id)).toEqual([10]);
    const check = await checkSchema(client, { directory: older });
    expect(!check.ok && check.error).toMatch(/0010_device\.sql was applied on .* but has no file/);
    expect(!check.ok && check.error).toContain("parsec backend migrate --db <url>");
  });

  it("refuses a pending migration numbered below an applied one", async () => {
    await applyMigrations(client, { directory: migrationDirectory({ "0001_organization.sql": THREE["0001_organization.sql"], "0010_device.sql": "CREATE TABLE device (id bigint);" }) });
    const outcome = await applyMigrations(client, { directory: migrationDirectory({ ...THREE, "0010_device.sql": "CREATE TABLE device (id bigint);" }) });
    expect(outcome.kind === "refused" && outcome.message).toMatch(/0002_user\.sql is not applied but is numbered below the latest applied migration \(0010\)/);
  });

  it("stops at a failing migration: names the file and PostgreSQL's error, keeps the earlier ones, records nothing of it", async () => {
    const directory = migrationDirectory({
      "0001_organization.sql": THREE["0001_organization.sql"],
      "0002_user.sql": "CREATE TABLE human (id bigint PRIMARY KEY);\n\nCREATE TABLE broken (id bigint REFERENCES nowhere (id));\n",
      "0003_device.sql": "CREATE TABLE device (id bigint PRIMARY KEY);\n",
    });
    const outcome = await applyMigrations(client, { directory });
    expect(outcome.kind).toBe("failed");
    if (outcome.kind !== "failed") return;
    expect(outcome.migration.fileName).toBe("0002_user.sql");
    expect(names(outcome.applied)).toEqual(["0001_organization.sql"]);
    expect(outcome.message).toMatch(/^Migration 0002_user\.sql failed and was rolled back: relation "nowhere" does not exist \(SQLSTATE 42P01\)/);
    expect(await tables()).toEqual(["organization", "schema_migration"]);
    expect((await records()).map((record) => record.name)).toEqual(["organization"]);
    expect((await checkSchema(client, { directory })).ok).toBe(false);
  });

  it("gives the line of a syntax error", async () => {
    const outcome = await applyMigrations(client, { directory: migrationDirectory({ "0001_typo.sql": "-- a comment\nCREATE TABLE a (id int);\nCREAT TABLE b (id int);\n" }) });
    expect(outcome.kind === "failed" && outcome.message).toMatch(/0001_typo\.sql failed .*syntax error at or near "CREAT" \(SQLSTATE 42601, line 3\)/);
    expect(await tables()).toEqual(["schema_migration"]);
  });

  it("refuses a migration that ends the runner's transaction", async () => {
    const outcome = await applyMigrations(client, { directory: migrationDirectory({ "0001_commits.sql": "CREATE TABLE a (id int);\nCOMMIT;\n" }) });
    expect(outcome.kind === "failed" && outcome.message).toMatch(/0001_commits\.sql failed .*ends the transaction/);
    expect(await records()).toEqual([]);
  });

  it("keeps schema_migration in the session's schema when a migration changes search_path", async () => {
    const directory = migrationDirectory({ "0001_schema.sql": "CREATE SCHEMA parsec;\nSET search_path = parsec;\n", "0002_table.sql": "CREATE TABLE organization (id int);\n" });
    expect((await applyMigrations(client, { directory })).kind).toBe("ok");
    expect((await records()).map((record) => record.id)).toEqual([1, 2]);
    expect(await tables()).toEqual(["schema_migration"]);
  });

  it("applies each migration once when two runs race on one database", async () => {
    const directory = migrationDirectory({
      "0001_slow.sql": "CREATE TABLE slow (id int);\nSELECT pg_sleep(0.3);\n",
      "0002_user.sql": "CREATE TABLE human (id int);\n",
      "0003_device.sql": "CREATE TABLE device (id int);\n",
    });
    const other = await connectDatabase(database.url);
    try {
      const waited: string[] = [];
      const outcomes = await Promise.all([
        applyMigrations(client, { directory, onEvent: (event) => event.kind === "waiting_for_lock" && waited.push("a") }),
        applyMigrations(other, { directory, onEvent: (event) => event.kind === "waiting_for_lock" && waited.push("b") }),
      ]);
      expect(outcomes.map((outcome) => outcome.kind)).toEqual(["ok", "ok"]);
      const applied = outcomes.flatMap((outcome) => (outcome.kind === "ok" ? names(outcome.migrations) : []));
      expect(applied.sort()).toEqual(["0001_slow.sql", "0002_user.sql", "0003_device.sql"]);
      expect(waited).toHaveLength(1);
      expect((await records()).map((record) => record.id)).toEqual([1, 2, 3]);
    } finally {
      await other.end();
    }
  });
});

describe("the test template database", () => {
  it("is at the schema of the repository's migrations", async () => {
    const copy = await createTestDatabase();
    const session = await connectDatabase(copy.url);
    try {
      expect(await checkSchema(session)).toEqual({ ok: true });
    } finally {
      await session.end();
      await dropTestDatabase(copy.name);
    }
  });
});

describe("connectDatabase", () => {
  it("reports a closed port with host:port and the cause", async () => {
    const port = await freeLocalPort();
    const error = await connectDatabase(`postgresql://parsec@127.0.0.1:${port}/parsec`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseUnreachableError);
    expect((error as Error).message).toBe(`cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused`);
  });

  it("gives up on a server that never answers within the timeout", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    try {
      const started = Date.now();
      await expect(connectDatabase(`postgresql://parsec@127.0.0.1:${port}/parsec`, { connectionTimeoutMs: 300 })).rejects.toThrow(
        `cannot connect to PostgreSQL at 127.0.0.1:${port}: no answer within 0.3 s`,
      );
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("reports PostgreSQL's refusal of an unknown database", async () => {
    const url = new URL(database.url);
    url.pathname = "/no_such_database";
    await expect(connectDatabase(url.toString())).rejects.toThrow(/^cannot connect to PostgreSQL at 127\.0\.0\.1:\d+: database "no_such_database" does not exist$/);
  });
});
