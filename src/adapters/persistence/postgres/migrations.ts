import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

/**
 * Schema migrations: the plain SQL files `NNNN_<name>.sql` of a directory, applied in numeric order, each in a
 * transaction of its own together with its row in `schema_migration (id, name, checksum, applied_on)`. The runner
 * owns that table (it lives in the session's current schema); migration files never touch it, and never hold
 * transaction control (`BEGIN`, `COMMIT`, `ROLLBACK`): the runner's transaction wraps each file.
 */

/** The repository's `migrations/` directory (from this module's location, whatever the working directory). */
export const DEFAULT_MIGRATIONS_DIRECTORY = fileURLToPath(new URL("../../../../migrations/", import.meta.url));

/**
 * Key of the session advisory lock (`pg_advisory_lock`) that {@link applyMigrations} holds while it works, so that
 * concurrent runs on one database apply each migration once.
 */
export const MIGRATION_LOCK_KEY = "5210428919312307303";

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** A migration file, read and validated. */
export interface MigrationFile {
  /** Its number, `NNNN` of the file name (order of application). */
  readonly id: number;
  /** `<name>` of the file name. */
  readonly name: string;
  /** `NNNN_<name>.sql`. */
  readonly fileName: string;
  /** The SQL text (UTF-8). */
  readonly sql: string;
  /** SHA-256 of the file's bytes, lowercase hexadecimal. */
  readonly checksum: string;
}

/** A row of `schema_migration`: a migration applied to the database. */
export interface MigrationRecord {
  readonly id: number;
  readonly name: string;
  readonly checksum: string;
  /** When it was applied, UTC, ISO 8601 with microseconds (`2025-01-31T12:00:00.123456Z`). */
  readonly appliedOn: string;
}

/**
 * How a database stands against the migration files, each list in numeric order:
 * - `applied`: recorded migrations that have a file of the same number; `altered` when the file's checksum or name
 *   is no longer what was recorded;
 * - `pending`: files not recorded yet;
 * - `unknown`: recorded migrations without a file (a database migrated by a newer server, or a removed file).
 */
export interface SchemaStatus {
  readonly applied: readonly { readonly file: MigrationFile; readonly record: MigrationRecord; readonly altered: boolean }[];
  readonly pending: readonly MigrationFile[];
  readonly unknown: readonly MigrationRecord[];
}

/** The migration directory cannot be used; `problems` holds one line per bad file (or the unreadable directory). */
export class MigrationDirectoryError extends Error {
  override readonly name = "MigrationDirectoryError";

  constructor(
    readonly directory: string,
    readonly problems: readonly string[],
  ) {
    super(`Bad migration directory ${directory}:\n${problems.map((problem) => `  ${problem}`).join("\n")}`);
  }
}

/** Where the migrations are (default {@link DEFAULT_MIGRATIONS_DIRECTORY}). */
export interface MigrationOptions {
  readonly directory?: string | undefined;
}

/** What {@link applyMigrations} tells while it works, e.g. to print progress. */
export type MigrationEvent =
  | { readonly kind: "waiting_for_lock" }
  | { readonly kind: "applied"; readonly migration: MigrationFile; readonly durationMs: number };

/** Options of {@link applyMigrations}. */
export interface ApplyOptions extends MigrationOptions {
  /** Change nothing (not even create `schema_migration`); report what would be applied. */
  readonly dryRun?: boolean | undefined;
  readonly onEvent?: ((event: MigrationEvent) => void) | undefined;
}

/**
 * The outcome of {@link applyMigrations}:
 * - `ok`: `migrations` were applied (or, with `dryRun`, would be), in order; empty when the schema is up to date;
 * - `refused`: nothing was applied because the database does not match the files (altered or unknown migrations, or
 *   a pending migration numbered below an applied one); `message` says which, one per line;
 * - `failed`: `migration` failed and was rolled back; `applied` are those applied before it in this run (they stay);
 *   `message` names the file and quotes PostgreSQL.
 */
