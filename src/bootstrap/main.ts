import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { formatBackendAddr } from "../domain/backend-addr.js";
import { runCli } from "./cli/index.js";
import { describeBlockStore } from "./compose.js";
import { createLogger } from "./logging.js";
import type { TelemetryReporter } from "./sentry.js";
import type { BackendSettings } from "./settings.js";

const SENTRY_FLUSH_TIMEOUT_MS = 2_000;

function serverVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof manifest.version === "string" ? manifest.version : "unknown";
  } catch {
    return "unknown";
  }
}

const describeError = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));

function startupLine(settings: BackendSettings): string {
  return (
    `Starting Parsec Backend on ${settings.host}:${settings.port}` +
    ` (db=${settings.db.type} blockstore=${describeBlockStore(settings.blockstore)} email=${settings.email.transport.type}` +
    ` telemetry=${settings.sentryUrl === null ? "off" : "on"} backend_addr=${formatBackendAddr(settings.backendAddr)})`
  );
}

function exitOnCrash(logger: Logger, reporter: () => TelemetryReporter | null): void {
  const crash = (kind: string) => (error: unknown) => {
    logger.fatal({ err: error }, kind);
    const telemetry = reporter();
    telemetry?.captureException(error);
    void (telemetry?.flush(SENTRY_FLUSH_TIMEOUT_MS) ?? Promise.resolve(true)).finally(() => process.exit(1));
  };
  process.on("uncaughtException", crash("uncaught exception"));
  process.on("unhandledRejection", crash("unhandled promise rejection"));
}

/** Resolves on the first SIGINT or SIGTERM, keeping the process alive until then whatever the server holds open. */
function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
    const onSignal = (signal: NodeJS.Signals) => {
      clearInterval(keepAlive);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

async function runBackend(settings: BackendSettings): Promise<number> {
  let reporter: TelemetryReporter | null = null;
  let logger: Logger;
  try {
    logger = createLogger(settings.log, { onError: (record) => reporter?.report(record) });
  } catch (error) {
    process.stderr.write(`Cannot open the log output: ${describeError(error)}\n`);
    return 1;
  }
  exitOnCrash(logger, () => reporter);
  try {
    if (settings.sentryUrl !== null) {
      const { initSentry } = await import("./sentry.js");
      reporter = await initSentry({ dsn: settings.sentryUrl, environment: settings.sentryEnvironment, release: serverVersion() });
    }
    logger.info(startupLine(settings));
    // Listening for the stop signals before the server starts: a SIGTERM sent as soon as the "listening" line shows
    // (which the log transport may print while this thread is still blocked in the write) stops the server cleanly
    // instead of killing the process; one received during start-up stops it once started.
    const stopSignal = nextStopSignal();
    const { startBackend } = await import("./compose.js");
    const server = await startBackend(settings, { logger });
    logger.info({ host: settings.host, port: server.port, tls: settings.tls !== null }, `Parsec Backend listening on ${settings.host}:${server.port}`);
    const signal = await stopSignal;
    process.once("SIGINT", () => process.exit(1));
    process.once("SIGTERM", () => process.exit(1));
    logger.info({ signal }, "Stopping Parsec Backend (send the signal again to force)");
    await server.stop();
    logger.info("bye ;-)");
    return 0;
  } catch (error) {
    if (error instanceof Error && error.name === "UnsupportedSettingError") {
      process.stderr.write(`Error: ${error.message}\n`);
      return 2;
    }
    if (error instanceof Error && (error.name === "DatabaseUnreachableError" || error.name === "DatabasePermissionError" || error.name === "BlockStoreUnavailableError")) {
      if (settings.log.file !== null) logger.fatal(error.message);
      process.stderr.write(`Error: ${error.message}\n`);
      // A role without the privileges it needs will not get them by retrying: like a schema mismatch, exit 2.
      return error.name === "DatabasePermissionError" ? 2 : 1;
    }
    if (error instanceof Error && error.name === "ListenError") {
      logger.fatal(error.message);
      return 1;
    }
    logger.fatal({ err: error }, "Parsec Backend failed");
    return 1;
  } finally {
    await reporter?.flush(SENTRY_FLUSH_TIMEOUT_MS);
  }
}

try {
  const code = await runCli(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr, runBackend });
  process.exit(code);
} catch (error) {
  process.stderr.write(`Internal error: ${describeError(error)}\n`);
  process.exit(1);
}
