/**
 * Where use cases report infrastructure failures they turn into a protocol status (e.g. a block store
 * failure answered `timeout`): the composition root backs it with the server's logger (and Sentry).
 */
export interface ErrorReporter {
  /** Records `message` at error level with its context (organization, ids, cause). */
  error(message: string, context: Readonly<Record<string, unknown>>): void;
}
