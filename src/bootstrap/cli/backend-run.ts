import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { Command, Option, type BaseContext } from "./clipanion.js";
import { parseBackendAddr, type BackendAddr } from "../../domain/backend-addr.js";
import type { Parsed } from "../../domain/result.js";
import type { BackendSettings, DatabaseSettings, EmailSettings, LogFormat, LogLevel } from "../settings.js";
import { parseBlockStore } from "./blockstore.js";
import { parseBoolean, parseChoice, parseEmailAddress, parseHostName, parseInteger } from "./values.js";

/** Environment variables as read by the CLI (`process.env` in production). */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * What `parsec backend run` was given on its command line (after `PARSEC_CMD_ARGS` was appended), before the
 * environment and defaults are applied. `undefined` means "not on the command line".
 */
export interface BackendRunFlags {
  readonly host?: string | undefined;
  readonly port?: string | undefined;
  readonly db?: string | undefined;
  readonly dbMinConnections?: string | undefined;
  readonly dbMaxConnections?: string | undefined;
  readonly blockstore?: readonly string[] | undefined;
  readonly administrationToken?: string | undefined;
  readonly spontaneousOrganizationBootstrap?: boolean | undefined;
  readonly sslKeyfile?: string | undefined;
  readonly sslCertfile?: string | undefined;
  readonly logLevel?: string | undefined;
  readonly logFormat?: string | undefined;
  readonly logFile?: string | undefined;
  readonly sentryUrl?: string | undefined;
  readonly sentryEnvironment?: string | undefined;
  readonly backendAddr?: string | undefined;
  readonly emailHost?: string | undefined;
  readonly emailPort?: string | undefined;
  readonly emailHostUser?: string | undefined;
  readonly emailHostPassword?: string | undefined;
  readonly emailUseSsl?: boolean | undefined;
  readonly emailUseTls?: boolean | undefined;
  readonly emailSender?: string | undefined;
  readonly emailLanguage?: string | undefined;
  readonly debug?: boolean | undefined;
  readonly dev?: boolean | undefined;
}

/** The outcome of settings resolution: the settings, or every problem found, one per line. */
export type BackendRunSettingsResult =
  | { readonly ok: true; readonly settings: BackendSettings }
  | { readonly ok: false; readonly error: string };

const DEV_ADMINISTRATION_TOKEN = "s3cr3t";
const DEFAULT_EMAIL_SENDER = "no-reply@parsec.com";
const EMAIL_LANGUAGES: readonly EmailSettings["language"][] = ["en", "fr"];
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]"]);
const LOG_LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR"];
const LOG_FORMATS: readonly LogFormat[] = ["CONSOLE", "JSON"];

interface Raw<T> {
  readonly value: T;
  readonly origin: string;
}

class Resolver {
  readonly errors: string[] = [];

  constructor(private readonly env: Environment) {}

  private fromEnv(name: string): Raw<string> | undefined {
    const value = this.env[name];
    return value === undefined || value === "" ? undefined : { value, origin: name };
  }

  /** Command line, else `--dev` value, else environment variable. */
  raw(flag: string, given: string | undefined, envName: string, dev?: string): Raw<string> | undefined {
    if (given !== undefined) return { value: given, origin: flag };
    if (dev !== undefined) return { value: dev, origin: "--dev" };
    return this.fromEnv(envName);
  }

  flag(flag: string, given: boolean | undefined, envName: string, dev?: boolean): boolean {
    if (given !== undefined) return given;
    if (dev !== undefined) return dev;
    const raw = this.fromEnv(envName);
    return raw === undefined ? false : this.check(flag, raw, parseBoolean, false);
  }

  check<T>(flag: string, raw: Raw<string>, parse: (value: string) => Parsed<T>, fallback: T): T {
    const result = parse(raw.value);
    if (result.ok) return result.value;
    this.fail(flag, raw.origin, result.error);
    return fallback;
  }

  fail(flag: string, origin: string, message: string): void {
    const source = origin === flag ? `'${flag}'` : `'${flag}' (from ${origin})`;
    this.errors.push(`Invalid value for ${source}: ${message}`);
  }

  conflict(message: string): void {
    this.errors.push(message);
  }

