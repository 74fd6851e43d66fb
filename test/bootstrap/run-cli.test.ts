import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { runCli, USAGE_ERROR_EXIT_CODE } from "../../src/bootstrap/cli/index.js";
import type { BackendSettings } from "../../src/bootstrap/settings.js";

async function run(argv: string[], env: Record<string, string | undefined> = {}, exitCode = 0) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on("data", (chunk: Buffer) => err.push(chunk.toString()));
  const started: BackendSettings[] = [];
  const code = await runCli(argv, env, { stdout, stderr, runBackend: async (settings) => (started.push(settings), exitCode) });
  return { code, stdout: out.join(""), stderr: err.join(""), started };
}

describe("runCli", () => {
  it("hands valid settings to runBackend and returns its exit code", async () => {
    const result = await run(["backend", "run", "--dev", "--port=0"], {}, 0);
    expect(result.code).toBe(0);
    expect(result.started).toHaveLength(1);
    expect(result.started[0]).toMatchObject({ port: 0, administrationToken: "s3cr3t", debug: true });
    expect((await run(["backend", "run", "--dev"], {}, 1)).code).toBe(1);
  });

  it("takes the whole command from PARSEC_CMD_ARGS", async () => {
    const result = await run([], { PARSEC_CMD_ARGS: "backend run --dev --port=${P}", P: "7001" });
    expect(result.started[0]?.port).toBe(7001);
  });

  it("prints the command help", async () => {
    const result = await run(["backend", "run", "--help"]);
    expect(result.code).toBe(0);
    for (const flag of ["--host", "--port", "--db", "--db-min-connections", "--db-max-connections", "--blockstore", "--administration-token", "--spontaneous-organization-bootstrap", "--ssl-keyfile", "--ssl-certfile", "--log-level", "--log-format", "--log-file", "--sentry-url", "--backend-addr", "--email-host", "--email-port", "--email-host-user", "--email-host-password", "--email-use-ssl", "--email-use-tls", "--email-sender", "--email-language", "--debug", "--dev", "PARSEC_CMD_ARGS"]) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.started).toHaveLength(0);
  });

  it.each([[["--help"]], [[]]])("prints the general help for %j", async (argv) => {
    const result = await run(argv);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("parsec backend run");
  });

  it("prints the version", async () => {
    const result = await run(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("rejects missing settings on stderr with exit code 2 and starts nothing", async () => {
    const result = await run(["backend", "run"]);
    expect(result.code).toBe(USAGE_ERROR_EXIT_CODE);
    expect(result.stderr).toMatch(/Missing setting '--db'/);
    expect(result.stderr).toContain("parsec backend run --help");
    expect(result.stdout).toBe("");
    expect(result.started).toHaveLength(0);
  });

  it.each([[["backend", "run", "--dev", "--nope"]], [["backend"]], [["frontend", "run"]]])("rejects the command line %j with exit code 2", async (argv) => {
    const result = await run(argv);
    expect(result.code).toBe(USAGE_ERROR_EXIT_CODE);
    expect(result.stderr).not.toBe("");
    expect(result.started).toHaveLength(0);
  });

  it("rejects a PARSEC_CMD_ARGS that cannot be split", async () => {
    const result = await run(["backend", "run", "--dev"], { PARSEC_CMD_ARGS: '"' });
    expect(result.code).toBe(USAGE_ERROR_EXIT_CODE);
    expect(result.stderr).toMatch(/PARSEC_CMD_ARGS/);
  });
});
