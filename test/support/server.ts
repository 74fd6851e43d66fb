import pino from "pino";
import type { Application } from "../../src/application/index.js";
import { startBackend } from "../../src/bootstrap/compose.js";
import type { BackendSettings } from "../../src/bootstrap/settings.js";
import { createTestDatabase, dropTestDatabase } from "./postgres.js";

/**
 * A real Parsec server for end-to-end tests and benchmarks: the composition root ({@link startBackend}) in this
 * process, listening on an ephemeral port of 127.0.0.1. Always `stop()` it (e.g. in `afterAll`).
 */

/**
 * Which storage the end-to-end suites run on: `memory` (default), or `postgresql` when `PARSEC_TEST_STORAGE` says so
 * (the `postgresql` vitest project runs the whole e2e suite that way: each server gets a fresh migrated database of
 * the test cluster, and PostgreSQL block storage).
 */
export const testStorage = (): "memory" | "postgresql" => (process.env["PARSEC_TEST_STORAGE"] === "postgresql" ? "postgresql" : "memory");

/** The administration token of {@link defaultTestSettings}. */
export const TEST_ADMINISTRATION_TOKEN = "e2e-administration-token";

/** Memory database and blockstore, debug mode (so `ping` is served), port 0 on 127.0.0.1, no TLS, no telemetry. */
export const defaultTestSettings: BackendSettings = {
  host: "127.0.0.1",
  port: 0,
  db: { type: "MOCKED" },
  blockstore: { type: "MOCKED" },
  administrationToken: TEST_ADMINISTRATION_TOKEN,
  spontaneousOrganizationBootstrap: false,
  tls: null,
  log: { level: "ERROR", format: "JSON", file: null },
  sentryUrl: null,
  sentryEnvironment: "test",
  debug: true,
  backendAddr: { hostname: "localhost", port: null, useSsl: false },
  email: { transport: { type: "MOCKED" }, sender: "no-reply@parsec.com", language: "en" },
};

/** A started test server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` (or `https://` with TLS), without a trailing slash. */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/ws` (or `wss://`). */
  readonly wsUrl: string;
  readonly port: number;
  readonly administrationToken: string;
  readonly settings: BackendSettings;
  /** Records the server logged at level `error` or above (internal failures), parsed from pino's JSON lines. */
  readonly loggedErrors: readonly Record<string, unknown>[];
  /** The application behind the server, for white-box checks. */
  readonly application: Application;
  /** Closes every session with 1001 and stops listening; idempotent. */
  stop(): Promise<void>;
}

/** How {@link startTestServer} logs. */
export interface TestServerLogging {
  /** Level of the server's logger (default `error`). */
  readonly level?: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  /** Sees every record the logger writes, parsed from its JSON line (records of `level` and above). */
  readonly onRecord?: (record: Record<string, unknown>) => void;
}

/**
 * Starts a server with {@link defaultTestSettings} overridden by `overrides`, on the storage of {@link testStorage}
 * unless `overrides.db` names one. Nothing is printed: records of level
 * `error` and above are kept in {@link TestServer.loggedErrors}; the others (at `logging.level` and above) only go to
 * `logging.onRecord`.
 */
export const startTestServer = async (overrides: Partial<BackendSettings> = {}, logging: TestServerLogging = {}): Promise<TestServer> => {
  const database = testStorage() === "postgresql" && overrides.db === undefined ? await createTestDatabase() : null;
  const storage: Partial<BackendSettings> = database
    ? {
        db: { type: "POSTGRESQL", url: database.url, minConnections: 1, maxConnections: 10 },
        ...(overrides.blockstore === undefined && { blockstore: { type: "POSTGRESQL" } }),
      }
    : {};
  const settings: BackendSettings = { ...defaultTestSettings, ...overrides, ...storage };
  const loggedErrors: Record<string, unknown>[] = [];
  const logger = pino(
    { level: logging.level ?? "error" },
    {
      write: (line: string) => {
        const record = JSON.parse(line) as Record<string, unknown>;
        if (typeof record["level"] === "number" && record["level"] >= 50) loggedErrors.push(record);
        logging.onRecord?.(record);
      },
    },
  );
  const backend = await startBackend(settings, { logger }).catch(async (err: unknown) => {
    if (database) await dropTestDatabase(database.name);
    throw err;
  });
  const secure = settings.tls !== null;
  const authority = `${settings.host}:${backend.port}`;
  let stopped: Promise<void> | null = null;
  return {
    url: `${secure ? "https" : "http"}://${authority}`,
    wsUrl: `${secure ? "wss" : "ws"}://${authority}/ws`,
    port: backend.port,
    administrationToken: settings.administrationToken,
    settings,
    loggedErrors,
    application: backend.application,
    stop: () =>
      (stopped ??= (async () => {
        await backend.stop();
        if (database) await dropTestDatabase(database.name);
      })()),
  };
};
