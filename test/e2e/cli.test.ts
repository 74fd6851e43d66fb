import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { admin, anonymous, connectAuthenticated, expectSession } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { adminQuery, createTestDatabase, dropTestDatabase } from "../support/postgres.js";
import { bootstrapFields, freePort, within } from "./helpers.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PARSEC_")));

/** A `parsec` process started with `node --import tsx src/bootstrap/main.ts …`, its output collected. */
interface ParsecProcess {
  readonly child: ChildProcess;
  stderr: string;
  stdout: string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
}

const running = new Set<ChildProcess>();

const startParsec = (args: string[]): ParsecProcess => {
  const child = spawn(process.execPath, ["--import", "tsx", "src/bootstrap/main.ts", ...args], { cwd: root, env: cleanEnv, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const proc: ParsecProcess = {
    child,
    stderr: "",
    stdout: "",
    exited: new Promise((resolve) => child.once("exit", (code, signal) => (running.delete(child), resolve(code ?? signal ?? -1)))),
  };
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (proc.stderr += chunk));
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (proc.stdout += chunk));
  return proc;
};

/** Resolves once `pattern` appears on the process's stderr; rejects if it exits first. */
const waitForStderr = (proc: ParsecProcess, pattern: RegExp): Promise<void> =>
  new Promise((resolve, reject) => {
    const check = () => {
      if (!pattern.test(proc.stderr)) return;
      proc.child.stderr!.off("data", check);
      resolve();
    };
    proc.child.stderr!.on("data", check);
    void proc.exited.then((code) => reject(new Error(`parsec exited (${code}) before ${pattern}: ${proc.stderr}`)));
    check();
  });

afterEach(() => {
  for (const child of running) child.kill("SIGKILL");
});

