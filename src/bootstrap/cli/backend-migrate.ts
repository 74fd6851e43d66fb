import {
  applyMigrations,
  connectDatabase,
  MigrationDirectoryError,
  type ApplyOutcome,
  type MigrationEvent,
} from "../../adapters/persistence/postgres/index.js";
import type { Environment, ParsecCliContext } from "./backend-run.js";
import { parseDatabaseUrl } from "./backend-run.js";
import { Command, Option } from "./clipanion.js";

/** Bound on reaching the database: an unreachable one is reported within this time. */
const CONNECTION_TIMEOUT_MS = 10_000;

/** What `parsec backend migrate` was given on its command line; `undefined` means "not given". */
export interface BackendMigrateFlags {
  readonly db?: string | undefined;
  readonly dryRun?: boolean | undefined;
}

/** The validated settings of `parsec backend migrate`. */
export interface BackendMigrateSettings {
  /** `postgresql://…` or `postgres://…`. */
  readonly url: string;
  readonly dryRun: boolean;
}

/** The outcome of {@link resolveBackendMigrateSettings}: the settings, or why they are refused. */
export type BackendMigrateSettingsResult =
  | { readonly ok: true; readonly settings: BackendMigrateSettings }
  | { readonly ok: false; readonly error: string };

/**
 * Validates the settings of `parsec backend migrate`: `--db`, else `PARSEC_DB` (an empty one counts as unset), must be
 * a PostgreSQL URL; `MOCKED` is refused (an in-memory database has no schema to migrate).
 *
 * @returns the settings, or an error naming `--db` and where its value came from.
 */
export function resolveBackendMigrateSettings(flags: BackendMigrateFlags, env: Environment): BackendMigrateSettingsResult {
  const fromEnv = env["PARSEC_DB"] === "" ? undefined : env["PARSEC_DB"];
  const raw = flags.db ?? fromEnv;
  if (raw === undefined) return { ok: false, error: "Missing setting '--db' (or environment variable PARSEC_DB)" };
  const source = flags.db !== undefined ? "'--db'" : "'--db' (from PARSEC_DB)";
  const url = parseDatabaseUrl(raw);
  if (!url.ok) return { ok: false, error: `Invalid value for ${source}: ${url.error}` };
  if (url.value === "MOCKED") {
    return { ok: false, error: `Invalid value for ${source}: \`MOCKED\` is an in-memory database, there is nothing to migrate (expected \`postgresql://…\`)` };
  }
  return { ok: true, settings: { url: url.value, dryRun: flags.dryRun === true } };
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** `parsec backend migrate`: applies the pending schema migrations to a PostgreSQL database. */
export class BackendMigrateCommand extends Command<ParsecCliContext> {
  static override paths = [["backend", "migrate"]];

  static override usage = Command.Usage({
    category: "Backend",
    description: "apply the pending database migrations",
    details: `
      Applies, in order, the migrations of this server that the database has not applied yet, each in its own transaction, and records them in the table \`schema_migration\`. It stops at the first failing migration (the earlier ones stay applied). It refuses to apply anything when a migration recorded in the database was altered since or is unknown to this server. Concurrent runs on one database wait for each other.

      \`--db\` also reads the environment variable \`PARSEC_DB\`; \`PARSEC_CMD_ARGS\` is appended to the command line as for \`parsec backend run\`.

      Exit codes: 0 when the schema is up to date (or, with \`--dry-run\`, could be brought up to date), 1 when a migration failed, the database does not match the migrations or cannot be reached (within 10 s), 2 for invalid settings.
    `,
    examples: [
      ["Apply the pending migrations", "$0 backend migrate --db=postgresql://parsec@db/parsec"],
      ["List what would be applied, changing nothing", "$0 backend migrate --db=postgresql://parsec@db/parsec --dry-run"],
    ],
  });

  db = Option.String("--db", { description: "PostgreSQL database to migrate: `postgresql://…` URL (required; PARSEC_DB)" });
  dryRun = Option.Boolean("--dry-run", { description: "Only list the migrations that would be applied; change nothing" });

  override async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    const result = resolveBackendMigrateSettings({ db: this.db, dryRun: this.dryRun }, this.context.env);
    if (!result.ok) {
      stderr.write(`${result.error}\n\nRun \`parsec backend migrate --help\` for every setting.\n`);
      return 2;
    }
    let client;
    try {
      client = await connectDatabase(result.settings.url, { connectionTimeoutMs: CONNECTION_TIMEOUT_MS });
    } catch (error) {
      stderr.write(`Error: ${errorMessage(error)}\n`);
      return 1;
    }
    const onEvent = (event: MigrationEvent): void => {
      if (event.kind === "waiting_for_lock") stdout.write("Waiting for another migration run on this database to finish…\n");
      if (event.kind === "applied") stdout.write(`Applied ${event.migration.fileName} (${event.durationMs} ms)\n`);
    };
    let outcome: ApplyOutcome;
    try {
      outcome = await applyMigrations(client, { dryRun: result.settings.dryRun, directory: this.context.migrationsDirectory, onEvent });
    } catch (error) {
      const message = error instanceof MigrationDirectoryError ? error.message : `the migration stopped: ${errorMessage(error)}`;
      stderr.write(`Error: ${message}\n`);
      return 1;
    } finally {
      await client.end().catch(() => undefined);
    }
    return this.report(outcome);
  }

  private report(outcome: ApplyOutcome): number {
    const { stdout, stderr } = this.context;
    if (outcome.kind !== "ok") {
      stderr.write(`Error: ${outcome.message}\n`);
      return 1;
    }
    if (outcome.migrations.length === 0) {
      stdout.write("Nothing to apply: the database schema is up to date.\n");
    } else if (outcome.dryRun) {
      for (const migration of outcome.migrations) stdout.write(`Would apply ${migration.fileName}\n`);
      stdout.write(`Dry run: ${outcome.migrations.length} migration(s) to apply, nothing was changed.\n`);
    } else {
      stdout.write(`Done: ${outcome.migrations.length} migration(s) applied, the database schema is up to date.\n`);
    }
    return 0;
  }
}
