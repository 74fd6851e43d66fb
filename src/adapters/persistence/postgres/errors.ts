import {
  BackendTerminatedError,
  BackendTerminatedUnexpectedlyError,
  ConnectionError,
  IdleTransactionTimeoutError,
  StatementTimeoutError,
  type CommonQueryMethods,
  type DatabasePool,
} from "slonik";
import { StorageUnavailableError } from "../../../application/ports/index.js";

/**
 * A query PostgreSQL did not answer within the pool's query timeout (a stopped or overloaded server, a silent
 * network): the server gave up on it and destroyed its connection.
 */
export class QueryTimeoutError extends Error {
  override readonly name = "QueryTimeoutError";

  constructor(
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(`no answer from PostgreSQL within ${timeoutMs / 1000} s`, options);
  }
}

/** Socket error codes of a lost or unreachable server. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

/**
 * SQLSTATEs of an unavailable server: class 08 (connection exception), 57P01–57P03 (shutdown, crash, starting up),
 * 53300 (too many connections), 57014 (statement cancelled: our statement timeout).
 */
const isUnavailableSqlState = (code: string): boolean => code.startsWith("08") || ["57P01", "57P02", "57P03", "53300", "57014"].includes(code);

const MESSAGES = [/connection terminated/i, /not queryable/i, /timeout exceeded when trying to connect/i, /Connection is not established/i, /client has encountered a connection error/i];

/** True when `err` (or what it wraps) says the database is unreachable or went away, rather than a query being wrong. */
export const isDatabaseUnavailable = (err: unknown): boolean => {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (
      e instanceof ConnectionError ||
      e instanceof BackendTerminatedError ||
      e instanceof BackendTerminatedUnexpectedlyError ||
      e instanceof IdleTransactionTimeoutError ||
      e instanceof StatementTimeoutError ||
      e instanceof QueryTimeoutError
    )
      return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (NETWORK_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && isUnavailableSqlState(code)))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && MESSAGES.some((m) => m.test(message))) return true;
    e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return false;
};

/** Rethrows `err` as a {@link StorageUnavailableError} when it is an outage, as is otherwise. */
export const translateError = (err: unknown): never => {
  if (err instanceof StorageUnavailableError) throw err;
  if (isDatabaseUnavailable(err)) throw new StorageUnavailableError(`PostgreSQL unavailable: ${(err as Error).message}`, { cause: err });
  throw err;
};

const METHODS = ["any", "anyFirst", "exists", "many", "manyFirst", "maybeOne", "maybeOneFirst", "one", "oneFirst", "query"] as const;

/** `connection` whose query methods report outages as {@link StorageUnavailableError}. */
export const guarded = (connection: CommonQueryMethods): CommonQueryMethods => {
  const wrapped: Record<string, unknown> = { ...connection };
  for (const method of METHODS) {
    const original = connection[method] as (...args: unknown[]) => Promise<unknown>;
    wrapped[method] = (...args: unknown[]) => original.apply(connection, args).catch(translateError);
  }
  return wrapped as unknown as CommonQueryMethods;
};

/**
 * The pool's query methods, each run on a connection taken with `pool.connect` (measured cheaper than slonik's
 * implicit one-query connections) and reporting outages as {@link StorageUnavailableError}.
 */
export const guardedPool = (pool: DatabasePool): CommonQueryMethods => {
  const wrapped: Record<string, unknown> = { ...pool };
  for (const method of METHODS)
    wrapped[method] = (...args: unknown[]) =>
      pool.connect((connection) => (connection[method] as (...a: unknown[]) => Promise<unknown>).apply(connection, args)).catch(translateError);
  return wrapped as unknown as CommonQueryMethods;
};