  missing(flag: string, envName: string): void {
    this.errors.push(`Missing setting '${flag}' (or environment variable ${envName}); it is required unless --dev is given`);
  }
}

/** `sslmode` values of a `--db` URL that every connection of the server honours (each one verifies certificates but `disable` and `no-verify`). */
const SSL_MODES = new Set(["disable", "no-verify", "require", "verify-ca", "verify-full"]);

/** Query parameters of a `--db` URL naming a file the connections read (a CA certificate, a client certificate and its key). */
const SSL_FILE_PARAMETERS = ["sslrootcert", "sslcert", "sslkey"] as const;

const PERCENT_ENCODING_HINT =
  "characters such as `#`, `@`, `/`, `?` and `%` in a user name or password must be percent-encoded (`%23`, `%40`, `%2F`, `%3F`, `%25`)";
const SOCKET_HINT = "for a Unix-domain socket write `postgresql://user@localhost/db?host=/dir`";
const PERCENT_CODES: Readonly<Record<string, string>> = { "#": "%23", "/": "%2F", "?": "%3F" };

const isPortNumber = (text: string): boolean => /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;

const decodes = (text: string): boolean => {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
};

/**
 * Why `raw` (which starts with `postgres://` or `postgresql://`) is not a URL that both node-postgres and slonik read as
 * libpq would, or null when it is. Never quotes the user name or the password.
 */
function postgresUrlProblem(raw: string): string | null {
  const rest = raw.slice(raw.indexOf("//") + 2);
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const at = authority.lastIndexOf("@");
  const hostPort = authority.slice(at + 1);
  const hostMatch = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/s.exec(hostPort);
  const host = hostMatch?.[1] ?? hostPort;
  const port = hostMatch?.[2];
  // An `@` past the end of the authority, with none inside it: the user information most likely holds a `#`, `/` or
  // `?` that cut the authority short (`postgres:p#w@host/db` reads as host `postgres`, port `p`).
  const laterAt = at < 0 && end >= 0 ? rest.indexOf("@", end) : -1;
  if (laterAt >= 0) {
    const cut = rest[end] ?? "";
    const between = rest.slice(end, laterAt);
    const cutShort = port !== undefined ? !/[=&]/.test(between) : cut === "#" || !URL.canParse(raw);
    if (cutShort) return `the user name or password seems to contain a \`${cut}\` (write it \`${PERCENT_CODES[cut] ?? cut}\`): ${PERCENT_ENCODING_HINT}`;
  }
  if (host === "" && at >= 0) return `it has a user name but no host (\`…@/…\`); ${SOCKET_HINT}`;
  if (host === "" && port !== undefined) return `it has a port but no host; ${SOCKET_HINT}`;
  if (hostPort.includes(",")) return "several hosts (`host1,host2`) are not supported: give one";
  if (port !== undefined && port !== "") {
    if (!/^\d+$/.test(port)) return "the port is not a number";
    // Without user information before it, what reads as a port may be a password: it is not quoted then.
    if (!isPortNumber(port)) return `${at >= 0 ? `port ${port}` : "the port"} is out of range (expected 1 to 65535)`;
  }
  if (raw.includes("#")) return `it contains a \`#\`, which has no meaning in a PostgreSQL URL: ${PERCENT_ENCODING_HINT}`;
  if (!URL.canParse(raw)) return `it is not a valid URL (${PERCENT_ENCODING_HINT})`;
  const url = new URL(raw);
  if (![url.username, url.password, url.hostname, url.pathname].every(decodes)) {
    return `a \`%\` is not followed by two hexadecimal digits (write a \`%\` itself \`%25\`): ${PERCENT_ENCODING_HINT}`;
  }
  for (const value of url.searchParams.getAll("port")) {
    if (value !== "" && !isPortNumber(value)) return `the \`port\` parameter \`${value}\` is not a port number (expected 1 to 65535)`;
  }
  return null;
}

/** Why the file `path` named by the `parameter` of a `--db` URL cannot be read, or null when it can. */
function sslFileProblem(parameter: string, path: string): string | null {
  try {
    if (!statSync(path).isFile()) return `\`${parameter}\` names \`${path}\`, which is not a regular file`;
    accessSync(path, constants.R_OK);
    return null;
  } catch {
    return `\`${parameter}\` names the file \`${path}\`, which does not exist or cannot be read`;
  }
}

