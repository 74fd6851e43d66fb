import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freeLocalPort } from "../../scripts/local-postgres.js";

/**
 * A real `parsec backend run` in a child process (`node bin/parsec.js`), for tests that need several server processes
 * on one database, or to stop and kill a server. Logs are JSON lines on stderr, kept in {@link ServerProcess.logs}.
 */

const BIN = fileURLToPath(new URL("../../bin/parsec.js", import.meta.url));

/** A started server process. */
export interface ServerProcess {
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/ws`. */
  readonly wsUrl: string;
  readonly administrationToken: string;
  /** Every JSON log record written so far. */
  readonly logs: readonly Record<string, unknown>[];
  /** Raw stderr lines that were not JSON. */
  readonly otherOutput: readonly string[];
  readonly child: ChildProcess;
  /** Resolves with the exit code once the process ended. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
}

/** Options of {@link startServerProcess}. */
export interface ServerProcessOptions {
  /** `--db` (a `postgresql://` URL or `MOCKED`). */
  readonly db: string;
  /** `--blockstore` values (default `POSTGRESQL` with a PostgreSQL database, else `MOCKED`). */
  readonly blockstore?: readonly string[];
  readonly administrationToken?: string;
  /** More `backend run` arguments. */
  readonly args?: readonly string[];
  /** Log level (default INFO). */
  readonly logLevel?: "DEBUG" | "INFO" | "WARNING" | "ERROR";
}

/** Starts `parsec backend run --debug` on a free port of 127.0.0.1 and resolves once it listens (or rejects on exit). */
export const startServerProcess = async (options: ServerProcessOptions): Promise<ServerProcess> => {
  const port = await freeLocalPort();
  const administrationToken = options.administrationToken ?? "multi-process-token";
  const blockstore = options.blockstore ?? [options.db === "MOCKED" ? "MOCKED" : "POSTGRESQL"];
  const child = spawn(
    process.execPath,
    [
      BIN,
      "backend",
      "run",
      `--db=${options.db}`,
      ...blockstore.map((b) => `--blockstore=${b}`),
      `--administration-token=${administrationToken}`,
      "--host=127.0.0.1",
      `--port=${port}`,
      "--debug",
      "--log-format=JSON",
      `--log-level=${options.logLevel ?? "INFO"}`,
      ...(options.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PARSEC_CMD_ARGS: "" } },
  );
  const logs: Record<string, unknown>[] = [];
  const otherOutput: string[] = [];
  let buffered = "";
  let onListening: (() => void) | null = null;
  const consume = (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (!line.trim()) continue;
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        logs.push(record);
        if (typeof record["msg"] === "string" && record["msg"].startsWith("Parsec Backend listening")) onListening?.();
      } catch {
        otherOutput.push(line);
      }
    }
  };
  child.stderr!.on("data", consume);
  child.stdout!.on("data", consume);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    onListening = resolve;
    const timer = setTimeout(() => {
      // Nobody gets a handle on a server that never listened: stop it here rather than leave it running.
      child.kill("SIGKILL");
      reject(new Error(`server did not listen within 30 s: ${otherOutput.join("\n")}`));
    }, 30_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening: ${[...otherOutput, ...logs.map((l) => JSON.stringify(l))].join("\n")}`));
    });
    child.once("spawn", () => undefined);
    exited.catch(() => undefined);
    void new Promise<void>((done) => {
      const previous = onListening!;
      onListening = () => {
        clearTimeout(timer);
        previous();
        done();
      };
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    administrationToken,
    logs,
    otherOutput,
    child,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
};
