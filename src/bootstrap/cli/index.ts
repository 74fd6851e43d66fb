import { readFileSync } from "node:fs";
import { PassThrough, type Writable } from "node:stream";
import { Builtins, Cli } from "./clipanion.js";
import { parsed, type Parsed } from "../../domain/result.js";
import type { BackendSettings } from "../settings.js";
import { BackendMigrateCommand } from "./backend-migrate.js";
import { BackendRunCommand, resolveBackendRunSettings, type BackendRunSettingsResult, type Environment, type ParsecCliContext } from "./backend-run.js";
import { splitCommandLine } from "./command-line.js";

export { parseBlockStore, splitEscapedColons } from "./blockstore.js";
export { splitCommandLine } from "./command-line.js";
export { resolveBackendRunSettings } from "./backend-run.js";
export { resolveBackendMigrateSettings } from "./backend-migrate.js";
export type { BackendMigrateFlags, BackendMigrateSettings, BackendMigrateSettingsResult } from "./backend-migrate.js";
export type { BackendRunFlags, BackendRunSettingsResult, Environment, ParsecCliContext } from "./backend-run.js";

/** Exit code of a command line or settings the CLI refuses (same as click's usage errors). */
export const USAGE_ERROR_EXIT_CODE = 2;

/** Where the CLI writes, what it does once `parsec backend run` has valid settings, where `backend migrate` reads. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  /**
   * Runs the server until it stops.
   * @returns the process exit code.
   */
  readonly runBackend: (settings: BackendSettings) => Promise<number>;
  /** Directory of the migration files `parsec backend migrate` applies (default: the repository's `migrations/`). */
  readonly migrationsDirectory?: string | undefined;
}

function packageVersion(): string {
  try {
    const manifest: unknown = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
    const version = (manifest as { version?: unknown }).version;
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}

/** The `parsec` command tree: `backend run`, `backend migrate`, `--help`, `--version`; `colored` turns on ANSI styling of help and errors. */
export function buildCli(colored = false): Cli<ParsecCliContext> {
  const cli = new Cli<ParsecCliContext>({ binaryLabel: "Parsec server", binaryName: "parsec", binaryVersion: packageVersion(), enableColors: colored });
  cli.register(BackendRunCommand);
  cli.register(BackendMigrateCommand);
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  return cli;
}

/**
 * Appends the arguments held by `env.PARSEC_CMD_ARGS` (split and expanded by {@link splitCommandLine}) to `argv`,
 * as Parsec does: appended single-valued options therefore override the real command line, repeatable ones add up.
 *
 * @returns the whole argument list, or an error when `PARSEC_CMD_ARGS` cannot be split.
 */
export function withCommandArgs(argv: readonly string[], env: Environment): Parsed<string[]> {
  const extra = env["PARSEC_CMD_ARGS"];
  if (extra === undefined || extra.trim() === "") return parsed([...argv]);
  const split = splitCommandLine(extra, env);
  return split.ok ? parsed([...argv, ...split.value]) : split;
}

const isTty = (stream: Writable): boolean => (stream as { isTTY?: boolean }).isTTY === true;

function context(io: CliIo, env: Environment): ParsecCliContext {
  const stdin = new PassThrough();
  stdin.end();
  return { stdin, stdout: io.stdout, stderr: io.stderr, env: { ...env }, colorDepth: isTty(io.stdout) ? 8 : 1, runBackend: io.runBackend, migrationsDirectory: io.migrationsDirectory };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Resolves the settings of `parsec backend run <argv…>` without running anything: `argv` holds the options that
 * follow `backend run`; `env.PARSEC_CMD_ARGS` is appended, then flags, `--dev`, `PARSEC_*` variables and defaults are
 * applied (see {@link resolveBackendRunSettings}).
 *
 * @returns the validated settings, or a human-readable error naming each bad or missing setting (also for unknown
 *   options and for a `PARSEC_CMD_ARGS` that would select another command).
 */
export function parseBackendRunSettings(argv: readonly string[], env: Environment): BackendRunSettingsResult {
  const full = withCommandArgs(["backend", "run", ...argv], env);
  if (!full.ok) return { ok: false, error: full.error };
  const io: CliIo = { stdout: new PassThrough(), stderr: new PassThrough(), runBackend: async () => 0 };
  let command;
  try {
    command = buildCli().process(full.value, context(io, env));
  } catch (error) {
    return { ok: false, error: errorMessage(error) };
  }
  if (!(command instanceof BackendRunCommand) || command.help) return { ok: false, error: "the arguments do not select `parsec backend run`" };
  return resolveBackendRunSettings(command.flags(), env);
}

/**
 * Runs the `parsec` command line `argv` (without the node and script paths), `PARSEC_CMD_ARGS` appended.
 * Help and version go to `io.stdout`; unknown commands or options and invalid settings are reported on `io.stderr`.
 *
 * @returns the exit code: 0 for help/version, {@link USAGE_ERROR_EXIT_CODE} for a rejected command line or
 *   settings (nothing started), otherwise what `io.runBackend` returned, or for `backend migrate` 0 (schema up to
 *   date) or 1 (failed, refused, database unreachable).
 */
export async function runCli(argv: readonly string[], env: Environment, io: CliIo): Promise<number> {
  const full = withCommandArgs(argv, env);
  if (!full.ok) {
    io.stderr.write(`${full.error}\n`);
    return USAGE_ERROR_EXIT_CODE;
  }
  const cli = buildCli(isTty(io.stdout) && env["NO_COLOR"] === undefined);
  const ctx = context(io, env);
  let command;
  try {
    command = cli.process(full.value.length === 0 ? ["--help"] : full.value, ctx);
  } catch (error) {
    io.stderr.write(cli.error(error instanceof Error ? error : new Error(String(error)), { colored: false }));
    return USAGE_ERROR_EXIT_CODE;
  }
  return cli.run(command, ctx);
}