/**
 * Reads a `--db` value: `MOCKED` (any case, returned upper-case) or a `postgresql://`/`postgres://` URL that
 * node-postgres and slonik both read as libpq would: a port in 1..65535, user name and password percent-encoded, a host
 * (a Unix-domain socket directory goes in `?host=`), `sslmode`, when given, one of {@link SSL_MODES} (libpq's `allow`
 * and `prefer`, which fall back to plain text, are refused), and the files of `sslrootcert`, `sslcert` and `sslkey`
 * readable (`sslcert` and `sslkey` together). Error messages never quote the user name or the password.
 */
export function parseDatabaseUrl(raw: string): Parsed<string> {
  if (raw.toUpperCase() === "MOCKED") return { ok: true, value: "MOCKED" };
  if (/^postgres(ql)?:/i.test(raw)) {
    const problem = /^postgres(ql)?:\/\//i.test(raw) ? postgresUrlProblem(raw) : "expected `postgresql://` followed by the host";
    if (problem !== null) return { ok: false, error: `malformed PostgreSQL URL: ${problem}` };
    const params = new URL(raw).searchParams;
    const sslmode = params.get("sslmode");
    if (sslmode !== null && !SSL_MODES.has(sslmode))
      return { ok: false, error: `sslmode=${sslmode} is not supported (expected one of ${[...SSL_MODES].join(", ")})` };
    for (const parameter of SSL_FILE_PARAMETERS) {
      for (const path of params.getAll(parameter)) {
        const fileProblem = path === "" ? null : sslFileProblem(parameter, path);
        if (fileProblem !== null) return { ok: false, error: fileProblem };
      }
    }
    if (!params.get("sslcert") !== !params.get("sslkey")) {
      return { ok: false, error: "`sslcert` and `sslkey` must be given together (a client certificate needs its key)" };
    }
    return { ok: true, value: raw };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1];
  const what = scheme === undefined ? "it is neither `MOCKED` nor a URL" : `\`${scheme}:\` URLs are not supported`;
  return { ok: false, error: `${what} (expected \`MOCKED\` or \`postgresql://…\`)` };
}

function parseExistingFile(raw: string): Parsed<string> {
  try {
    const stat = statSync(raw);
    return stat.isFile() ? { ok: true, value: raw } : { ok: false, error: `\`${raw}\` is not a regular file` };
  } catch {
    return { ok: false, error: `file \`${raw}\` does not exist or cannot be read` };
  }
}

/** Why a TLS key and certificate cannot serve together (not PEM, or not a pair), or null when they can. */
function tlsPairProblem(keyFile: string, certFile: string): { setting: "--ssl-keyfile" | "--ssl-certfile"; error: string } | null {
  let key: KeyObject;
  let cert: X509Certificate;
  try {
    key = createPrivateKey(readFileSync(keyFile));
  } catch {
    return { setting: "--ssl-keyfile", error: `\`${keyFile}\` is not a PEM private key` };
  }
  try {
    cert = new X509Certificate(readFileSync(certFile));
  } catch {
    return { setting: "--ssl-certfile", error: `\`${certFile}\` is not a PEM certificate` };
  }
  return cert.checkPrivateKey(key) ? null : { setting: "--ssl-certfile", error: `the certificate \`${certFile}\` does not match the key \`${keyFile}\`` };
}

function parseSentryUrl(raw: string): Parsed<string> {
  return /^https?:\/\//i.test(raw) && URL.canParse(raw)
    ? { ok: true, value: raw }
    : { ok: false, error: "expected a Sentry DSN such as `https://<key>@<host>/<project>`" };
}

function parseNonEmpty(raw: string): Parsed<string> {
  return raw.trim() === "" ? { ok: false, error: "must not be empty" } : { ok: true, value: raw };
}

/** A token an HTTP client can send verbatim in `Authorization: Bearer <token>`: printable ASCII, no spaces. */
function parseAdministrationToken(raw: string): Parsed<string> {
  if (raw === "") return { ok: false, error: "must not be empty" };
  return /^[\x21-\x7e]+$/.test(raw)
    ? { ok: true, value: raw }
    : { ok: false, error: "must be printable ASCII without spaces (it travels in an HTTP `Authorization: Bearer` header)" };
}

