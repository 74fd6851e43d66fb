import pg from "pg";

/** Default bound on {@link connectDatabase}: an unreachable database is reported within 10 s. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;

/**
 * A PostgreSQL server could not be reached or refused the session: `address` is `host:port` (or the socket path),
 * `reason` a short human-readable cause (`connection refused`, `no answer within 10 s`, PostgreSQL's own message for
 * a failed login or an unknown database…). The message is one line: `cannot connect to PostgreSQL at <address>: <reason>`.
 */
export class DatabaseUnreachableError extends Error {
  override readonly name = "DatabaseUnreachableError";

  constructor(
    readonly address: string,
    readonly reason: string,
  ) {
    super(`cannot connect to PostgreSQL at ${address}: ${reason}`);
  }
}

const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by the server",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
};

function reasonOf(error: unknown, timeoutMs: number): string {
  if (error instanceof pg.DatabaseError) return error.message;
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0], timeoutMs);
  if (!(error instanceof Error)) return String(error);
  if (error.message === "timeout expired") return `no answer within ${timeoutMs / 1000} s`;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && REASONS[code] !== undefined) return REASONS[code];
  return error.message || (typeof code === "string" ? code : error.name);
}

function addressOf(client: pg.Client): string {
  if (client.host.startsWith("/")) return `${client.host}/.s.PGSQL.${client.port}`;
  return client.host.includes(":") ? `[${client.host}]:${client.port}` : `${client.host}:${client.port}`;
}

/** The `sslmode` values node-postgres treats as `verify-full` (and warns about, at the first connection). */
const VERIFY_FULL_ALIASES = new Set(["prefer", "require", "verify-ca"]);

/**
 * `url` for node-postgres: an `sslmode` it treats as an alias of `verify-full` (`prefer`, `require`, `verify-ca`:
 * it verifies the certificate and the host name for each) is written `verify-full`, which changes nothing to the
 * connection but spares the multi-line "SECURITY WARNING: The SSL modes 'prefer', 'require', and 'verify-ca' are
 * treated as aliases for 'verify-full'" it prints otherwise. Every other part of the URL is kept as written.
 */