export type ApplyOutcome =
  | { readonly kind: "ok"; readonly dryRun: boolean; readonly migrations: readonly MigrationFile[] }
  | { readonly kind: "refused"; readonly message: string; readonly status: SchemaStatus }
  | { readonly kind: "failed"; readonly migration: MigrationFile; readonly applied: readonly MigrationFile[]; readonly message: string };

/** The outcome of {@link checkSchema}: the database matches the files, or why not (several lines). */
export type SchemaCheck = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** A connected session (a `pg.Client` or a client checked out of a `pg.Pool`, never the pool itself). */
export type MigrationSession = pg.ClientBase;

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads the migration files of `directory`: every `*.sql` file must be named `NNNN_<name>.sql` (4 digits, `<name>`
 * of `[a-z0-9_]`), be valid UTF-8 and hold more than white space, and no two may share a number. Other files are
 * ignored.
 *
 * @returns the migrations in numeric order (none for a directory without `.sql` files).
 * @throws {MigrationDirectoryError} naming every bad file, or the directory when it cannot be read.
 */
export async function loadMigrations(directory: string = DEFAULT_MIGRATIONS_DIRECTORY): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    throw new MigrationDirectoryError(directory, [`cannot read the directory: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const problems: string[] = [];
  const byId = new Map<number, MigrationFile>();
  const sqlFiles = entries.filter((entry) => entry.isFile() && entry.name.toLowerCase().endsWith(".sql")).map((entry) => entry.name);
  for (const fileName of sqlFiles.sort()) {
    const match = FILE_NAME.exec(fileName);
    if (!match) {
      problems.push(`${fileName}: not a migration name (expected NNNN_<name>.sql: 4 digits, then lowercase letters, digits and _)`);
      continue;
    }
    const bytes = await readFile(join(directory, fileName));
    let sql: string;
    try {
      sql = decoder.decode(bytes);
    } catch {
      problems.push(`${fileName}: not valid UTF-8`);
      continue;
    }
    if (sql.trim() === "") {
      problems.push(`${fileName}: empty file`);
      continue;
    }
    const id = Number(match[1]);
    const other = byId.get(id);
    if (other) {
      problems.push(`${fileName}: number ${match[1]} is also used by ${other.fileName}`);
      continue;
    }
    byId.set(id, { id, name: match[2] ?? "", fileName, sql, checksum: createHash("sha256").update(bytes).digest("hex") });
  }
  if (problems.length > 0) throw new MigrationDirectoryError(directory, problems);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** `"<current schema>".schema_migration`, fixed once so that a migration changing `search_path` cannot move it. */
async function migrationTable(db: MigrationSession): Promise<{ name: string; exists: boolean }> {
  const { rows } = await db.query<{ schema: string | null; exists: boolean }>(
    `SELECT current_schema() AS schema,
            CASE WHEN current_schema() IS NULL THEN false ELSE to_regclass(format('%I.schema_migration', current_schema())) IS NOT NULL END AS exists`,
  );
  const schema = rows[0]?.schema;
  if (schema === null || schema === undefined) throw new Error("the session has no current schema (empty search_path): cannot locate schema_migration");
  return { name: `${quoteIdentifier(schema)}.schema_migration`, exists: rows[0]?.exists === true };
}

async function readRecords(db: MigrationSession, table: string): Promise<MigrationRecord[]> {
  const { rows } = await db.query<{ id: number; name: string; checksum: string; applied_on: string }>(
    `SELECT id, name, checksum, to_char(applied_on AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS applied_on FROM ${table} ORDER BY id`,
  );
  return rows.map((row) => ({ id: row.id, name: row.name, checksum: row.checksum, appliedOn: row.applied_on }));
}

function compare(files: readonly MigrationFile[], records: readonly MigrationRecord[]): SchemaStatus {
  const recorded = new Map(records.map((record) => [record.id, record]));
  const fileIds = new Set(files.map((file) => file.id));
  const applied: SchemaStatus["applied"][number][] = [];
  const pending: MigrationFile[] = [];
  for (const file of files) {
    const record = recorded.get(file.id);
    if (record) applied.push({ file, record, altered: record.checksum !== file.checksum || record.name !== file.name });
    else pending.push(file);
  }
  return { applied, pending, unknown: records.filter((record) => !fileIds.has(record.id)) };
}

const recordName = (record: MigrationRecord): string => `${String(record.id).padStart(4, "0")}_${record.name}.sql`;

/** One line per altered, unknown or out-of-order migration: what makes {@link applyMigrations} refuse. */
function mismatches(status: SchemaStatus, directory: string): string[] {
  const lines: string[] = [];
  for (const { file, record } of status.applied.filter((entry) => entry.altered)) {
    lines.push(
      record.name === file.name
        ? `${file.fileName} was altered after it was applied on ${record.appliedOn} (checksum ${record.checksum.slice(0, 12)}… recorded, ${file.checksum.slice(0, 12)}… now)`
        : `${file.fileName} was applied as ${recordName(record)} on ${record.appliedOn}, and renamed or replaced since`,
    );
  }
  for (const record of status.unknown) lines.push(`${recordName(record)} was applied on ${record.appliedOn} but has no file in ${directory}`);
  const latest = Math.max(0, ...status.applied.map((entry) => entry.record.id), ...status.unknown.map((record) => record.id));
  for (const file of status.pending.filter((pendingFile) => pendingFile.id < latest)) {
    lines.push(`${file.fileName} is not applied but is numbered below the latest applied migration (${String(latest).padStart(4, "0")}): renumber it`);
  }
  return lines;
}

async function statusOf(db: MigrationSession, files: readonly MigrationFile[]): Promise<SchemaStatus> {
  const table = await migrationTable(db);
  return compare(files, table.exists ? await readRecords(db, table.name) : []);
}

/**
 * Compares the database with the migration files, changing nothing (a database without `schema_migration` has
 * every migration pending).
 *
 * @returns the {@link SchemaStatus}.
 * @throws {MigrationDirectoryError} when the directory holds a bad file; a database error as thrown by `pg`.
 */
export async function inspectMigrations(db: MigrationSession, options: MigrationOptions = {}): Promise<SchemaStatus> {
  return statusOf(db, await loadMigrations(options.directory));
}

/**
 * For `parsec backend run`: whether the database is exactly at the schema of the migration files. Changes nothing.
 *
 * @returns `{ ok: true }`, or an error listing the pending, altered and unknown migrations, which tells the operator
 *   to run `parsec backend migrate --db <url>`.
 * @throws {MigrationDirectoryError} when the directory holds a bad file; a database error as thrown by `pg`.
 */
export async function checkSchema(db: MigrationSession, options: MigrationOptions = {}): Promise<SchemaCheck> {
  const directory = options.directory ?? DEFAULT_MIGRATIONS_DIRECTORY;
  const status = await inspectMigrations(db, { directory });
  const problems = mismatches(status, directory);
  if (status.pending.length === 0 && problems.length === 0) return { ok: true };
  const lines = ["The database schema does not match this server's migrations:"];
  if (status.pending.length > 0) lines.push(`  not applied yet: ${status.pending.map((file) => file.fileName).join(", ")}`);
  lines.push(...problems.map((problem) => `  ${problem}`));
  lines.push(
    problems.length === 0
      ? "Run `parsec backend migrate --db <url>` to apply them."
      : "`parsec backend migrate --db <url>` applies pending migrations but refuses while applied ones differ from the files: run the server version this database was migrated with, or restore its migration files.",
  );
  return { ok: false, error: lines.join("\n") };
}

function describeFailure(error: pg.DatabaseError, sql: string | null): string {
  const where: string[] = [];
  if (error.code) where.push(`SQLSTATE ${error.code}`);
  const position = Number(error.position);
  if (sql !== null && Number.isInteger(position) && position > 0) {
    const before = [...sql].slice(0, position - 1).join("");
    where.push(`line ${before.split("\n").length}`);
  }
  const details = [error.detail, error.hint && `hint: ${error.hint}`].filter((text) => text);
  return `${error.message}${where.length > 0 ? ` (${where.join(", ")})` : ""}${details.length > 0 ? `: ${details.join("; ")}` : ""}`;
}

const PHASES = { file: "", record: "recording it in schema_migration failed: ", commit: "COMMIT failed: " } as const;

/**
 * Applies one migration with its record in one transaction.
 * @returns null once committed, or PostgreSQL's reason after rolling back.
 */
async function applyOne(db: MigrationSession, table: string, file: MigrationFile): Promise<string | null> {
  let phase: keyof typeof PHASES = "file";
  await db.query("BEGIN");
  try {
    const before = await db.query<{ xid: string }>("SELECT pg_current_xact_id()::text AS xid");
    await db.query(file.sql);
    const after = await db.query<{ xid: string | null }>("SELECT pg_current_xact_id_if_assigned()::text AS xid");
    if (after.rows[0]?.xid !== before.rows[0]?.xid) {
      await db.query("ROLLBACK");
      return "the file ends the transaction the runner wraps it in (COMMIT, ROLLBACK or END): what it ran before that may be committed, check the database";
    }
    phase = "record";
    await db.query(`INSERT INTO ${table} (id, name, checksum) VALUES ($1, $2, $3)`, [file.id, file.name, file.checksum]);
    phase = "commit";
    await db.query("COMMIT");
    return null;
  } catch (error) {
    await db.query("ROLLBACK").catch(() => undefined);
    if (!(error instanceof pg.DatabaseError)) throw error;
    return PHASES[phase] + describeFailure(error, phase === "file" ? file.sql : null);
  }
}

async function withLock<T>(db: MigrationSession, onWait: () => void, work: () => Promise<T>): Promise<T> {
  const { rows } = await db.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS locked", [MIGRATION_LOCK_KEY]);
  if (rows[0]?.locked !== true) {
    onWait();
    await db.query("SELECT pg_advisory_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
  }
  try {
    return await work();
  } finally {
    await db.query("SELECT pg_advisory_unlock($1::bigint)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
  }
}

/**
 * Brings the database to the schema of the migration files: under the advisory lock {@link MIGRATION_LOCK_KEY}
 * (waiting for a concurrent run to finish), creates `schema_migration` when missing, then applies each pending
 * migration in numeric order, each with its record in one transaction, stopping at the first failure. Refuses to
 * apply anything while an applied migration is altered or unknown. With `dryRun`, only reads (no lock, no table).
 *
 * @returns the {@link ApplyOutcome}.
 * @throws {MigrationDirectoryError} when the directory holds a bad file (before touching the database); an error of
 *   `pg` when the session fails (the migration in progress is then not committed).
 */
export async function applyMigrations(db: MigrationSession, options: ApplyOptions = {}): Promise<ApplyOutcome> {
  const directory = options.directory ?? DEFAULT_MIGRATIONS_DIRECTORY;
  const files = await loadMigrations(directory);
  const onEvent = options.onEvent ?? (() => undefined);
  const plan = (status: SchemaStatus): ApplyOutcome | null => {
    const problems = mismatches(status, directory);
    return problems.length === 0
      ? null
      : { kind: "refused", status, message: `Refusing to migrate, the database does not match the migration files:\n${problems.map((p) => `  ${p}`).join("\n")}` };
  };
  if (options.dryRun === true) {
    const status = await statusOf(db, files);
    return plan(status) ?? { kind: "ok", dryRun: true, migrations: status.pending };
  }
  return withLock(db, () => onEvent({ kind: "waiting_for_lock" }), async () => {
    const table = await migrationTable(db);
    if (!table.exists) {
      await db.query(
        `CREATE TABLE IF NOT EXISTS ${table.name} (id integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_on timestamptz NOT NULL DEFAULT now())`,
      );
    }
    const status = compare(files, await readRecords(db, table.name));
    const refusal = plan(status);
    if (refusal) return refusal;
    const applied: MigrationFile[] = [];
    for (const migration of status.pending) {
      const started = performance.now();
      const failure = await applyOne(db, table.name, migration);
      if (failure !== null) {
        return { kind: "failed", migration, applied, message: `Migration ${migration.fileName} failed and was rolled back: ${failure}` };
      }
      applied.push(migration);
      onEvent({ kind: "applied", migration, durationMs: Math.round(performance.now() - started) });
    }
    return { kind: "ok", dryRun: false, migrations: applied };
  });
}