function parseBackendAddrSetting(raw: string): Parsed<BackendAddr> {
  const result = parseBackendAddr(raw.trim());
  return result.ok ? result : { ok: false, error: `${result.error} in \`${raw}\` (expected \`parsec://<host>[:<port>][?no_ssl=true]\`)` };
}

function parseEmailHost(raw: string): Parsed<string> {
  return raw.trim().toUpperCase() === "MOCKED" ? { ok: true, value: "MOCKED" } : parseHostName(raw);
}

/**
 * `parsec://<host>:<port>` for a server listening on `host:port` (`localhost` for a wildcard host), with
 * `?no_ssl=true` when it serves no TLS.
 */
function listeningAddr(host: string, port: number, tls: boolean): string {
  const hostname = WILDCARD_HOSTS.has(host) ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return `parsec://${hostname}:${port}${tls ? "" : "?no_ssl=true"}`;
}

function resolveBackendAddr(r: Resolver, flags: BackendRunFlags, dev: boolean, listening: { host: string; port: number; tls: boolean }): BackendAddr {
  const fallback: BackendAddr = { hostname: "localhost", port: listening.port, useSsl: listening.tls };
  const devAddr = dev ? listeningAddr("localhost", listening.port, listening.tls) : undefined;
  const raw = r.raw("--backend-addr", flags.backendAddr, "PARSEC_BACKEND_ADDR", devAddr) ?? { value: listeningAddr(listening.host, listening.port, listening.tls), origin: "--host/--port" };
  return r.check("--backend-addr", raw, parseBackendAddrSetting, fallback);
}

function resolveEmail(r: Resolver, flags: BackendRunFlags, dev: boolean): EmailSettings {
  const host = r.raw("--email-host", flags.emailHost, "PARSEC_EMAIL_HOST", dev ? "MOCKED" : undefined);
  const port = r.raw("--email-port", flags.emailPort, "PARSEC_EMAIL_PORT");
  const user = r.raw("--email-host-user", flags.emailHostUser, "PARSEC_EMAIL_HOST_USER");
  const password = r.raw("--email-host-password", flags.emailHostPassword, "PARSEC_EMAIL_HOST_PASSWORD");
  const useSsl = r.flag("--email-use-ssl", flags.emailUseSsl, "PARSEC_EMAIL_USE_SSL");
  const useTls = r.flag("--email-use-tls", flags.emailUseTls, "PARSEC_EMAIL_USE_TLS");
  const sender = r.raw("--email-sender", flags.emailSender, "PARSEC_EMAIL_SENDER", dev ? DEFAULT_EMAIL_SENDER : undefined);
  const language = r.raw("--email-language", flags.emailLanguage, "PARSEC_EMAIL_LANGUAGE");

  const hostValue = host === undefined ? "MOCKED" : r.check("--email-host", host, parseEmailHost, "MOCKED");
  const portValue = port === undefined ? 25 : r.check("--email-port", port, (v) => parseInteger(v, 1, 65535), 25);
  if (useSsl && useTls) {
    r.conflict(
      "Settings '--email-use-ssl' and '--email-use-tls' are mutually exclusive: give --email-use-ssl for TLS from the first byte (port 465 style) or --email-use-tls for STARTTLS (port 587 style), not both",
    );
  }
  if ((user === undefined) !== (password === undefined)) {
    const [given, absent] = user === undefined ? ["--email-host-password", "--email-host-user"] : ["--email-host-user", "--email-host-password"];
    r.fail(absent, absent, `must be given together with ${given} (SMTP login needs both)`);
  }
  if (host !== undefined && hostValue !== "MOCKED" && sender === undefined) {
    r.conflict("Missing setting '--email-sender' (or environment variable PARSEC_EMAIL_SENDER); it is required when --email-host names an SMTP server");
  }
  return {
    transport:
      hostValue === "MOCKED"
        ? { type: "MOCKED" }
        : {
            type: "SMTP",
            host: hostValue,
            port: portValue,
            auth: user !== undefined && password !== undefined ? { user: user.value, password: password.value } : null,
            security: useSsl ? "IMPLICIT_TLS" : useTls ? "STARTTLS" : "NONE",
          },
    sender: sender === undefined ? DEFAULT_EMAIL_SENDER : r.check("--email-sender", sender, parseEmailAddress, DEFAULT_EMAIL_SENDER),
    language: language === undefined ? "en" : r.check("--email-language", language, (v) => parseChoice(v, EMAIL_LANGUAGES), "en"),
  };
}

