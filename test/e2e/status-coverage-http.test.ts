import { request as httpRequest } from "node:http";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWireEngine } from "../../src/adapters/protocol/engine.js";
import { DEFAULT_LIMITS, startUwsServer, type RunningServer } from "../../src/adapters/transport/uws/index.js";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";
import { buildTestApp } from "../support/app.js";
import { admin, anonymous, anonymousRequest } from "../support/client.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { uniqueOrganizationId } from "./helpers.js";

/**
 * Status audit of the HTTP transport (`server.ts`, and the 413/500 of the shared `http.ts`): the statuses no other
 * test asserted — 405 with `Allow` on `/anonymous/<org>`, 413 for a body over the limit, 415 for a schema command
 * without a handler, `bad_message` in a 200, and 500 when a request handler throws.
 */

/** A raw HTTP/1.1 request that declares `contentLength` but sends no body; resolves with the status and body. */
const declaredOnly = (url: string, path: string, contentLength: number): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = httpRequest({ hostname, port, path, method: "POST", headers: { "content-length": String(contentLength), "content-type": "application/msgpack" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.flushHeaders();
  });

describe("HTTP statuses of the uWebSockets.js transport", () => {
  let server: TestServer;
  let organizationId: string;

  beforeAll(async () => {
    server = await startTestServer();
    organizationId = uniqueOrganizationId("Http");
    expect((await admin(server.url, server.administrationToken).createOrganization({ organization_id: organizationId })).status).toBe(200);
  });
  afterAll(() => server?.stop());

  it.each(["PUT", "DELETE", "PATCH"])("%s /anonymous/<org> answers 405 with Allow: GET, POST", async (method) => {
    const reply = await fetch(`${server.url}/anonymous/${organizationId}`, { method, body: pack({ cmd: "organization_bootstrap" }) });
    expect(reply.status).toBe(405);
    expect(reply.headers.get("allow")).toBe("GET, POST");
  });

  it("answers 413 payload_too_large to a body over the limit (sent, or only declared)", async () => {
    const path = `/anonymous/${organizationId}`;
    const big = Buffer.alloc(DEFAULT_LIMITS.maxHttpBodyBytes + 1, 0x61);
    const sent = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/msgpack" }, body: big });
    expect(sent.status).toBe(413);
    expect(await sent.json()).toMatchObject({ error: "payload_too_large" });
    const declared = await declaredOnly(server.url, path, 50 * 1024 * 1024);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ error: "payload_too_large" });
    // The administration API shares the limit.
    const adminBig = await fetch(`${server.url}/administration/organizations`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.administrationToken}` },
      body: big,
    });
    expect(adminBig.status).toBe(413);
  });

  it("answers 415 to a well-formed schema command this server does not serve (pki_enrollment_info)", async () => {
    const reply = await anonymous(server.url, organizationId, "pki_enrollment_info", { enrollment_id: new WireUuid("0123456789abcdef0123456789abcdef") });
    expect(reply.httpStatus).toBe(415);
    expect(reply.raw.length).toBe(0);
  });

  it("answers 200 with bad_message to a malformed organization_bootstrap", async () => {
    const reply = await anonymousRequest(server.url, organizationId, { body: pack({ cmd: "organization_bootstrap", bootstrap_token: "x" }) });
    expect(reply.httpStatus).toBe(200);
    expect(reply.headers.get("content-type")).toBe("application/msgpack");
    expect(reply.reply).toMatchObject({ status: "bad_message", reason: expect.any(String) });
  });

  it("logged no internal error", () => {
    expect(server.loggedErrors).toEqual([]);
  });
});

describe("HTTP 500 when a request handler throws", () => {
  let running: RunningServer;
  const logged: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const t = buildTestApp();
    const engine = createWireEngine(t.app);
    const failing = {
      ...engine,
      anonymousPrecheck: async () => {
        throw new Error("database unavailable");
      },
    };
    const logger = pino({ level: "error" }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
    running = await startUwsServer(
      { host: "127.0.0.1", port: 0, tls: null, administrationToken: "token", limits: DEFAULT_LIMITS },
      t.app,
      failing,
      logger,
    );
  });
  afterAll(() => running?.stop());

  it("answers 500 internal_error and logs the failure, then keeps serving", async () => {
    const url = `http://127.0.0.1:${running.port}`;
    const reply = await fetch(`${url}/anonymous/CoolOrg`, { method: "POST", headers: { "content-type": "application/msgpack" }, body: pack({ cmd: "organization_bootstrap" }) });
    expect(reply.status).toBe(500);
    expect(await reply.json()).toEqual({ error: "internal_error" });
    expect(logged).toEqual([expect.objectContaining({ msg: "HTTP handler failed", method: "POST", url: "/anonymous/CoolOrg" })]);
    expect((await fetch(`${url}/`)).status).toBe(200);
  });
});
