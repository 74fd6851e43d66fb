import { mkdtempSync, writeFileSync } from "node:fs";
import { TLS_CERT, TLS_KEY, TLS_OTHER_CERT } from "../support/tls.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseBackendRunSettings } from "../../src/bootstrap/cli/index.js";
import type { BackendSettings } from "../../src/bootstrap/settings.js";

type Env = Record<string, string | undefined>;

const REQUIRED = ["--db=MOCKED", "--blockstore=MOCKED", "--administration-token=T"];

function settings(argv: string[], env: Env = {}): BackendSettings {
  const result = parseBackendRunSettings(argv, env);
  if (!result.ok) throw new Error(result.error);
  return result.settings;
}

function withRequired(argv: string[], env: Env): string[] {
  const missing = REQUIRED.filter((flag) => {
    const name = flag.split("=")[0] as string;
    const envName = `PARSEC_${name.slice(2).toUpperCase().replaceAll("-", "_")}`;
    const onCommandLine = argv.some((arg) => arg.startsWith(name) || (name === "--blockstore" && arg === "-b"));
    return !onCommandLine && env[envName] === undefined;
  });
  return [...missing, ...argv];
}

function rejection(argv: string[], env: Env = {}): string {
  const result = parseBackendRunSettings(argv, env);
  if (result.ok) throw new Error(`accepted ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
  return result.error;
}

describe("defaults", () => {
  it("fills every optional setting", () => {
    expect(settings(REQUIRED)).toEqual({
      host: "127.0.0.1",
      port: 6777,
      db: { type: "MOCKED" },
      blockstore: { type: "MOCKED" },
      administrationToken: "T",
      spontaneousOrganizationBootstrap: false,
      tls: null,
      log: { level: "INFO", format: "CONSOLE", file: null },
      sentryUrl: null,
      sentryEnvironment: "production",
      backendAddr: { hostname: "127.0.0.1", port: 6777, useSsl: false },
      email: { transport: { type: "MOCKED" }, sender: "no-reply@parsec.com", language: "en" },
      debug: false,
    } satisfies BackendSettings);
  });

  it("gives PostgreSQL pool bounds 5..7", () => {
    expect(settings(["--db=postgresql://parsec@localhost/parsec", "-b", "POSTGRESQL", "--administration-token=T"]).db).toEqual({
      type: "POSTGRESQL",
      url: "postgresql://parsec@localhost/parsec",
      minConnections: 5,
      maxConnections: 7,
    });
  });
});

describe("precedence: flag > environment > default", () => {
  const env: Env = {
    PARSEC_HOST: "0.0.0.0",
    PARSEC_PORT: "7000",
    PARSEC_LOG_LEVEL: "warning",
    PARSEC_DB_MAX_CONNECTIONS: "20",
    PARSEC_BLOCKSTORE: "POSTGRESQL",
    PARSEC_SPONTANEOUS_ORGANIZATION_BOOTSTRAP: "yes",
  };

  it("takes the environment over defaults", () => {
    const s = settings(["--db=postgres://db/parsec", "--administration-token=T"], env);
    expect([s.host, s.port, s.log.level, s.blockstore, s.spontaneousOrganizationBootstrap]).toEqual(["0.0.0.0", 7000, "WARNING", { type: "POSTGRESQL" }, true]);
    expect(s.db).toMatchObject({ minConnections: 5, maxConnections: 20 });
  });

  it("takes flags (long and short) over the environment", () => {
    const s = settings(["-H", "::1", "-P", "8000", "-l", "debug", "--db=postgres://db/parsec", "--db-max-connections=9", "-b", "MOCKED", "--administration-token=T", "--no-spontaneous-organization-bootstrap"], env);
    expect([s.host, s.port, s.log.level, s.blockstore, s.spontaneousOrganizationBootstrap]).toEqual(["::1", 8000, "DEBUG", { type: "MOCKED" }, false]);
    expect(s.db).toMatchObject({ maxConnections: 9 });
  });

  it("reads every required setting from the environment", () => {
    const s = settings([], { PARSEC_DB: "mocked", PARSEC_BLOCKSTORE: "RAID1:0:MOCKED  RAID1:1:MOCKED", PARSEC_ADMINISTRATION_TOKEN: "tok" });
    expect(s.db).toEqual({ type: "MOCKED" });
    expect(s.blockstore).toEqual({ type: "RAID1", nodes: [{ type: "MOCKED" }, { type: "MOCKED" }] });
    expect(s.administrationToken).toBe("tok");
  });

  it("treats an empty environment variable as unset", () => {
    expect(settings(REQUIRED, { PARSEC_PORT: "", PARSEC_DEBUG: "" })).toMatchObject({ port: 6777, debug: false });
  });

  it("keeps the last value of a repeated single-valued flag", () => {
    expect(settings([...REQUIRED, "--port=1", "--port=2"]).port).toBe(2);
  });

  it.each([
    ["true", true], ["1", true], ["YES", true], ["on", true], ["y", true],
    ["false", false], ["0", false], ["No", false], ["off", false], ["n", false],
  ])("reads boolean environment value %s", (raw, value) => {
    expect(settings(REQUIRED, { PARSEC_DEBUG: raw, PARSEC_SPONTANEOUS_ORGANIZATION_BOOTSTRAP: raw })).toMatchObject({ debug: value, spontaneousOrganizationBootstrap: value });
  });

  it("reads the log settings, `-` meaning stderr", () => {
    expect(settings([...REQUIRED, "-f", "json", "-o", "/tmp/parsec.log"]).log).toEqual({ level: "INFO", format: "JSON", file: "/tmp/parsec.log" });
    expect(settings([...REQUIRED], { PARSEC_LOG_FORMAT: "Json", PARSEC_LOG_FILE: "-" }).log).toEqual({ level: "INFO", format: "JSON", file: null });
  });

  it("reads the Sentry DSN from --sentry-url, its alias --sentry-dsn, or either environment variable", () => {
    const dsn = "https://key@o1.ingest.sentry.io/42";
    expect(settings([...REQUIRED, `--sentry-url=${dsn}`]).sentryUrl).toBe(dsn);
    expect(settings([...REQUIRED, `--sentry-dsn=${dsn}`, "--sentry-environment=staging"])).toMatchObject({ sentryUrl: dsn, sentryEnvironment: "staging" });
    expect(settings(REQUIRED, { PARSEC_SENTRY_URL: dsn }).sentryUrl).toBe(dsn);
    expect(settings(REQUIRED, { PARSEC_SENTRY_DSN: dsn, PARSEC_SENTRY_ENVIRONMENT: "qa" })).toMatchObject({ sentryUrl: dsn, sentryEnvironment: "qa" });
    expect(settings([...REQUIRED, `--sentry-url=${dsn}`], { PARSEC_SENTRY_URL: "https://a@b/1", PARSEC_SENTRY_DSN: "https://c@d/2" }).sentryUrl).toBe(dsn);
  });
});

describe("--dev", () => {
  it("implies --debug --db=MOCKED --blockstore=MOCKED --administration-token=s3cr3t", () => {
    expect(settings(["--dev"])).toMatchObject({ debug: true, db: { type: "MOCKED" }, blockstore: { type: "MOCKED" }, administrationToken: "s3cr3t" });
  });

  it("yields to flags given explicitly", () => {
    const s = settings(["--dev", "--db=postgresql://db/parsec", "-b", "POSTGRESQL", "--administration-token=mine", "--no-debug"]);
    expect(s).toMatchObject({ debug: false, db: { type: "POSTGRESQL" }, blockstore: { type: "POSTGRESQL" }, administrationToken: "mine" });
  });

  it("wins over the environment, like the flags it stands for", () => {
    const s = settings(["--dev"], { PARSEC_DB: "postgresql://db/parsec", PARSEC_BLOCKSTORE: "POSTGRESQL", PARSEC_ADMINISTRATION_TOKEN: "env", PARSEC_DEBUG: "false" });
    expect(s).toMatchObject({ debug: true, db: { type: "MOCKED" }, blockstore: { type: "MOCKED" }, administrationToken: "s3cr3t" });
  });

  it("leaves the other settings to the environment", () => {
    expect(settings(["--dev"], { PARSEC_PORT: "0", PARSEC_HOST: "0.0.0.0" })).toMatchObject({ port: 0, host: "0.0.0.0" });
  });
});

describe("PARSEC_CMD_ARGS", () => {
  it("adds arguments, expanding $VAR and ${VAR} and honouring quotes", () => {
    const s = settings([], {
      PARSEC_CMD_ARGS: '--db=$DB_URL --host ${HOST} --administration-token "my-token" --log-file "/var/log/parsec server.log" -b \'s3::r:b:k:$ecret\'',
      DB_URL: "postgresql://u:p@db:5432/parsec",
      HOST: "0.0.0.0",
    });
    expect(s.db).toMatchObject({ type: "POSTGRESQL", url: "postgresql://u:p@db:5432/parsec" });
    expect(s.host).toBe("0.0.0.0");
    expect(s.administrationToken).toBe("my-token");
    expect(s.log.file).toBe("/var/log/parsec server.log");
    expect(s.blockstore).toMatchObject({ type: "S3", secret: "$ecret" });
  });

  it("is appended after the real command line: it wins for single values and adds RAID nodes", () => {
    const s = settings([...REQUIRED, "--port=1", "-b", "RAID1:0:MOCKED"].filter((a) => a !== "--blockstore=MOCKED"), { PARSEC_CMD_ARGS: "--port=2 -b RAID1:1:POSTGRESQL" });
    expect(s.port).toBe(2);
    expect(s.blockstore).toEqual({ type: "RAID1", nodes: [{ type: "MOCKED" }, { type: "POSTGRESQL" }] });
  });

  it("counts as the command line, so it wins over PARSEC_* variables", () => {
    expect(settings(REQUIRED, { PARSEC_CMD_ARGS: "--port=2", PARSEC_PORT: "3" }).port).toBe(2);
  });

  it("can turn on --dev", () => {
    expect(settings([], { PARSEC_CMD_ARGS: "--dev" }).administrationToken).toBe("s3cr3t");
  });

  it("reports an unterminated quote and unknown options", () => {
    expect(rejection(REQUIRED, { PARSEC_CMD_ARGS: "--host='x" })).toMatch(/PARSEC_CMD_ARGS: unterminated single quote/);
    expect(rejection(REQUIRED, { PARSEC_CMD_ARGS: "--bogus=1" })).toMatch(/--bogus/);
  });
});

describe("invalid settings are rejected, naming the setting", () => {
  const dir = mkdtempSync(join(tmpdir(), "parsec-cli-"));
  const key = TLS_KEY;
  const cert = TLS_CERT;
  const notPem = join(dir, "not-a-key.pem");
  writeFileSync(notPem, "key");

  it("accepts a TLS key and certificate that exist", () => {
    expect(settings([...REQUIRED, `--ssl-keyfile=${key}`], { PARSEC_SSL_CERTFILE: cert }).tls).toEqual({ keyFile: key, certFile: cert });
  });

  it.each<[string, string[], Env, RegExp]>([
    ["port not a number", ["--port=http"], {}, /'--port'.*`http` is not an integer between 0 and 65535/],
    ["port too large", ["--port=65536"], {}, /'--port'/],
    ["negative port", ["--port=-1"], {}, /'--port'/],
    ["port from env", [], { PARSEC_PORT: "1.5" }, /'--port' \(from PARSEC_PORT\)/],
    ["db neither MOCKED nor PostgreSQL", ["--db=mysql://db/parsec"], {}, /'--db'.*`mysql:` URLs are not supported/],
    ["db not a URL", ["--db=parsec"], {}, /'--db'.*neither `MOCKED` nor a URL/],
    ["db sslmode falling back to plain text", ["--db=postgresql://db/parsec?sslmode=prefer"], {}, /'--db'.*sslmode=prefer is not supported/],
    ["db from env", [], { PARSEC_DB: "sqlite:///x" }, /'--db' \(from PARSEC_DB\)/],
    ["db port out of range", ["--db=postgresql://postgres:pw@127.0.0.1:99999/parsec"], {}, /'--db'.*malformed PostgreSQL URL: port 99999 is out of range \(expected 1 to 65535\)/],
    ["db port not a number", ["--db=postgresql://db:x/parsec"], {}, /'--db'.*malformed PostgreSQL URL: the port is not a number/],
    ["db port parameter out of range", ["--db=postgresql://db/parsec?port=70000"], {}, /'--db'.*the `port` parameter `70000` is not a port number/],
    ["db password with an unencoded #", ["--db=postgresql://postgres:p#w@host/db"], {}, /'--db'.*malformed PostgreSQL URL: the user name or password seems to contain a `#` \(write it `%23`\).*must be percent-encoded/],
    ["db numeric password with an unencoded #", ["--db=postgresql://postgres:12#w@host/db"], {}, /'--db'.*seems to contain a `#`/],
    ["db password with an unencoded /", ["--db=postgresql://postgres:p/w@host/db"], {}, /'--db'.*seems to contain a `\/` \(write it `%2F`\)/],
    ["db password with an unencoded ?", ["--db=postgresql://postgres:12?w@host/db"], {}, /'--db'.*seems to contain a `\?` \(write it `%3F`\)/],
    ["db password with a bad percent escape", ["--db=postgresql://postgres:50%off@host/db"], {}, /'--db'.*a `%` is not followed by two hexadecimal digits/],
    ["db user name but no host", ["--db=postgresql://u:pw@/db?host=/sock"], {}, /'--db'.*malformed PostgreSQL URL: it has a user name but no host.*`postgresql:\/\/user@localhost\/db\?host=\/dir`/],
    ["db several hosts", ["--db=postgresql://db1,db2/parsec"], {}, /'--db'.*several hosts/],
    ["db scheme without //", ["--db=postgresql:parsec"], {}, /'--db'.*malformed PostgreSQL URL: expected `postgresql:\/\/`/],
    ["db sslrootcert missing", [`--db=postgresql://db/parsec?sslmode=verify-full&sslrootcert=${join(dir, "ca.pem")}`], {}, /'--db'.*`sslrootcert` names the file `.*ca\.pem`, which does not exist or cannot be read/],
    ["db sslcert a directory", [`--db=postgresql://db/parsec?sslcert=${dir}&sslkey=${key}`], {}, /'--db'.*`sslcert` names `.*`, which is not a regular file/],
    ["db sslkey missing", [`--db=postgresql://db/parsec?sslcert=${cert}&sslkey=${join(dir, "client.key")}`], {}, /'--db'.*`sslkey` names the file `.*client\.key`/],
    ["db sslcert without sslkey", [`--db=postgresql://db/parsec?sslcert=${cert}`], {}, /'--db'.*`sslcert` and `sslkey` must be given together/],
    ["min connections above max", ["--db-min-connections=8"], {}, /'--db-min-connections'.*8 is greater than --db-max-connections \(7\)/],
    ["min above max from env", [], { PARSEC_DB_MIN_CONNECTIONS: "3", PARSEC_DB_MAX_CONNECTIONS: "2" }, /PARSEC_DB_MIN_CONNECTIONS.*3 is greater/],
    ["zero max connections", ["--db-max-connections=0"], {}, /'--db-max-connections'/],
    ["bad log level", ["--log-level=CRITICALLY"], {}, /'--log-level'.*not one of DEBUG, INFO, WARNING, ERROR/],
    ["bad log level from env", [], { PARSEC_LOG_LEVEL: "trace" }, /'--log-level' \(from PARSEC_LOG_LEVEL\)/],
    ["bad log format", ["-f", "xml"], {}, /'--log-format'.*not one of CONSOLE, JSON/],
    ["ssl key without certificate", [`--ssl-keyfile=${key}`], {}, /'--ssl-certfile'.*together with --ssl-keyfile/],
    ["ssl certificate without key", [], { PARSEC_SSL_CERTFILE: cert }, /'--ssl-keyfile'.*together with --ssl-certfile/],
    ["missing ssl file", [`--ssl-keyfile=${join(dir, "nope.pem")}`, `--ssl-certfile=${cert}`], {}, /'--ssl-keyfile'.*does not exist/],
    ["ssl file is a directory", [`--ssl-keyfile=${key}`, `--ssl-certfile=${dir}`], {}, /'--ssl-certfile'.*not a regular file/],
    ["ssl key not PEM", [`--ssl-keyfile=${notPem}`, `--ssl-certfile=${cert}`], {}, /'--ssl-keyfile'.*is not a PEM private key/],
    ["ssl certificate not PEM", [`--ssl-keyfile=${key}`, `--ssl-certfile=${notPem}`], {}, /'--ssl-certfile'.*is not a PEM certificate/],
    ["ssl key and certificate swapped", [`--ssl-keyfile=${cert}`, `--ssl-certfile=${key}`], {}, /'--ssl-keyfile'.*is not a PEM private key/],
    ["ssl certificate of another key", [`--ssl-keyfile=${key}`, `--ssl-certfile=${TLS_OTHER_CERT}`], {}, /'--ssl-certfile'.*does not match the key/],
    ["bad boolean env", [], { PARSEC_SPONTANEOUS_ORGANIZATION_BOOTSTRAP: "maybe" }, /'--spontaneous-organization-bootstrap' \(from PARSEC_SPONTANEOUS_ORGANIZATION_BOOTSTRAP\).*not a boolean/],
    ["bad debug env", [], { PARSEC_DEBUG: "2" }, /'--debug' \(from PARSEC_DEBUG\)/],
    ["bad blockstore", ["-b", "MOCKED", "-b", "POSTGRESQL"], {}, /'--blockstore'.*only allowed as RAID/],
    ["bad blockstore from env", [], { PARSEC_BLOCKSTORE: "s3:x" }, /'--blockstore' \(from PARSEC_BLOCKSTORE\).*S3/],
    ["bad sentry url", ["--sentry-url=not a dsn"], {}, /'--sentry-url'.*Sentry DSN/],
    ["conflicting sentry env vars", [], { PARSEC_SENTRY_URL: "https://a@b/1", PARSEC_SENTRY_DSN: "https://c@d/2" }, /PARSEC_SENTRY_URL and PARSEC_SENTRY_DSN/],
    ["empty host", ["--host= "], {}, /'--host'.*must not be empty/],
    ["unknown option", ["--email-hots=smtp"], {}, /--email-hots/],
  ])("%s", (_, argv, env, message) => {
    expect(rejection(withRequired(argv, env), env)).toMatch(message);
  });

  it("lists every missing required setting with its environment variable", () => {
    const error = rejection([]);
    expect(error).toMatch(/Missing setting '--db' \(or environment variable PARSEC_DB\)/);
    expect(error).toMatch(/Missing setting '--blockstore' \(or environment variable PARSEC_BLOCKSTORE\)/);
    expect(error).toMatch(/Missing setting '--administration-token' \(or environment variable PARSEC_ADMINISTRATION_TOKEN\)/);
  });

  it("never quotes the password of a malformed database URL", () => {
    for (const url of ["postgresql://postgres:s3cretpw#x@host/db", "postgresql://postgres:s3cretpw@/db", "postgresql://postgres:s3cretpw%zz@host/db", "postgresql://s3cretpw:123456"]) {
      const error = rejection(withRequired([`--db=${url}`], {}));
      expect(error).toMatch(/malformed PostgreSQL URL/);
      expect(error).not.toMatch(/s3cretpw|123456/);
    }
  });

  it("accepts the database URLs node-postgres and slonik read alike", () => {
    const accepted = [
      "postgresql://postgres:p%23w%2F%3F%40%25@127.0.0.1:65535/parsec",
      "postgresql://u:p@w@host/db",
      "postgresql://u@localhost/db?host=/var/run/postgresql",
      "postgresql:///parsec?host=/var/run/postgresql",
      "postgresql://[::1]:5432/db?application_name=a@b&port=5433",
      `postgresql://db/parsec?sslmode=verify-full&sslrootcert=${cert}&sslcert=${cert}&sslkey=${key}`,
    ];
    for (const url of accepted) expect(settings([`--db=${url}`, "-b", "POSTGRESQL", "--administration-token=T"]).db).toMatchObject({ type: "POSTGRESQL", url });
  });

  it("reports several problems at once", () => {
    expect(rejection([...REQUIRED, "--port=x", "--log-format=xml"]).split("\n")).toHaveLength(2);
  });
});
