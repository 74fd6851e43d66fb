import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The test run's OpenStack Swift (see `test/support/swift.ts`), or why there is none. */
    swift: { readonly proxyUrl: string; readonly memcachePort: number } | { readonly unavailable: string };
  }
}

const run = promisify(execFile);

/** `../shared/tools/swift-aio.sh`: a single-node Swift on loopback from Debian's packages (read in place). */
const SWIFT_AIO = resolve(import.meta.dirname, "../../../shared/tools/swift-aio.sh");

/** The programs the single-node Swift needs (Debian's swift-* packages and memcached). */
const PROGRAMS = ["swift-proxy-server", "swift-object-server", "swift-container-server", "swift-account-server", "memcached"];

const onPath = (program: string): boolean => (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, program)));

/** `count` TCP ports free on 127.0.0.1 right now. */
const freePorts = async (count: number): Promise<number[]> => {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((done, fail) => {
          const server = createServer();
          server.once("error", fail);
          server.listen(0, "127.0.0.1", () => done(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise<void>((done) => server.close(() => done()))));
  return ports;
};

/**
 * Vitest global setup: one OpenStack Swift for the whole run (proxy with tempauth, answering Swift v1 and S3 through
 * s3api, on free loopback ports, data in a fresh temporary folder), started with `../shared/tools/swift-aio.sh` when
 * Debian's Swift packages are installed (`.ci/run` installs them). Without them the Swift tests are skipped with a
 * message, except under `CI=true`, where the run fails.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const missing = PROGRAMS.filter((program) => !onPath(program));
  const unavailable =
    missing.length > 0
      ? `${missing.join(", ")} not installed (Debian: apt-get install swift swift-proxy swift-object swift-container swift-account python3-swift memcached)`
      : !existsSync(SWIFT_AIO)
        ? `${SWIFT_AIO} not found`
        : null;
  if (unavailable !== null) {
    if (process.env.CI === "true") throw new Error(`The Swift tests must run under CI=true, but ${unavailable}`);
    console.warn(`\n[swift] Swift tests are SKIPPED: ${unavailable}\n`);
    project.provide("swift", { unavailable });
    return undefined;
  }
  const base = mkdtempSync(join(tmpdir(), "parsec-test-swift-"));
  const [proxy, object, container, account, memcache] = await freePorts(5);
  const env = {
    ...process.env,
    SWIFT_BASE: base,
    SWIFT_PORT: String(proxy),
    SWIFT_OBJ_PORT: String(object),
    SWIFT_CONT_PORT: String(container),
    SWIFT_ACCT_PORT: String(account),
    SWIFT_MEMCACHE_PORT: String(memcache),
  };
  const stop = async (): Promise<void> => {
    await run("bash", [SWIFT_AIO, "stop"], { env }).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  };
  try {
    await run("bash", [SWIFT_AIO, "setup"], { env, timeout: 60_000 });
    await run("bash", [SWIFT_AIO, "start"], { env, timeout: 60_000 });
  } catch (err) {
    const failure = err as { stderr?: string; message: string };
    await stop();
    throw new Error(`Swift did not start: ${failure.stderr || failure.message}`);
  }
  project.provide("swift", { proxyUrl: `http://127.0.0.1:${proxy}`, memcachePort: memcache! });
  return stop;
}
