import type { ErrorLogRecord } from "./logging.js";

/** Error reporting to Sentry, once initialised by {@link initSentry}. */
export interface TelemetryReporter {
  /** Sends an error-level log record (its `Error` when it carries one, else its message). */
  report(record: ErrorLogRecord): void;
  /** Sends an uncaught error. */
  captureException(error: unknown): void;
  /**
   * Waits until queued events are sent, at most `timeoutMs` milliseconds.
   * @returns `false` when the timeout elapsed first.
   */
  flush(timeoutMs: number): Promise<boolean>;
}

/** Where and how to report: Sentry DSN, environment name, and the server version as release. */
export interface SentryOptions {
  readonly dsn: string;
  readonly environment: string;
  readonly release: string;
}

/**
 * Initialises the Sentry SDK (loaded only here, so a server without telemetry never imports it). Default
 * integrations stay on; Sentry's own uncaught-exception handler does not exit the process, main's handler does.
 */
export async function initSentry(options: SentryOptions): Promise<TelemetryReporter> {
  const Sentry = await import("@sentry/node");
  Sentry.init({
    dsn: options.dsn,
    environment: options.environment,
    release: `parsec-server-ts@${options.release}`,
    sendDefaultPii: false,
  });
  return {
    report: ({ message, error }) => {
      if (error === undefined) Sentry.captureMessage(message, "error");
      else Sentry.captureException(error, { extra: { message } });
    },
    captureException: (error) => {
      Sentry.captureException(error);
    },
    flush: (timeoutMs) => Sentry.flush(timeoutMs),
  };
}
