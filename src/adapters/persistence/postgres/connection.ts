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

/**
 * Opens one session on the PostgreSQL database of `url` (`postgresql://…` or `postgres://…`, libpq-style query
 * parameters such as `sslmode` included), waiting at most `connectionTimeoutMs` for the server to accept it.
 *
 * @returns the connected client; the caller ends it (`client.end()`). Errors on the session after connection reject
 *   the pending query instead of crashing the process.
 * @throws {DatabaseUnreachableError} when the server cannot be reached in time or refuses the session.
 */
export async function connectDatabase(url: string, options: { readonly connectionTimeoutMs?: number } = {}): Promise<pg.Client> {
  const timeoutMs = options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseUnreachableError(addressOf(client), reasonOf(error, timeoutMs));
  }
  return client;
}
