import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pack } from "../../src/domain/serialization/msgpack.js";
import { admin, anonymous, anonymousRequest, connectAuthenticated, expectSession } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { aliceOptions, bootstrapFields, createBootstrappedOrganization, uniqueOrganizationId } from "./helpers.js";

/** HTTP `/anonymous/<organization_id>`: statuses with empty bodies, version negotiation, spontaneous bootstrap. */
describe.skipIf(!fixtures)("anonymous HTTP RPC", () => {
  const f = fixtures!;
  let server: TestServer;
  let bootstrapped: string;
  let fresh: string;
  let freshToken: string;
  let expired: string;

  beforeAll(async () => {
    server = await startTestServer();
    const administration = admin(server.url, server.administrationToken);
    bootstrapped = await createBootstrappedOrganization(server, f);
    fresh = uniqueOrganizationId();
    freshToken = await administration.bootstrapToken(fresh);
    expired = await createBootstrappedOrganization(server, f);
    await administration.patchOrganization(expired, { is_expired: true });
  });
  afterAll(() => server?.stop());

  const bootstrapBody = () => pack({ cmd: "organization_bootstrap", ...bootstrapFields(f, { bootstrapToken: freshToken }) });

  it("answers 404 with an empty body for an unknown organization (POST and GET)", async () => {
    const unknown = uniqueOrganizationId("Ghost");
    const post = await anonymousRequest(server.url, unknown, { body: bootstrapBody() });
    expect(post.httpStatus).toBe(404);
    expect(post.raw.length).toBe(0);
    expect((await anonymousRequest(server.url, unknown, { method: "GET" })).httpStatus).toBe(404);
  });

  it("answers 404 for an invalid organization id", async () => {
    expect((await anonymousRequest(server.url, "not a valid id!", { body: bootstrapBody() })).httpStatus).toBe(404);
  });

  it("answers 460 for an expired organization (POST and GET)", async () => {
    const post = await anonymous(server.url, expired, "organization_bootstrap", bootstrapFields(f, { bootstrapToken: "" }));
    expect(post.httpStatus).toBe(460);
    expect(post.raw.length).toBe(0);
    expect((await anonymousRequest(server.url, expired, { method: "GET" })).httpStatus).toBe(460);
  });

  it.each([["application/json"], ["text/plain"], ["application/octet-stream"]])("answers 415 to content type %s", async (contentType) => {
    const reply = await anonymousRequest(server.url, fresh, { body: bootstrapBody(), headers: { "content-type": contentType } });
    expect(reply.httpStatus).toBe(415);
    expect(reply.raw.length).toBe(0);
  });

  it.each<[string, Uint8Array]>([
    ["garbage bytes", Buffer.from([0xc1, 0x01, 0x02])],
    ["an empty body", Buffer.alloc(0)],
    ["a msgpack array", pack(["organization_bootstrap"])],
    ["an unknown command", pack({ cmd: "nope" })],
    ["an authenticated command", pack({ cmd: "ping", ping: "x" })],
    ["a non-string cmd", pack({ cmd: 5 })],
  ])("answers 415 to %s", async (_, body) => {
    const reply = await anonymousRequest(server.url, fresh, { body });
    expect(reply.httpStatus).toBe(415);
    expect(reply.raw.length).toBe(0);
  });

  it("answers 422 with Supported-Api-Versions to an unsupported Api-Version", async () => {
    const reply = await anonymousRequest(server.url, bootstrapped, { body: bootstrapBody(), headers: { "api-version": "9.0" } });
    expect(reply.httpStatus).toBe(422);
    expect(reply.headers.get("supported-api-versions")).toBe("2.10;3.4");
    expect(reply.raw.length).toBe(0);
  });

  it("replies with Api-Version 3.4 when the request has no Api-Version header", async () => {
    const reply = await anonymousRequest(server.url, bootstrapped, { body: bootstrapBody() });
    expect(reply.httpStatus).toBe(200);
    expect(reply.headers.get("api-version")).toBe("3.4");
    expect(reply.headers.get("content-type")).toBe("application/msgpack");
    expect(reply.reply).toEqual({ status: "already_bootstrapped" });
  });

  it.each([
    ["2.5", "2.10"],
    ["2.0", "2.10"],
    ["3.0", "3.4"],
    ["3.99", "3.4"],
  ])("replies with Api-Version of the same major: %s → %s", async (requested, settled) => {
    const reply = await anonymousRequest(server.url, bootstrapped, { body: bootstrapBody(), headers: { "api-version": requested } });
    expect(reply.httpStatus).toBe(200);
    expect(reply.headers.get("api-version")).toBe(settled);
  });

  it("answers GET with the msgpack content type by 200 and an empty map", async () => {
    for (const organizationId of [bootstrapped, fresh]) {
      const reply = await anonymousRequest(server.url, organizationId, { method: "GET" });
      expect(reply.httpStatus).toBe(200);
      expect(reply.headers.get("content-type")).toBe("application/msgpack");
      expect(reply.raw.toString("hex")).toBe("80");
      expect(reply.reply).toEqual({});
    }
  });

  describe("spontaneous bootstrap", () => {
    let spontaneous: TestServer;
    beforeAll(async () => {
      spontaneous = await startTestServer({ spontaneousOrganizationBootstrap: true });
    });
    afterAll(() => spontaneous?.stop());

    it("creates and bootstraps an unknown organization with an empty token; alice can then connect", async () => {
      const organizationId = uniqueOrganizationId("Spont");
      const { httpStatus, reply } = await anonymous(spontaneous.url, organizationId, "organization_bootstrap", bootstrapFields(f, { bootstrapToken: "" }));
      expect(httpStatus).toBe(200);
      expect(reply).toEqual({ status: "ok" });
      const got = await admin(spontaneous.url, spontaneous.administrationToken).getOrganization(organizationId);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ is_bootstrapped: true, is_expired: false });
      const session = expectSession(await connectAuthenticated(aliceOptions(spontaneous, f, organizationId)));
      expect(await session.ping()).toBe("ping");
      await session.close();
    });

    it("refuses a non-empty token for an unknown organization with not_found (it stays unbootstrapped)", async () => {
      const organizationId = uniqueOrganizationId("Spont");
      const { reply } = await anonymous(spontaneous.url, organizationId, "organization_bootstrap", bootstrapFields(f, { bootstrapToken: "ab".repeat(32) }));
      expect(reply).toEqual({ status: "not_found" });
      const got = await admin(spontaneous.url, spontaneous.administrationToken).getOrganization(organizationId);
      expect(got.body).toMatchObject({ is_bootstrapped: false });
    });

    it("answers GET on an unknown organization with 404 even then", async () => {
      expect((await anonymousRequest(spontaneous.url, uniqueOrganizationId("Spont"), { method: "GET" })).httpStatus).toBe(404);
    });

    it("is off by default: the same request to the default server is a 404", async () => {
      const { httpStatus } = await anonymous(server.url, uniqueOrganizationId("Spont"), "organization_bootstrap", bootstrapFields(f, { bootstrapToken: "" }));
      expect(httpStatus).toBe(404);
    });
  });

  it("logged no internal error", () => {
    expect(server.loggedErrors).toEqual([]);
  });
});
