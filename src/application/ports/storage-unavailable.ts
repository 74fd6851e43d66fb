/**
 * The storage (database) cannot be reached or stopped answering: raised by persistence and event adapters instead of
 * their driver's own errors, so that driving adapters can tell an outage from a bug. The WebSocket transport closes the
 * connection with 1013 (try again later), HTTP answers 503; clients retry, and the server recovers by itself once the
 * storage is back.
 */
export class StorageUnavailableError extends Error {
  override readonly name = "StorageUnavailableError";
}

/** True for a {@link StorageUnavailableError}, wherever it was created. */
export const isStorageUnavailable = (err: unknown): err is StorageUnavailableError =>
  err instanceof Error && err.name === "StorageUnavailableError";