function resolveSentry(r: Resolver, flags: BackendRunFlags): string | null {
  const url = r.raw("--sentry-url", flags.sentryUrl, "PARSEC_SENTRY_URL");
  const dsn = r.raw("--sentry-url", undefined, "PARSEC_SENTRY_DSN");
  if (flags.sentryUrl === undefined && url !== undefined && dsn !== undefined && url.value !== dsn.value) {
    r.fail("--sentry-url", "PARSEC_SENTRY_URL", "PARSEC_SENTRY_URL and PARSEC_SENTRY_DSN are both set, to different values");
    return null;
  }
  const raw = url ?? dsn;
  return raw === undefined ? null : r.check("--sentry-url", raw, parseSentryUrl, null);
}

function resolveDatabase(r: Resolver, flags: BackendRunFlags, dev: boolean): DatabaseSettings {
  const url = r.raw("--db", flags.db, "PARSEC_DB", dev ? "MOCKED" : undefined);
  const min = r.raw("--db-min-connections", flags.dbMinConnections, "PARSEC_DB_MIN_CONNECTIONS");
  const max = r.raw("--db-max-connections", flags.dbMaxConnections, "PARSEC_DB_MAX_CONNECTIONS");
  const minConnections = min === undefined ? 5 : r.check("--db-min-connections", min, (v) => parseInteger(v, 0, 10_000), 5);
  const maxConnections = max === undefined ? 7 : r.check("--db-max-connections", max, (v) => parseInteger(v, 1, 10_000), 7);
  if (minConnections > maxConnections) {
    r.fail("--db-min-connections", min?.origin ?? "--db-min-connections", `${minConnections} is greater than --db-max-connections (${maxConnections})`);
  }
  if (url === undefined) {
    r.missing("--db", "PARSEC_DB");
    return { type: "MOCKED" };
  }
  const checked = r.check("--db", url, parseDatabaseUrl, "MOCKED");
  return checked === "MOCKED" ? { type: "MOCKED" } : { type: "POSTGRESQL", url: checked, minConnections, maxConnections };
}

function resolveBlockStore(r: Resolver, flags: BackendRunFlags, env: Environment, dev: boolean): BackendSettings["blockstore"] {
  const envValue = env["PARSEC_BLOCKSTORE"]?.trim();
  const raw: Raw<readonly string[]> | undefined =
    flags.blockstore !== undefined && flags.blockstore.length > 0
      ? { value: flags.blockstore, origin: "--blockstore" }
      : dev
        ? { value: ["MOCKED"], origin: "--dev" }
        : envValue
          ? { value: envValue.split(/\s+/), origin: "PARSEC_BLOCKSTORE" }
          : undefined;
  if (raw === undefined) {
    r.missing("--blockstore", "PARSEC_BLOCKSTORE");
    return { type: "MOCKED" };
  }
  const result = parseBlockStore(raw.value);
  if (result.ok) return result.value;
  r.fail("--blockstore", raw.origin, result.error);
  return { type: "MOCKED" };
}

function resolveTls(r: Resolver, flags: BackendRunFlags): BackendSettings["tls"] {
  const key = r.raw("--ssl-keyfile", flags.sslKeyfile, "PARSEC_SSL_KEYFILE");
  const cert = r.raw("--ssl-certfile", flags.sslCertfile, "PARSEC_SSL_CERTFILE");
  if (key === undefined && cert === undefined) return null;
  if (key === undefined || cert === undefined) {
    const [given, absent] = key === undefined ? ["--ssl-certfile", "--ssl-keyfile"] : ["--ssl-keyfile", "--ssl-certfile"];
    r.fail(absent, absent, `must be given together with ${given} (TLS needs both the key and the certificate)`);
    return null;
  }
  const keyFile = r.check("--ssl-keyfile", key, parseExistingFile, "");
  const certFile = r.check("--ssl-certfile", cert, parseExistingFile, "");
  if (keyFile && certFile) {
    const problem = tlsPairProblem(keyFile, certFile);
    if (problem) r.fail(problem.setting, problem.setting, problem.error);
  }
  return { keyFile, certFile };
}

