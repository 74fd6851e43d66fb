import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DateTime } from "../../src/domain/time.js";
import { randomEd25519 } from "../support/certificates.js";
import { admin, anonymous, connectAuthenticated, expectSession, type AdminClient } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { aliceOptions, bootstrapFields, now, uniqueOrganizationId } from "./helpers.js";

/** The main path of a Parsec deployment: create, bootstrap, connect and use an organization. */
describe.skipIf(!fixtures)("organization lifecycle over the real transport", () => {
  const f = fixtures!;
  let server: TestServer;
  let administration: AdminClient;

  beforeAll(async () => {
    server = await startTestServer();
    administration = admin(server.url, server.administrationToken);
  });
  afterAll(() => server?.stop());

  describe("CoolOrg, step by step", () => {
    const organizationId = f.organization.id;
    let bootstrapToken: string;

    it("is created through the administration API, not yet bootstrapped", async () => {
      const created = await administration.createOrganization({
        organization_id: organizationId,
        user_profile_outsider_allowed: false,
        active_users_limit: 10,
        minimum_archiving_period: 3600,
      });
      expect(created.status).toBe(200);
      bootstrapToken = (created.body as { bootstrap_token: string }).bootstrap_token;
      expect(bootstrapToken).toMatch(/^[0-9a-f]{64}$/);
      const got = await administration.getOrganization(organizationId);
      expect(got.body).toEqual({
        is_bootstrapped: false,
        is_expired: false,
        user_profile_outsider_allowed: false,
        active_users_limit: 10,
        minimum_archiving_period: 3600,
      });
    });

    it("is bootstrapped with alice's certificates signed by the root key", async () => {
      const { httpStatus, headers, reply } = await anonymous(server.url, organizationId, "organization_bootstrap", bootstrapFields(f, { bootstrapToken }));
      expect(httpStatus).toBe(200);
      expect(headers.get("content-type")).toBe("application/msgpack");
      expect(headers.get("api-version")).toBe("3.4");
      expect(reply).toEqual({ status: "ok" });
      const got = await administration.getOrganization(organizationId);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ is_bootstrapped: true, is_expired: false });
    });

    it("refuses a second bootstrap with already_bootstrapped", async () => {
      const { httpStatus, reply } = await anonymous(server.url, organizationId, "organization_bootstrap", bootstrapFields(f, { bootstrapToken }));
      expect(httpStatus).toBe(200);
      expect(reply).toEqual({ status: "already_bootstrapped" });
    });

    it.each([
      ["3.4 (signed answer)", [3, 4] as const, undefined],
      ["2.5 (signed answer)", [2, 5] as const, "signed_answer" as const],
      ["2.2 (raw challenge)", [2, 2] as const, "raw" as const],
    ])("authenticates alice with a %s handshake; ping answers pong", async (_, apiVersion, answerForm) => {
      const outcome = await connectAuthenticated(aliceOptions(server, f, organizationId, { apiVersion, ...(answerForm && { answerForm }) }));
      const session = expectSession(outcome);
      try {
        expect(session.challenge.supported_api_versions).toEqual([
          { major: 2, revision: 10 },
          { major: 3, revision: 4 },
        ]);
        expect(session.challenge.ballpark_client_early_offset).toBe(300);
        expect(session.challenge.ballpark_client_late_offset).toBe(320);
        expect(Math.abs(session.challenge.backend_timestamp.epochSeconds - Date.now() / 1000)).toBeLessThan(30);
        expect(await session.send("ping", { ping: `hello ${apiVersion.join(".")}` })).toEqual({ status: "ok", pong: `hello ${apiVersion.join(".")}` });
        const typed = await session.call("ping", { ping: "typed" });
        expect(typed).toEqual({ kind: "ok", rep: { status: "ok", pong: "typed" } });
      } finally {
        await session.close();
      }
    });

    it("answers organization_config and organization_stats to alice (ADMIN)", async () => {
      const session = expectSession(await connectAuthenticated(aliceOptions(server, f, organizationId)));
      try {
        const config = await session.call("organization_config", {});
        expect(config.kind).toBe("ok");
        expect(config.kind === "ok" && config.rep).toMatchObject({
          status: "ok",
          user_profile_outsider_allowed: false,
          active_users_limit: 10,
          minimum_archiving_period: 3600,
        });
        const stats = await session.send("organization_stats");
        expect(stats).toEqual({
          status: "ok",
          data_size: 0,
          metadata_size: 0,
          realms: 0,
          users: 1,
          active_users: 1,
          users_per_profile_detail: expect.arrayContaining([{ profile: "ADMIN", active: 1, revoked: 0 }]),
        });
        const detail = stats["users_per_profile_detail"] as { profile: string; active: number; revoked: number }[];
        for (const item of detail) if (item.profile !== "ADMIN") expect(item).toMatchObject({ active: 0, revoked: 0 });
      } finally {
        await session.close();
      }
    });
  });

  describe("bootstrap refusals", () => {
    it("answers not_found to a wrong bootstrap token on a fresh organization", async () => {
      const organizationId = uniqueOrganizationId();
      await administration.bootstrapToken(organizationId);
      const { httpStatus, reply } = await anonymous(server.url, organizationId, "organization_bootstrap", bootstrapFields(f, { bootstrapToken: "00".repeat(32) }));
      expect(httpStatus).toBe(200);
      expect(reply).toEqual({ status: "not_found" });
      expect((await administration.getOrganization(organizationId)).body).toMatchObject({ is_bootstrapped: false });
    });

    it("answers invalid_certification to certificates signed by another key", async () => {
      const organizationId = uniqueOrganizationId();
      const bootstrapToken = await administration.bootstrapToken(organizationId);
      const other = randomEd25519();
      const { reply } = await anonymous(server.url, organizationId, "organization_bootstrap", bootstrapFields(f, { bootstrapToken, signingKey: other.signingKey }));
      expect(reply).toMatchObject({ status: "invalid_certification" });
      expect((await administration.getOrganization(organizationId)).body).toMatchObject({ is_bootstrapped: false });
    });

    it("answers bad_timestamp to certificates one hour old, with the ballpark and both timestamps", async () => {
      const organizationId = uniqueOrganizationId();
      const bootstrapToken = await administration.bootstrapToken(organizationId);
      const timestamp = now().addSeconds(-3600);
      const before = Date.now() / 1000;
      const { httpStatus, reply, raw } = await anonymous(server.url, organizationId, "organization_bootstrap", bootstrapFields(f, { bootstrapToken, timestamp }));
      const after = Date.now() / 1000;
      expect(httpStatus).toBe(200);
      expect(reply).toMatchObject({ status: "bad_timestamp", ballpark_client_early_offset: 300, ballpark_client_late_offset: 320 });
      // The offsets travel as float 64 (0xcb), as upstream's 300.0 / 320.0.
      const float64 = (n: number) => {
        const b = Buffer.alloc(9);
        b[0] = 0xcb;
        b.writeDoubleBE(n, 1);
        return b;
      };
      expect(raw.includes(float64(300))).toBe(true);
      expect(raw.includes(float64(320))).toBe(true);
      const clientTimestamp = reply!["client_timestamp"];
      const backendTimestamp = reply!["backend_timestamp"];
      expect(clientTimestamp).toBeInstanceOf(DateTime);
      expect(backendTimestamp).toBeInstanceOf(DateTime);
      expect((clientTimestamp as DateTime).equals(timestamp)).toBe(true);
      expect((backendTimestamp as DateTime).epochSeconds).toBeGreaterThanOrEqual(before - 1);
      expect((backendTimestamp as DateTime).epochSeconds).toBeLessThanOrEqual(after + 1);
      expect((await administration.getOrganization(organizationId)).body).toMatchObject({ is_bootstrapped: false });
    });
  });

  it("logged no internal error", () => {
    expect(server.loggedErrors).toEqual([]);
  });
});
