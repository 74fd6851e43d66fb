/**
 * A local single-node OpenStack Swift on loopback (proxy with tempauth, also answering S3 through s3api), started with
 * `../shared/tools/swift-aio.sh` from Debian's packages, on free ports, its data in a fresh temporary folder. Used by
 * the test suite (one per run) and by the benchmarks. Not part of the server: the server only ever gets a `swift:` or
 * `s3:` configuration.
 *
 * tempauth accounts: `test:tester` / `testing` (and `test2:tester2` / `testing2`), with S3 access key `test:tester`
 * and secret `testing`.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** `../shared/tools/swift-aio.sh` next to the checkout (read in place). */
export const SWIFT_AIO = resolve(import.meta.dirname, "../../shared/tools/swift-aio.sh");

/** The Debian packages that provide what {@link SWIFT_AIO} runs. */
export const SWIFT_PACKAGES = ["swift", "swift-proxy", "swift-object", "swift-container", "swift-account", "python3-swift", "memcached"];

const PROGRAMS = ["swift-proxy-server", "swift-object-server", "swift-container-server", "swift-account-server", "memcached"];

const onPath = (program: string): boolean => (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, program)));

/** Why a local Swift cannot be started here (programs or the script missing), or null when it can. */
export const localSwiftUnavailable = (): string | null => {
  const missing = PROGRAMS.filter((program) => !onPath(program));
  if (missing.length > 0) return `${missing.join(", ")} not installed (Debian: apt-get install ${SWIFT_PACKAGES.join(" ")})`;
  return existsSync(SWIFT_AIO) ? null : `${SWIFT_AIO} not found`;
};

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

/** A running {@link startLocalSwift}. */
export interface LocalSwift {
  /** `http://127.0.0.1:<port>`: Swift v1 under `/auth/v1.0` and `/v1`, S3 at the root. */
  readonly proxyUrl: string;
  /** tempauth's memcached, whose flush makes Swift forget every token. */
  readonly memcachePort: number;
  /** Stops every Swift process and removes the data folder. */
  stop(): Promise<void>;
}

/** Starts a {@link LocalSwift} (about 2 s). @throws Error with the script's output when it does not come up. */
export const startLocalSwift = async (options: { readonly workers?: number } = {}): Promise<LocalSwift> => {
  const unavailable = localSwiftUnavailable();
  if (unavailable !== null) throw new Error(`Swift cannot start: ${unavailable}`);
  const base = mkdtempSync(join(tmpdir(), "parsec-swift-"));
  const [proxy, object, container, account, memcache] = await freePorts(5);
  const env = {
    ...process.env,
    SWIFT_BASE: base,
    SWIFT_PORT: String(proxy),
    SWIFT_OBJ_PORT: String(object),
    SWIFT_CONT_PORT: String(container),
    SWIFT_ACCT_PORT: String(account),
    SWIFT_MEMCACHE_PORT: String(memcache),
    SWIFT_WORKERS: String(options.workers ?? 0),
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
  return { proxyUrl: `http://127.0.0.1:${proxy}`, memcachePort: memcache!, stop };
};

/** Creates container `name` in the `test` account of the Swift at `proxyUrl` (an S3 bucket of the same name too). */
export const createSwiftContainer = async (proxyUrl: string, name: string): Promise<void> => {
  const auth = await fetch(`${proxyUrl}/auth/v1.0`, { headers: { "X-Auth-User": "test:tester", "X-Auth-Key": "testing" } });
  if (auth.status !== 200) throw new Error(`Swift tempauth answered ${auth.status}`);
  const answer = await fetch(`${auth.headers.get("x-storage-url")}/${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { "X-Auth-Token": auth.headers.get("x-auth-token")! },
  });
  if (answer.status !== 201 && answer.status !== 202) throw new Error(`creating container ${name}: HTTP ${answer.status}`);
};