/**
 * Applies Parsec's precedence to the flags of `parsec backend run`: a flag given on the command line wins, then the
 * value implied by `--dev` (`--debug --db=MOCKED --blockstore=MOCKED --administration-token=s3cr3t`), then the
 * `PARSEC_*` environment variable (an empty one counts as unset), then the default. Every value is validated; files
 * named by `--ssl-keyfile`/`--ssl-certfile` must exist.
 *
 * @returns the settings, or an error listing each invalid or missing setting by its flag (and the environment
 *   variable it came from) on its own line.
 */
export function resolveBackendRunSettings(flags: BackendRunFlags, env: Environment): BackendRunSettingsResult {
  const r = new Resolver(env);
  const dev = flags.dev === true;
  const host = r.raw("--host", flags.host, "PARSEC_HOST");
  const port = r.raw("--port", flags.port, "PARSEC_PORT");
  const token = r.raw("--administration-token", flags.administrationToken, "PARSEC_ADMINISTRATION_TOKEN", dev ? DEV_ADMINISTRATION_TOKEN : undefined);
  const logLevel = r.raw("--log-level", flags.logLevel, "PARSEC_LOG_LEVEL");
  const logFormat = r.raw("--log-format", flags.logFormat, "PARSEC_LOG_FORMAT");
  const logFile = r.raw("--log-file", flags.logFile, "PARSEC_LOG_FILE");
  const sentryEnvironment = r.raw("--sentry-environment", flags.sentryEnvironment, "PARSEC_SENTRY_ENVIRONMENT");

  const hostValue = host === undefined ? "127.0.0.1" : r.check("--host", host, parseNonEmpty, "");
  const portValue = port === undefined ? 6777 : r.check("--port", port, (v) => parseInteger(v, 0, 65535), 0);
  const tls = resolveTls(r, flags);

  const settings: BackendSettings = {
    host: hostValue,
    port: portValue,
    db: resolveDatabase(r, flags, dev),
    blockstore: resolveBlockStore(r, flags, env, dev),
    administrationToken: token === undefined ? "" : r.check("--administration-token", token, parseAdministrationToken, ""),
    spontaneousOrganizationBootstrap: r.flag("--spontaneous-organization-bootstrap", flags.spontaneousOrganizationBootstrap, "PARSEC_SPONTANEOUS_ORGANIZATION_BOOTSTRAP"),
    tls,
    log: {
      level: logLevel === undefined ? "INFO" : r.check("--log-level", logLevel, (v) => parseChoice(v, LOG_LEVELS), "INFO"),
      format: logFormat === undefined ? "CONSOLE" : r.check("--log-format", logFormat, (v) => parseChoice(v, LOG_FORMATS), "CONSOLE"),
      file: logFile === undefined || logFile.value === "-" ? null : logFile.value,
    },
    sentryUrl: resolveSentry(r, flags),
    sentryEnvironment: sentryEnvironment === undefined ? "production" : r.check("--sentry-environment", sentryEnvironment, parseNonEmpty, ""),
    backendAddr: resolveBackendAddr(r, flags, dev, { host: hostValue, port: portValue, tls: tls !== null }),
    email: resolveEmail(r, flags, dev),
    debug: r.flag("--debug", flags.debug, "PARSEC_DEBUG", dev ? true : undefined),
  };
  if (token === undefined) r.missing("--administration-token", "PARSEC_ADMINISTRATION_TOKEN");
  return r.errors.length === 0 ? { ok: true, settings } : { ok: false, error: r.errors.join("\n") };
}

/** The context every command of the `parsec` CLI runs in: standard streams, environment, and the server runner. */
export interface ParsecCliContext extends BaseContext {
  /**
   * Runs the server with validated settings until it stops.
   * @returns the process exit code (0 after a clean shutdown, 1 when startup failed).
   */
  readonly runBackend: (settings: BackendSettings) => Promise<number>;
  /** Directory of the migration files `parsec backend migrate` applies (default: the repository's `migrations/`). */
  readonly migrationsDirectory?: string | undefined;
}

