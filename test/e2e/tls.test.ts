import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unpackWire } from "../../src/adapters/protocol/index.js";
import { pack } from "../../src/domain/serialization/msgpack.js";
import { connectAuthenticated, expectSession } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { aliceOptions, bootstrapFields, uniqueOrganizationId } from "./helpers.js";

const opensslAvailable = spawnSync("openssl", ["version"], { encoding: "utf8" }).status === 0;
if (!opensslAvailable) console.warn("[e2e] openssl is not available: the TLS suite is skipped");

/** A self-signed certificate for 127.0.0.1, made at test time. */
const selfSigned = (dir: string) => {
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  const result = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ed25519", "-keyout", keyFile, "-out", certFile, "-days", "1", "-nodes", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    { encoding: "utf8", timeout: 15_000 },
  );
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  return { keyFile, certFile };
};

/** A request over HTTPS accepting the self-signed certificate. */
const httpsRequest = (
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers, rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(options.body);
  });

describe.skipIf(!opensslAvailable || !fixtures)("TLS (self-signed certificate)", () => {
  const f = fixtures!;
  let dir: string;
  let server: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "parsec-e2e-tls-"));
    server = await startTestServer({ tls: selfSigned(dir) });
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("serves HTTPS", async () => {
    expect(server.url).toMatch(/^https:\/\//);
    expect((await httpsRequest(`${server.url}/`)).status).toBe(200);
  });

  it("creates and bootstraps an organization over HTTPS, then authenticates over wss:// and answers ping", async () => {
    const organizationId = uniqueOrganizationId("Tls");
    const created = await httpsRequest(`${server.url}/administration/organizations`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.administrationToken}`, "content-type": "application/json" },
      body: JSON.stringify({ organization_id: organizationId }),
    });
    expect(created.status).toBe(200);
    const { bootstrap_token: bootstrapToken } = JSON.parse(created.body.toString("utf8")) as { bootstrap_token: string };
    const bootstrapped = await httpsRequest(`${server.url}/anonymous/${organizationId}`, {
      method: "POST",
      headers: { "content-type": "application/msgpack" },
      body: pack({ cmd: "organization_bootstrap", ...bootstrapFields(f, { bootstrapToken }) }),
    });
    expect(bootstrapped.status).toBe(200);
    expect(unpackWire(bootstrapped.body)).toEqual({ status: "ok" });

    expect(server.wsUrl).toMatch(/^wss:\/\//);
    const session = expectSession(await connectAuthenticated(aliceOptions(server, f, organizationId, { wsOptions: { rejectUnauthorized: false } })));
    try {
      expect(await session.ping("secure")).toBe("secure");
    } finally {
      await session.close();
    }
  });

  it("is refused by a client that checks the certificate", async () => {
    await expect(connectAuthenticated(aliceOptions(server, f, "CoolOrg", { timeoutMs: 3_000 }))).rejects.toThrow();
  });
});
