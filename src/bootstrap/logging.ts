import pino, { type DestinationStream, type Level, type Logger } from "pino";
import pinoPretty from "pino-pretty";
import type { BackendSettings, LogLevel } from "./settings.js";

const PINO_LEVELS: Readonly<Record<LogLevel, Level>> = { DEBUG: "debug", INFO: "info", WARNING: "warn", ERROR: "error" };
const PINO_ERROR_LEVEL = 50;

/** A log record of level `error` or above, as handed to {@link LoggerOptions.onError}. */
export interface ErrorLogRecord {
  readonly message: string;
  /** The `Error` logged with the record (first argument or its `err` field), if any. */
  readonly error: Error | undefined;
}

/** Extras of {@link createLogger}. */
export interface LoggerOptions {
  /** Called synchronously for every record of level `error` or `fatal` (e.g. to report it to Sentry). */
  readonly onError?: (record: ErrorLogRecord) => void;
  /** Colours CONSOLE output; defaults to whether stderr is a terminal (never for a log file). */
  readonly colorize?: boolean;
}

function destination(log: BackendSettings["log"], colorize: boolean): DestinationStream {
  const dest = log.file ?? 2;
  if (log.format === "JSON") return pino.destination({ dest, sync: true, append: true, mkdir: true });
  return pinoPretty({
    destination: dest,
    sync: true,
    append: true,
    mkdir: true,
    colorize: log.file === null && colorize,
    translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
    ignore: "pid,hostname",
  });
}

function errorRecord(args: readonly unknown[]): ErrorLogRecord {
  const [first, ...rest] = args;
  const fromObject = typeof first === "object" && first !== null ? (first as { err?: unknown }).err : undefined;
  const error = first instanceof Error ? first : fromObject instanceof Error ? fromObject : undefined;
  const text = typeof first === "string" ? first : rest.find((arg): arg is string => typeof arg === "string");
  return { message: text ?? error?.message ?? "error", error };
}

/**
 * Builds the server's pino logger from `settings.log`: level DEBUG/INFO/WARNING/ERROR maps to pino's
 * debug/info/warn/error; CONSOLE is human-readable (pino-pretty), JSON is one object per line (NDJSON, `level` as a
 * label, `time` in ISO 8601). Output goes to stderr, or is appended to `log.file` (parent directories created).
 * Writes are synchronous, so no line is lost when the process exits right after logging.
 *
 * @throws when the log file cannot be opened.
 */
export function createLogger(log: BackendSettings["log"], options: LoggerOptions = {}): Logger {
  const onError = options.onError;
  return pino(
    {
      level: PINO_LEVELS[log.level],
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(onError === undefined
        ? {}
        : {
            hooks: {
              logMethod(args, method, level) {
                if (level >= PINO_ERROR_LEVEL) onError(errorRecord(args));
                method.apply(this, args);
              },
            },
          }),
    },
    destination(log, options.colorize ?? process.stderr.isTTY === true),
  );
}