/** `parsec backend run`: validates every setting, then hands them to {@link ParsecCliContext.runBackend}. */
export class BackendRunCommand extends Command<ParsecCliContext> {
  static override paths = [["backend", "run"]];

  static override usage = Command.Usage({
    category: "Backend",
    description: "run the server",
    details: `
      Each option also reads the environment variable named after it with a \`PARSEC_\` prefix (e.g. \`--db-max-connections\` and \`PARSEC_DB_MAX_CONNECTIONS\`); a flag on the command line wins over the variable. Boolean variables accept true/false, 1/0, yes/no or on/off.

      The variable \`PARSEC_CMD_ARGS\` holds extra command line arguments, split like a shell would, with \`$VAR\` and \`\${VAR}\` expanded from the environment; they are appended to the real command line, so they win over it for single-valued options and add to \`--blockstore\`.

      \`--backend-addr\` is the address written in invitation URLs. When it is not given it is \`parsec://localhost:<port>\` with \`--dev\`, otherwise \`parsec://<host>:<port>\` from \`--host\` and \`--port\` (\`localhost\` when listening on 0.0.0.0 or ::), with \`?no_ssl=true\` unless \`--ssl-keyfile\`/\`--ssl-certfile\` are given. Set it whenever clients reach the server by another name, through a proxy that terminates TLS, or with \`--port=0\` (the derived address would name port 0).

      Emails (invitations) are sent through the SMTP server \`--email-host\`, or, when it is \`MOCKED\` or not set, written as \`.eml\` files to a fresh \`parsec-emails-*\` folder of the temporary directory, each one logged. \`--email-use-ssl\` and \`--email-use-tls\` mean what Parsec's code does with them (its help text swaps them): SSL is TLS from the first byte, TLS is STARTTLS; with neither, SMTP runs in plain text. Certificates are checked against the system's CAs and \`NODE_EXTRA_CA_CERTS\`.

      \`--blockstore\` accepts \`MOCKED\`, \`POSTGRESQL\` (the database given by \`--db\`), \`s3:[<endpoint_url>]:<region>:<bucket>:<key>:<secret>\` or \`swift:<auth_url>:<tenant>:<container>:<user>:<password>\`; write \`\\:\` for a colon inside a field; a URL without scheme gets \`https://\`. Repeat it as \`RAID0|RAID1|RAID5:<node>:<config>\` with nodes 0…n-1 to build a RAID cluster; in \`PARSEC_BLOCKSTORE\` separate the nodes with spaces. Every S3 bucket and Swift container is checked at start-up (credentials, existence): the server exits 1 naming the node when one cannot be used. Swift authenticates with Swift v1 (tempauth, swauth) as \`<tenant>:<user>\`.
    `,
    examples: [
      ["Run a throwaway development server", "$0 backend run --dev"],
      ["Prepare a PostgreSQL database (once, and after each upgrade)", "$0 backend migrate --db=postgresql://parsec@db/parsec"],
      ["Run on it, blocks stored in the same database", "$0 backend run --db=postgresql://parsec@db/parsec --blockstore=POSTGRESQL --administration-token=TOKEN"],
    ],
  });