export const pgConnectionString = (url: string): string =>
  url.replace(/([?&]sslmode=)([^&#]*)/g, (whole, key: string, mode: string) => (VERIFY_FULL_ALIASES.has(mode) ? `${key}verify-full` : whole));

/**
 * Opens one session on the PostgreSQL database of `url` (`postgresql://…` or `postgres://…`, libpq-style query
 * parameters such as `sslmode` included, see {@link pgConnectionString}), with TCP keepalive, waiting at most
 * `connectionTimeoutMs` for the server to accept it; with `queryTimeoutMs`, a query not answered within that many
 * milliseconds fails (node-postgres's `query_timeout`; the session should then be ended).
 *
 * @returns the connected client; the caller ends it (`client.end()`). Errors on the session after connection reject
 *   the pending query instead of crashing the process.
 * @throws {DatabaseUnreachableError} when the server cannot be reached in time or refuses the session.
 */
export async function connectDatabase(
  url: string,
  options: { readonly connectionTimeoutMs?: number; readonly queryTimeoutMs?: number } = {},
): Promise<pg.Client> {
  const timeoutMs = options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS;
  const client = new pg.Client({
    connectionString: pgConnectionString(url),
    connectionTimeoutMillis: timeoutMs,
    keepAlive: true,
    ...(options.queryTimeoutMs !== undefined && { query_timeout: options.queryTimeoutMs }),
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseUnreachableError(addressOf(client), reasonOf(error, timeoutMs));
  }
  return client;
}

/**
 * The role of `--db` may not use the database as the server needs: `message` is one line saying what it lacks (or
 * PostgreSQL's "permission denied for …") and what to do.
 */
export class DatabasePermissionError extends Error {
  override readonly name = "DatabasePermissionError";
}

const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** What to do about missing privileges of `role` on the tables of `schema`. */
const remedy = (role: string, schema: string): string =>
  `run the server as the role that owns the tables (the one \`parsec backend migrate\` ran as), or grant this one their use: ` +
  `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${quoteIdentifier(schema)} TO ${quoteIdentifier(role)}; ` +
  `GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${quoteIdentifier(schema)} TO ${quoteIdentifier(role)}`;

/**
 * Every table and (non-identity) sequence of the session's current schema, with the privileges the server needs on
 * it that the session's role lacks: SELECT on `schema_migration`; SELECT, INSERT, UPDATE and DELETE on the other
 * tables; USAGE on the sequences (`bigserial` columns). Identity columns need no privilege on their sequence.
 */
const MISSING_PRIVILEGES = `
  WITH object AS (
    SELECT c.oid, c.relname AS name, c.relkind = 'S' AS is_sequence,
           CASE WHEN c.relkind = 'S' THEN ARRAY['USAGE']
                WHEN c.relname = 'schema_migration' THEN ARRAY['SELECT']
                ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'] END AS needed
    FROM pg_class c
    WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
      AND (c.relkind IN ('r', 'p')
           OR (c.relkind = 'S' AND NOT EXISTS (
                 SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')))
  ), missing AS (
    SELECT name, is_sequence,
           ARRAY(SELECT p FROM unnest(needed) AS p
                 WHERE NOT CASE WHEN is_sequence THEN has_sequence_privilege(oid, p) ELSE has_table_privilege(oid, p) END) AS privileges
    FROM object
  )
  SELECT name::text, is_sequence, privileges
  FROM missing WHERE cardinality(privileges) > 0 ORDER BY is_sequence, name`;

/** `a, b, c, d, e` or `a, b, c, … (12 tables)`. */
const listOf = (names: readonly string[], noun: string): string =>
  names.length <= 5 ? names.join(", ") : `${names.slice(0, 4).join(", ")}, … (${names.length} ${noun})`;

/** Who a session is, for messages: its role (`current_user`) and current schema (null with an empty `search_path`). */
export interface SessionIdentity {
  readonly role: string;
  readonly schema: string | null;
}

/**
 * For `parsec backend run`, before it reads anything: whether the session's role has the privileges the server needs
 * on the tables of its current schema (see {@link MISSING_PRIVILEGES}). A database without tables passes (its schema
 * check reports it is not migrated).
 *
 * @returns the session's role and schema (for {@link asPermissionError}).
 * @throws {DatabasePermissionError} naming the role, the schema, what it lacks on which tables, and the `GRANT`s
 *   (or the role) that would do.
 */
export async function checkPrivileges(client: pg.ClientBase): Promise<SessionIdentity> {
  const identity = (await client.query<{ role: string; schema: string | null }>("SELECT current_user::text AS role, current_schema()::text AS schema")).rows[0];
  const session: SessionIdentity = { role: identity?.role ?? "", schema: identity?.schema ?? null };
  const { rows } = await client.query<{ name: string; is_sequence: boolean; privileges: string[] }>(MISSING_PRIVILEGES);
  if (rows.length === 0) return session;
  const groups = new Map<string, string[]>();
  for (const row of rows) {
    const key = `${row.privileges.join(", ")} on ${row.is_sequence ? "sequence" : "table"}`;
    groups.set(key, [...(groups.get(key) ?? []), row.name]);
  }
  const lacks = [...groups].map(([what, names]) => `${what}${names.length > 1 ? "s" : ""} ${listOf(names, what.endsWith("sequence") ? "sequences" : "tables")}`);
  const schema = session.schema ?? "public";
  throw new DatabasePermissionError(
    `permission denied: PostgreSQL role ${quoteIdentifier(session.role)} lacks ${lacks.join("; ")} (schema ${quoteIdentifier(schema)}); ${remedy(session.role, schema)}`,
  );
}

/**
 * `err` as a {@link DatabasePermissionError} when it (or what it wraps) is PostgreSQL's "permission denied"
 * (SQLSTATE 42501) met by the role of `session`; `null` otherwise.
 */
export const asPermissionError = (err: unknown, session: SessionIdentity): DatabasePermissionError | null => {
  const { role } = session;
  const schema = session.schema ?? "public";
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if ((e as { code?: unknown }).code === "42501")
      return new DatabasePermissionError(`${(e as Error).message} (PostgreSQL role ${quoteIdentifier(role)}); ${remedy(role, schema)}`, { cause: err });
    e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return null;
};
