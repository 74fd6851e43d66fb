import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PARSEC_")));

function parsec(entry: "bin" | "main", args: string[], env: Record<string, string> = {}) {
  const command = entry === "bin" ? ["bin/parsec.js"] : ["--import", "tsx", "src/bootstrap/main.ts"];
  const result = spawnSync(process.execPath, [...command, ...args], { cwd: root, env: { ...cleanEnv, ...env }, encoding: "utf8", timeout: 15_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the parsec process", () => {
  it("prints help through bin/parsec.js", () => {
    const result = parsec("bin", ["backend", "run", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--blockstore");
  });

  it.each<[string, "bin" | "main", string[], Record<string, string>, RegExp]>([
    ["missing required settings", "bin", ["backend", "run"], {}, /'--db'.*PARSEC_DB/],
    ["a bad port", "main", ["backend", "run", "--dev", "--port=70000"], {}, /'--port'/],
    ["a bad database URL", "main", ["backend", "run", "--dev", "--db=mysql://x"], {}, /'--db'/],
    ["a bad log level from the environment", "bin", ["backend", "run", "--dev"], { PARSEC_LOG_LEVEL: "loud" }, /'--log-level' \(from PARSEC_LOG_LEVEL\)/],
    ["a bad boolean environment variable", "main", ["backend", "run", "--dev"], { PARSEC_SPONTANEOUS_ORGANIZATION_BOOTSTRAP: "maybe" }, /'--spontaneous-organization-bootstrap' \(from PARSEC_SPONTANEOUS_ORGANIZATION_BOOTSTRAP\)/],
    ["a bad blockstore in PARSEC_CMD_ARGS", "bin", ["backend", "run", "--dev"], { PARSEC_CMD_ARGS: "-b RAID5:0:MOCKED -b RAID5:1:MOCKED" }, /'--blockstore'.*RAID5 needs at least 3 nodes/],
    ["an unknown option", "main", ["backend", "run", "--dev", "--unknown"], {}, /--unknown/],
    ["both --email-use-ssl and --email-use-tls", "main", ["backend", "run", "--dev", "--email-use-ssl"], { PARSEC_EMAIL_USE_TLS: "1" }, /'--email-use-ssl' and '--email-use-tls' are mutually exclusive/],
    ["an SMTP host without a sender", "bin", ["backend", "run", "--db=MOCKED", "-b", "MOCKED", "--administration-token=T", "--email-host=smtp.example.com"], {}, /Missing setting '--email-sender'/],
    ["a bad backend address", "main", ["backend", "run", "--dev", "--backend-addr=https://parsec.example.com"], {}, /'--backend-addr'.*Expected a `parsec:\/\/` URL/],
  ])("exits with code 2 on %s, naming the setting on stderr", (_, entry, args, env, message) => {
    const result = parsec(entry, args, env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).not.toMatch(/Starting Parsec Backend/);
  });

  it("exits with code 2 when only the TLS key is given", () => {
    const dir = mkdtempSync(join(tmpdir(), "parsec-tls-"));
    writeFileSync(join(dir, "key.pem"), "key");
    const result = parsec("main", ["backend", "run", "--dev", `--ssl-keyfile=${join(dir, "key.pem")}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/'--ssl-certfile'/);
  });
});