describe("the `parsec backend run` process", () => {
  it("starts with --dev on a given port, serves, and exits 0 on SIGTERM (closing sessions with 1001)", async () => {
    const port = await freePort();
    const proc = startParsec(["backend", "run", "--dev", "-P", String(port)]);
    await within(20_000, waitForStderr(proc, /listening/i), "the listening log line");
    expect(proc.stderr).toContain(`127.0.0.1:${port}`);

    const baseUrl = `http://127.0.0.1:${port}`;
    const administration = admin(baseUrl, "s3cr3t");
    const created = await administration.createOrganization({ organization_id: "CliOrg" });
    expect(created.status).toBe(200);
    expect((await administration.getOrganization("CliOrg")).body).toMatchObject({ is_bootstrapped: false });

    let closed: Promise<{ code: number }> | null = null;
    if (fixtures) {
      const bootstrapToken = (created.body as { bootstrap_token: string }).bootstrap_token;
      expect((await anonymous(baseUrl, "CliOrg", "organization_bootstrap", bootstrapFields(fixtures, { bootstrapToken }))).reply).toEqual({ status: "ok" });
      const session = expectSession(
        await connectAuthenticated({
          url: `ws://127.0.0.1:${port}/ws`,
          organizationId: "CliOrg",
          deviceId: fixtures.alice.deviceId,
          signingKey: fixtures.alice.signingKey,
          rootVerifyKey: fixtures.organization.rootVerifyKey,
        }),
      );
      expect(await session.ping("cli")).toBe("cli");
      closed = session.closed;
    }

    proc.child.kill("SIGTERM");
    expect(await within(10_000, proc.exited, "exit after SIGTERM")).toBe(0);
    if (closed) expect((await within(2_000, closed, "session close")).code).toBe(1001);
  });

  it("exits 1 naming the database when the PostgreSQL of --db cannot be reached", async () => {
    const proc = startParsec(["backend", "run", "--dev", "-P", "0", "--db", "postgresql://127.0.0.1:1/y"]);
    expect(await within(20_000, proc.exited, "exit")).toBe(1);
    expect(proc.stderr).toContain("cannot connect to PostgreSQL at 127.0.0.1:1");
  });

  it("exits 0 on a SIGTERM sent the moment the listening line shows (the stop signals are handled before start-up)", async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const proc = startParsec(["backend", "run", "--dev", "-P", "0"]);
      let sent = false;
      proc.child.stderr!.on("data", () => {
        if (!sent && /listening/i.test(proc.stderr)) {
          sent = true;
          proc.child.kill("SIGTERM");
        }
      });
      expect(await within(20_000, proc.exited, "exit")).toBe(0);
      expect(sent).toBe(true);
    }
  });

  it("warns at start that --db=MOCKED keeps everything in memory", async () => {
    const port = await freePort();
    const proc = startParsec(["backend", "run", "--dev", "-P", String(port)]);
    await within(20_000, waitForStderr(proc, /listening/i), "the listening log line");
    expect(proc.stderr).toMatch(/MOCKED.*memory.*lost/);
    proc.child.kill("SIGTERM");
    expect(await within(10_000, proc.exited, "exit")).toBe(0);
  });

  it("refuses (exit 2) a database without the migrations, naming `parsec backend migrate`; runs once migrated", async () => {
    const database = await createTestDatabase({ migrated: false });
    try {
      const port = await freePort();
      const refused = startParsec(["backend", "run", "--dev", "-P", String(port), "--db", database.url]);
      expect(await within(20_000, refused.exited, "exit")).toBe(2);
      expect(refused.stderr).toContain("not applied yet: 0001_core.sql");
      expect(refused.stderr).toContain("parsec backend migrate");
      expect(refused.stderr).not.toContain(new URL(database.url).password);

      const migrate = startParsec(["backend", "migrate", "--db", database.url]);
      expect(await within(30_000, migrate.exited, "migrate exit")).toBe(0);
      expect(migrate.stdout).toContain("0001_core.sql");
      const again = startParsec(["backend", "migrate", "--db", database.url]);
      expect(await within(30_000, again.exited, "migrate exit")).toBe(0);
      expect(again.stdout).toMatch(/nothing to apply/i);

      const run = startParsec(["backend", "run", "--dev", "-P", String(port), "--db", database.url, "--blockstore", "POSTGRESQL"]);
      await within(20_000, waitForStderr(run, /listening/i), "the listening log line");
      expect(run.stderr).not.toMatch(/MOCKED.*memory/);
      run.child.kill("SIGTERM");
      expect(await within(10_000, run.exited, "exit")).toBe(0);
    } finally {
      await dropTestDatabase(database.name);
    }
  });

  it("refuses (exit 2) a database whose applied migration was altered, or that knows a migration this build does not", async () => {
    const database = await createTestDatabase();
    try {
      await adminQuery("UPDATE schema_migration SET checksum = 'tampered' WHERE id = 1", [], database.name);
      const altered = startParsec(["backend", "run", "--dev", "-P", "0", "--db", database.url]);
      expect(await within(20_000, altered.exited, "exit")).toBe(2);
      expect(altered.stderr).toMatch(/altered/i);
      await dropTestDatabase(database.name);
    } catch (err) {
      await dropTestDatabase(database.name);
      throw err;
    }
    const unknown = await createTestDatabase();
    try {
      await adminQuery("INSERT INTO schema_migration (id, name, checksum) VALUES (9999, 'from_the_future', 'x')", [], unknown.name);
      const refused = startParsec(["backend", "run", "--dev", "-P", "0", "--db", unknown.url]);
      expect(await within(20_000, refused.exited, "exit")).toBe(2);
      expect(refused.stderr).toMatch(/9999_from_the_future.sql was applied on .* but has no file/);
    } finally {
      await dropTestDatabase(unknown.name);
    }
  });

  it("refuses (exit 2, one line) a role without privileges on the tables, naming what it lacks and the GRANTs; runs once granted", async () => {
    const database = await createTestDatabase();
    const role = `parsec_app_${process.pid}`;
    try {
      await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD 'app-password'`);
      const url = new URL(database.url);
      url.username = role;
      url.password = "app-password";
      const refused = startParsec(["backend", "run", "--dev", "-P", "0", "--db", url.toString(), "--blockstore", "POSTGRESQL"]);
      expect(await within(20_000, refused.exited, "exit")).toBe(2);
      const errors = refused.stderr.split("\n").filter((line) => line.startsWith("Error:"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(new RegExp(`^Error: permission denied: PostgreSQL role "${role}" lacks `));
      expect(errors[0]).toMatch(/SELECT, INSERT, UPDATE, DELETE on tables block, block_data, [a-z_, ]+… \(\d+ tables\)/);
      expect(errors[0]).toContain("SELECT on table schema_migration");
      expect(errors[0]).toContain("USAGE on sequence event_payload_id_seq");
      expect(errors[0]).toContain(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "public" TO "${role}"`);
      expect(errors[0]).toContain("parsec backend migrate");
      expect(refused.stderr).not.toMatch(/FATAL|\n\s+at /);
      expect(refused.stderr).not.toContain("app-password");

      // Some privileges are not enough: what is still missing is named, what was granted is not.
      await adminQuery(`GRANT SELECT ON schema_migration TO ${role}`, [], database.name);
      const partly = startParsec(["backend", "run", "--dev", "-P", "0", "--db", url.toString(), "--blockstore", "POSTGRESQL"]);
      expect(await within(20_000, partly.exited, "exit")).toBe(2);
      expect(partly.stderr).toMatch(/lacks SELECT, INSERT, UPDATE, DELETE on tables [a-z_, ]+, … \(\d+ tables\); USAGE on sequence event_payload_id_seq/);
      expect(partly.stderr).not.toContain("schema_migration;");

      await adminQuery(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`, [], database.name);
      await adminQuery(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${role}`, [], database.name);
      const port = await freePort();
      const run = startParsec(["backend", "run", "--dev", "-P", String(port), "--db", url.toString(), "--blockstore", "POSTGRESQL"]);
      await within(20_000, waitForStderr(run, /listening/i), "the listening log line");
      expect((await admin(`http://127.0.0.1:${port}`, "s3cr3t").createOrganization({ organization_id: "GrantedOrg" })).status).toBe(200);
      run.child.kill("SIGTERM");
      expect(await within(10_000, run.exited, "exit")).toBe(0);
    } finally {
      await dropTestDatabase(database.name);
      await adminQuery(`DROP ROLE IF EXISTS ${role}`);
    }
  });
});