  host = Option.String("-H,--host", { description: "Host to listen on [default: 127.0.0.1]" });
  port = Option.String("-P,--port", { description: "Port to listen on, 0 for any free port [default: 6777]" });
  db = Option.String("--db", { description: "Database: `MOCKED` (in memory) or `postgresql://…` URL (required unless --dev)" });
  dbMinConnections = Option.String("--db-min-connections", { description: "Minimum PostgreSQL connections [default: 5]" });
  dbMaxConnections = Option.String("--db-max-connections", { description: "Maximum PostgreSQL connections [default: 7]" });
  blockstore = Option.Array("-b,--blockstore", { description: "Blockstore config, repeatable for RAID (required unless --dev; see below)" });
  administrationToken = Option.String("--administration-token", { description: "Secret token of the administration API (required unless --dev)" });
  spontaneousOrganizationBootstrap = Option.Boolean("--spontaneous-organization-bootstrap", {
    description: "Allow bootstrapping an organization never created through the administration API",
  });
  sslKeyfile = Option.String("--ssl-keyfile", { description: "TLS key file; with --ssl-certfile, serves over TLS" });
  sslCertfile = Option.String("--ssl-certfile", { description: "TLS certificate file; with --ssl-keyfile, serves over TLS" });
  logLevel = Option.String("-l,--log-level", { description: "DEBUG, INFO, WARNING or ERROR [default: INFO]" });
  logFormat = Option.String("-f,--log-format", { description: "CONSOLE or JSON [default: CONSOLE]" });
  logFile = Option.String("-o,--log-file", { description: "Append logs to this file [default: stderr]" });
  sentryUrl = Option.String("--sentry-url,--sentry-dsn", { description: "Sentry DSN for telemetry (PARSEC_SENTRY_URL or PARSEC_SENTRY_DSN)" });
  sentryEnvironment = Option.String("--sentry-environment", { description: "Sentry environment of telemetry reports [default: production]" });
  backendAddr = Option.String("--backend-addr", {
    description: "URL clients use to reach this server, put in invitation emails: parsec://<host>[:<port>][?no_ssl=true] [default: derived from --host, --port and TLS, see below]",
  });
  emailHost = Option.String("--email-host", { description: "SMTP server sending the emails, or `MOCKED` to write them to a temporary folder [default: MOCKED]" });
  emailPort = Option.String("--email-port", { description: "Port of the SMTP server [default: 25]" });
  emailHostUser = Option.String("--email-host-user", { description: "User to log in to the SMTP server with (with --email-host-password)" });
  emailHostPassword = Option.String("--email-host-password", { description: "Password to log in to the SMTP server with (with --email-host-user)" });
  emailUseSsl = Option.Boolean("--email-use-ssl", { description: "Connect to the SMTP server over TLS from the first byte (implicit TLS, usually port 465)" });
  emailUseTls = Option.Boolean("--email-use-tls", { description: "Upgrade the SMTP connection with STARTTLS (usually port 587); exclusive with --email-use-ssl" });
  emailSender = Option.String("--email-sender", { description: "Sender address of the emails (required with an SMTP --email-host) [default: no-reply@parsec.com]" });
  emailLanguage = Option.String("--email-language", { description: "Language of the emails: en or fr [default: en]" });
  debug = Option.Boolean("--debug", { description: "Debug mode (verbose errors, debug semantics of ping)" });
  dev = Option.Boolean("--dev", {
    description:
      "Same as --debug --db=MOCKED --blockstore=MOCKED --administration-token=s3cr3t --email-host=MOCKED --email-sender=no-reply@parsec.com --backend-addr=parsec://localhost:<port>[?no_ssl=true], for each one not given as a flag",
  });

  /** The raw command-line values of this invocation. */
  flags(): BackendRunFlags {
    return {
      host: this.host,
      port: this.port,
      db: this.db,
      dbMinConnections: this.dbMinConnections,
      dbMaxConnections: this.dbMaxConnections,
      blockstore: this.blockstore,
      administrationToken: this.administrationToken,
      spontaneousOrganizationBootstrap: this.spontaneousOrganizationBootstrap,
      sslKeyfile: this.sslKeyfile,
      sslCertfile: this.sslCertfile,
      logLevel: this.logLevel,
      logFormat: this.logFormat,
      logFile: this.logFile,
      sentryUrl: this.sentryUrl,
      sentryEnvironment: this.sentryEnvironment,
      backendAddr: this.backendAddr,
      emailHost: this.emailHost,
      emailPort: this.emailPort,
      emailHostUser: this.emailHostUser,
      emailHostPassword: this.emailHostPassword,
      emailUseSsl: this.emailUseSsl,
      emailUseTls: this.emailUseTls,
      emailSender: this.emailSender,
      emailLanguage: this.emailLanguage,
      debug: this.debug,
      dev: this.dev,
    };
  }

  override async execute(): Promise<number> {
    const result = resolveBackendRunSettings(this.flags(), this.context.env);
    if (!result.ok) {
      this.context.stderr.write(`${result.error}\n\nRun \`parsec backend run --help\` for every setting.\n`);
      return 2;
    }
    return this.context.runBackend(result.settings);
  }
}
