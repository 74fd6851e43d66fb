import { createHash } from "node:crypto";
import { createPgDriverFactory } from "@slonik/pg-driver";
import pg from "pg";
import {
  createPool,
  parseDsn,
  SchemaValidationError,
  type ClientConfigurationInput,
  type DatabasePool,
  type DriverFactory,
  type Interceptor,
  type QueryResultRow,
} from "slonik";
import { QueryTimeoutError } from "./errors.js";

/** How the server's connection pool is sized and bounded (`--db-min-connections`, `--db-max-connections`). */
export interface PoolOptions {
  readonly minConnections: number;
  readonly maxConnections: number;
  /** Milliseconds to wait for a new connection before failing the query (default 5 000). */
  readonly connectionTimeoutMs?: number;
  /** Milliseconds after which PostgreSQL aborts a statement (default 30 000). */
  readonly statementTimeoutMs?: number;
  /**
   * Milliseconds this process waits for PostgreSQL's answer to a query before it gives up: the query fails with a
   * {@link QueryTimeoutError} and its connection is destroyed (default: the statement timeout + 5 000). This bounds
   * every query when PostgreSQL or the network stops answering, which the statement timeout, enforced by PostgreSQL
   * itself, cannot.
   */
  readonly queryTimeoutMs?: number;
}

/** Default {@link PoolOptions.statementTimeoutMs}. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/** Idle time after which TCP keepalive probes a pool connection. */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

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

/** What node-postgres rejects a query with when it was not answered within its `query_timeout`. */
const QUERY_READ_TIMEOUT = "Query read timeout";

/** Sockets whose TCP keepalive is on. */
const keptAlive = new WeakSet<object>();

const keepAlive = (stream: unknown): void => {
  if (typeof stream !== "object" || stream === null || keptAlive.has(stream)) return;
  keptAlive.add(stream);
  (stream as { setKeepAlive?: (enable: boolean, initialDelay: number) => void }).setKeepAlive?.(true, KEEPALIVE_INITIAL_DELAY_MS);
};

/**
 * One query of the pool, in the form node-postgres runs it: a named prepared statement, given up after
 * `query_timeout` (node-postgres's own timer), that turns TCP keepalive on for its connection's socket when it is
 * sent. slonik's `pg` driver builds each `pg.Client` itself from the URL, with neither `keepAlive` nor
 * `query_timeout`, and offers no way to add them; the query object is what of ours reaches `pg.Client.query`, and as
 * a submittable it is handed the connection. It settles like the promise `pg.Client.query` returns for a text (the
 * driver awaits it).
 */
class PoolStatement extends pg.Query implements PromiseLike<unknown> {
  readonly query_timeout: number;
  private readonly settled: Promise<unknown>;
  private readonly outcome: { timedOut: boolean };

  constructor(text: string, values: readonly unknown[] | undefined, queryTimeoutMs: number) {
    const outcome = { timedOut: false };
    let settle: (err: Error | undefined, result: unknown) => void = () => undefined;
    const settled = new Promise<unknown>((resolve, reject) => {
      settle = (err, result) => {
        if (!err) return resolve(result);
        outcome.timedOut = err.message === QUERY_READ_TIMEOUT;
        reject(err);
      };
    });
    super({ name: statementName(text), text, values: values as unknown[] | undefined }, (err: Error | undefined, result: unknown) => settle(err, result));
    this.query_timeout = queryTimeoutMs;
    this.settled = settled;
    this.settled.catch(() => undefined);
    this.outcome = outcome;
    const submit = this.submit;
    this.submit = (connection) => {
      keepAlive(connection.stream);
      return submit.call(this, connection);
    };
  }

  /** Whether the query failed for want of an answer within its `query_timeout`. */
  get timedOut(): boolean {
    return this.outcome.timedOut;
  }

  then<A = unknown, B = never>(onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.settled.then(onFulfilled, onRejected);
  }
}

/**
 * slonik's `pg` driver, with every query sent as a named prepared statement (PostgreSQL parses and plans each
 * distinct query text once per connection instead of at every execution: planning the hot paths' joins costs more
 * than running them; the texts come from the repositories' `sql` templates, so there are a few hundred at most),
 * bounded by `queryTimeoutMs`, on a socket with TCP keepalive. A query not answered in time fails with
 * {@link QueryTimeoutError} and destroys its connection: its answer may still come, or never, so the connection is
 * not used again.
 */
const parsecDriver = (queryTimeoutMs: number): DriverFactory => {
  const pgDriver = createPgDriverFactory();
  return async (setup) => {
    const driver = await pgDriver(setup);
    return {
      ...driver,
      createClient: async () => {
        const client = await driver.createClient();
        const query = client.query;
        (client as { query: typeof query }).query = async (sql, values) => {
          const statement = new PoolStatement(sql, values, queryTimeoutMs);
          try {
            // The driver hands its first argument to `pg.Client.query` unchanged.
            return await query(statement as unknown as string, values);
          } catch (err) {
            if (!statement.timedOut) throw err;
            // node-postgres ends a connection whose query is outstanding by destroying its socket: no wait.
            void client.destroy().catch(() => undefined);
            throw new QueryTimeoutError(queryTimeoutMs, { cause: err });
          }
        };
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
 * The TLS options of the pool's connections for a URL of {@link slonikConnectionUri}, when the URL names certificate
 * files (`sslrootcert`, `sslcert` and `sslkey`): slonik's `pg` driver reads `sslmode` from the URL but passes on the
 * certificates only as its `ssl` setting, so without this a server with a private CA would be refused by the pool
 * while `pg` (the other connections) accepts it. `undefined` when the URL names no file, or with `sslmode=disable`.
 */
export const slonikSslOptions = (uri: string): ClientConfigurationInput["ssl"] => {
  let dsn: ReturnType<typeof parseDsn>;
  try {
    dsn = parseDsn(uri);
  } catch {
    return undefined; // slonik reports the malformed URL or the unreadable file itself
  }
  return dsn.sslMode === "disable" ? undefined : dsn.ssl;
};

/**
 * The slonik pool of a server process: `minConnections`..`maxConnections` connections, typed rows checked by their
 * zod schema, int8 read as exact numbers, queries as named prepared statements, no stack capture and no `DISCARD ALL`
 * between uses (the server keeps no session state but its prepared statements). Bounded connection, statement and
 * query times, and TCP keepalive, so that a lost or stopped database fails commands instead of hanging them.
 */
export const createParsecPool = (url: string, options: PoolOptions): Promise<DatabasePool> => {
  const uri = slonikConnectionUri(url);
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const ssl = slonikSslOptions(uri);
  return createPool(uri, {
    minimumPoolSize: options.minConnections,
    maximumPoolSize: Math.max(options.maxConnections, options.minConnections, 1),
    connectionTimeout: options.connectionTimeoutMs ?? 5_000,
    connectionRetryLimit: 1,
    statementTimeout: statementTimeoutMs,
    idleInTransactionSessionTimeout: 60_000,
    idleTimeout: 60_000,
    captureStackTrace: false,
    // Transactions are retried by the unit of work, which knows they are re-runnable; single queries never.
    transactionRetryLimit: 1,
    queryRetryLimit: 1,
    resetConnection: async () => {},
    typeParsers: [int8AsNumber],
    driverFactory: parsecDriver(options.queryTimeoutMs ?? statementTimeoutMs + 5_000),
    interceptors: [resultParser],
    ...(ssl !== undefined && { ssl }),
  });
};
