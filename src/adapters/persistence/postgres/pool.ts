import { createHash } from "node:crypto";
import { createPgDriverFactory } from "@slonik/pg-driver";
import {
  createPool,
  SchemaValidationError,
  type DatabasePool,
  type DriverFactory,
  type Interceptor,
  type QueryResultRow,
} from "slonik";

/** How the server's connection pool is sized and bounded (`--db-min-connections`, `--db-max-connections`). */
export interface PoolOptions {
  readonly minConnections: number;
  readonly maxConnections: number;
  /** Milliseconds to wait for a new connection before failing the query (default 5 000). */
  readonly connectionTimeoutMs?: number;
  /** Milliseconds after which PostgreSQL aborts a statement (default 30 000). */
  readonly statementTimeoutMs?: number;
}

/**
 * Validates every row of a query built with `sql.type(schema)` against its zod schema (slonik leaves that to an
 * interceptor): a row that does not match is a `SchemaValidationError`, never a silently mistyped value.
 */
const resultParser: Interceptor = {
  name: "parsec-result-parser",
  transformRow: (context, query, row) => {
    const parser = context.resultParser;
    if (!parser) return row;
    const parsed = parser.safeParse(row);
    if (!parsed.success) throw new SchemaValidationError(query, row, parsed.error.issues);
    return parsed.data as QueryResultRow;
  },
};

/** `int8` (counts, µs timestamps, sizes) as JavaScript numbers; a value beyond 2^53 is an error, never rounded. */
const int8AsNumber = {
  name: "int8",
  parse: (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} does not fit a JavaScript number`);
    return n;
  },
};

const statementNames = new Map<string, string>();

/** A stable prepared-statement name for `text` (a hash: the same text always gets the same name). */
const statementName = (text: string): string => {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `parsec_${createHash("sha256").update(text).digest("base64url").slice(0, 24)}`;
    if (statementNames.size < 10_000) statementNames.set(text, name);
  }
  return name;
};

/**
 * slonik's `pg` driver, with every query sent as a named prepared statement: PostgreSQL parses and plans each distinct
 * query text once per connection instead of at every execution (planning the hot paths' joins costs more than running
 * them). The texts come from the repositories' `sql` templates, so there are a few hundred at most.
 */
const preparedStatementsDriver = (): DriverFactory => {
  const pgDriver = createPgDriverFactory();
  return async (setup) => {
    const driver = await pgDriver(setup);
    return {
      ...driver,
      createClient: async () => {
        const client = await driver.createClient();
        const query = client.query;
        // `pg` takes a query config object where a text is expected; slonik hands the text through unchanged.
        (client as { query: typeof query }).query = (sql, values) => query({ name: statementName(sql), text: sql } as unknown as string, values);
        return client;
      },
    };
  };
};

/**
 * `url` in the form slonik's parser understands, meaning what libpq (and `pg`, used by the other connections) makes
 * of it: slonik reads the host, port, user, password and database only from the URL's authority and path, and ignores
 * the `host`, `port`, `user`, `password` and `dbname` query parameters, which libpq lets override them — the usual way
 * to name a Unix-domain socket directory (`postgresql://parsec@localhost/parsec?host=/var/run/postgresql`). Those
 * parameters are moved into the URL (a socket directory as a percent-encoded host). slonik knows `sslmode` only as
 * `disable`, `no-verify` and `require` (which verifies the certificate): `verify-ca` and `verify-full` become
 * `require`. Every other part is kept.
 */
export const slonikConnectionUri = (url: string): string => {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url; // slonik reports the malformed URL itself
  }
  const take = (name: string): string | null => {
    const value = u.searchParams.get(name);
    u.searchParams.delete(name);
    return value === null || value === "" ? null : value;
  };
  const host = take("host");
  const port = take("port");
  const user = take("user");
  const password = take("password");
  const dbname = take("dbname");
  if (host !== null) u.hostname = encodeURIComponent(host);
  if (port !== null) u.port = port;
  if (user !== null) u.username = encodeURIComponent(user);
  if (password !== null) u.password = encodeURIComponent(password);
  if (dbname !== null) u.pathname = `/${encodeURIComponent(dbname)}`;
  // slonik's `require` verifies the certificate and its host name, as `pg` does for verify-ca and verify-full.
  const sslmode = u.searchParams.get("sslmode");
  if (sslmode === "verify-ca" || sslmode === "verify-full") u.searchParams.set("sslmode", "require");
  return u.href;
};

/**
 * The slonik pool of a server process: `minConnections`..`maxConnections` connections, typed rows checked by their
 * zod schema, int8 read as exact numbers, queries as named prepared statements, no stack capture and no `DISCARD ALL`
 * between uses (the server keeps no session state but its prepared statements), bounded connection and statement times so that a lost database fails commands instead of
 * hanging them.
 */
export const createParsecPool = (url: string, options: PoolOptions): Promise<DatabasePool> =>
  createPool(slonikConnectionUri(url), {
    minimumPoolSize: options.minConnections,
    maximumPoolSize: Math.max(options.maxConnections, options.minConnections, 1),
    connectionTimeout: options.connectionTimeoutMs ?? 5_000,
    connectionRetryLimit: 1,
    statementTimeout: options.statementTimeoutMs ?? 30_000,
    idleInTransactionSessionTimeout: 60_000,
    idleTimeout: 60_000,
    captureStackTrace: false,
    // Transactions are retried by the unit of work, which knows they are re-runnable; single queries never.
    transactionRetryLimit: 1,
    queryRetryLimit: 1,
    resetConnection: async () => {},
    typeParsers: [int8AsNumber],
    driverFactory: preparedStatementsDriver(),
    interceptors: [resultParser],
  });
