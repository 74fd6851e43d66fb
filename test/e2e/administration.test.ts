import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, anonymous, type AdminClient } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { bootstrapFields, createBootstrappedOrganization, uniqueOrganizationId } from "./helpers.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The administration HTTP API: every route, its authorization and its errors; plus `GET /` and unknown paths. */
describe("administration API", () => {
  let server: TestServer;
  let administration: AdminClient;

  beforeAll(async () => {
    server = await startTestServer();
    administration = admin(server.url, server.administrationToken);
  });
  afterAll(() => server?.stop());

  describe("authorization", () => {
    const routes: [string, string, unknown][] = [
      ["POST", "/administration/organizations", { organization_id: "AuthOrg" }],
      ["GET", "/administration/organizations/AuthOrg", undefined],
      ["PATCH", "/administration/organizations/AuthOrg", { is_expired: true }],
      ["GET", "/administration/organizations/AuthOrg/stats", undefined],
      ["GET", "/administration/stats?format=json", undefined],
    ];

    it.each(routes)("%s %s: 403 not_allowed without a token, with a wrong token or scheme", async (method, path, body) => {
      for (const client of [admin(server.url, null), admin(server.url, "wrong-token"), admin(server.url, `${server.administrationToken}x`)]) {
        const reply = await client.request(method, path, body);
        expect(reply.status).toBe(403);
        expect(reply.body).toEqual({ error: "not_allowed" });
      }
      const basic = await admin(server.url, null).request(method, path, body, { authorization: `Token ${server.administrationToken}` });
      expect(basic.status).toBe(403);
      expect(basic.body).toEqual({ error: "not_allowed" });
      expect((await administration.getOrganization("AuthOrg")).status).toBe(404);
    });
  });

  describe("POST /administration/organizations", () => {
    it("creates an organization with the server defaults", async () => {
      const id = uniqueOrganizationId();
      const created = await administration.createOrganization({ organization_id: id });
      expect(created.status).toBe(200);
      expect(created.headers.get("content-type")).toMatch(/^application\/json/);
      expect(created.body).toEqual({ bootstrap_token: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect((await administration.getOrganization(id)).body).toEqual({
        is_bootstrapped: false,
        is_expired: false,
        user_profile_outsider_allowed: true,
        active_users_limit: null,
        minimum_archiving_period: 2_592_000,
      });
    });

    it("takes every optional setting, with active_users_limit null meaning no limit", async () => {
      const limited = uniqueOrganizationId();
      await administration.bootstrapToken(limited, { user_profile_outsider_allowed: false, active_users_limit: 0, minimum_archiving_period: 0 });
      expect((await administration.getOrganization(limited)).body).toMatchObject({
        user_profile_outsider_allowed: false,
        active_users_limit: 0,
        minimum_archiving_period: 0,
      });
      const unlimited = uniqueOrganizationId();
      await administration.bootstrapToken(unlimited, { active_users_limit: null });
      expect((await administration.getOrganization(unlimited)).body).toMatchObject({ active_users_limit: null });
    });

    it.skipIf(!fixtures)("re-creates an organization not bootstrapped yet with a new token that replaces the old one", async () => {
      const id = uniqueOrganizationId();
      const first = await administration.bootstrapToken(id);
      const second = await administration.bootstrapToken(id);
      expect(second).not.toBe(first);
      expect((await anonymous(server.url, id, "organization_bootstrap", bootstrapFields(fixtures!, { bootstrapToken: first }))).reply).toEqual({
        status: "not_found",
      });
      expect((await anonymous(server.url, id, "organization_bootstrap", bootstrapFields(fixtures!, { bootstrapToken: second }))).reply).toEqual({
        status: "ok",
      });
    });

    it.skipIf(!fixtures)("answers 400 already_exists for a bootstrapped organization", async () => {
      const id = await createBootstrappedOrganization(server, fixtures!);
      const reply = await administration.createOrganization({ organization_id: id });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ error: "already_exists" });
    });

    it.each<[string, unknown]>([
      ["an invalid organization_id", { organization_id: "not valid!" }],
      ["an empty organization_id", { organization_id: "" }],
      ["a too long organization_id", { organization_id: "a".repeat(33) }],
      ["a numeric organization_id", { organization_id: 42 }],
      ["a missing organization_id", {}],
      ["a non-boolean user_profile_outsider_allowed", { organization_id: "BadData1", user_profile_outsider_allowed: "yes" }],
      ["a negative active_users_limit", { organization_id: "BadData2", active_users_limit: -1 }],
      ["a string active_users_limit", { organization_id: "BadData3", active_users_limit: "10" }],
      ["a fractional minimum_archiving_period", { organization_id: "BadData4", minimum_archiving_period: 1.5 }],
      ["a null minimum_archiving_period", { organization_id: "BadData5", minimum_archiving_period: null }],
      ["an unknown field", { organization_id: "BadData6", is_expired: true }],
      ["invalid JSON", '{"organization_id": "BadData7",'],
      ["a JSON array", '["BadData8"]'],
      ["a JSON string", '"BadData9"'],
    ])("answers 400 bad_data to %s", async (_, body) => {
      const reply = await administration.createOrganization(body);
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error: "bad_data" });
      expect(typeof (reply.body as { reason?: unknown }).reason).toBe("string");
    });

    it("created none of the refused organizations", async () => {
      for (const id of ["BadData1", "BadData2", "BadData6", "BadData7"]) expect((await administration.getOrganization(id)).status).toBe(404);
    });
  });

  describe("GET, PATCH and stats of one organization", () => {
    it.each([
      ["GET", ""],
      ["PATCH", ""],
      ["GET", "/stats"],
    ])("%s …/<unknown>%s answers 404 not_found", async (method, suffix) => {
      const reply = await administration.request(method, `/administration/organizations/${uniqueOrganizationId("Unknown")}${suffix}`, method === "PATCH" ? { is_expired: true } : undefined);
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ error: "not_found" });
    });

    it("PATCH changes each field alone and leaves absent keys unchanged", async () => {
      const id = uniqueOrganizationId();
      await administration.bootstrapToken(id, { user_profile_outsider_allowed: true, active_users_limit: 5, minimum_archiving_period: 100 });
      const expected = { is_bootstrapped: false, is_expired: false, user_profile_outsider_allowed: true, active_users_limit: 5 as number | null, minimum_archiving_period: 100 };
      const steps: [Record<string, unknown>, Partial<typeof expected>][] = [
        [{}, {}],
        [{ is_expired: true }, { is_expired: true }],
        [{ user_profile_outsider_allowed: false }, { user_profile_outsider_allowed: false }],
        [{ active_users_limit: 42 }, { active_users_limit: 42 }],
        [{ active_users_limit: null }, { active_users_limit: null }],
        [{ active_users_limit: 0 }, { active_users_limit: 0 }],
        [{ minimum_archiving_period: 7 }, { minimum_archiving_period: 7 }],
        [{ is_expired: false, user_profile_outsider_allowed: true }, { is_expired: false, user_profile_outsider_allowed: true }],
      ];
      for (const [patch, change] of steps) {
        const reply = await administration.patchOrganization(id, patch);
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual({});
        Object.assign(expected, change);
        expect((await administration.getOrganization(id)).body).toEqual(expected);
      }
    });

    it.each<[string, unknown]>([
      ["a non-boolean is_expired", { is_expired: "yes" }],
      ["a negative active_users_limit", { active_users_limit: -3 }],
      ["a string minimum_archiving_period", { minimum_archiving_period: "1" }],
      ["an unknown field", { organization_id: "Other" }],
      ["invalid JSON", "{"],
      ["a JSON array", "[]"],
    ])("PATCH answers 400 bad_data to %s and changes nothing", async (_, body) => {
      const id = uniqueOrganizationId();
      await administration.bootstrapToken(id);
      const before = (await administration.getOrganization(id)).body;
      const reply = await administration.patchOrganization(id, body);
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error: "bad_data" });
      expect((await administration.getOrganization(id)).body).toEqual(before);
    });

    it.skipIf(!fixtures)("stats count the bootstrapped admin", async () => {
      const id = await createBootstrappedOrganization(server, fixtures!);
      const reply = await administration.organizationStats(id);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ data_size: 0, metadata_size: 0, realms: 0, users: 1, active_users: 1 });
      expect((reply.body as { users_per_profile_detail: unknown[] }).users_per_profile_detail).toContainEqual({ profile: "ADMIN", active: 1, revoked: 0 });
    });

    it("stats of an organization not bootstrapped are all zero", async () => {
      const id = uniqueOrganizationId();
      await administration.bootstrapToken(id);
      const reply = await administration.organizationStats(id);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ data_size: 0, metadata_size: 0, realms: 0, users: 0, active_users: 0 });
    });
  });

  describe.skipIf(!fixtures)("GET /administration/stats (own server, known organizations)", () => {
    let statsServer: TestServer;
    let client: AdminClient;
    let beforeAllOrganizations: string;
    let between: string;
    let first: string;
    let second: string;

    beforeAll(async () => {
      statsServer = await startTestServer();
      client = admin(statsServer.url, statsServer.administrationToken);
      beforeAllOrganizations = new Date(Date.now() - 1_000).toISOString();
      first = await createBootstrappedOrganization(statsServer, fixtures!, uniqueOrganizationId("StatsA"));
      await sleep(20);
      between = new Date().toISOString();
      await sleep(20);
      second = uniqueOrganizationId("StatsB");
      await client.bootstrapToken(second);
    });
    afterAll(() => statsServer?.stop());

    it.each([[""], ["?format=xml"], ["?format="], ["?at=2020-01-01T00:00:00Z"]])("answers 400 bad_data to a missing or unknown format (%s)", async (query) => {
      const reply = await client.request("GET", `/administration/stats${query}`);
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error: "bad_data" });
    });

    it.each([["yesterday"], ["2024-13-01T00:00:00Z"], ["2024-01-01"], ["1700000000"]])("answers 400 bad_data to at=%s", async (at) => {
      const reply = await client.serverStats({ format: "json", at });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error: "bad_data" });
    });

    it("format=json lists every organization", async () => {
      const reply = await client.serverStats({ format: "json" });
      expect(reply.status).toBe(200);
      const stats = (reply.body as { stats: { organization_id: string }[] }).stats;
      expect(stats).toHaveLength(2);
      expect(stats).toContainEqual({
        organization_id: first,
        data_size: 0,
        metadata_size: 0,
        realms: 0,
        active_users: 1,
        users_per_profile_detail: expect.arrayContaining([{ profile: "ADMIN", active: 1, revoked: 0 }]),
      });
      expect(stats).toContainEqual(expect.objectContaining({ organization_id: second, active_users: 0 }));
    });

    it("format=csv is text/csv with the header row and one row per organization", async () => {
      const reply = await client.serverStats({ format: "csv" });
      expect(reply.status).toBe(200);
      expect(reply.headers.get("content-type")).toMatch(/^text\/csv/);
      const lines = reply.text.split(/\r?\n/).filter((line) => line !== "");
      expect(lines[0]).toBe(
        "organization_id,data_size,metadata_size,realms,active_users,admin_users_active,admin_users_revoked,standard_users_active,standard_users_revoked,outsider_users_active,outsider_users_revoked",
      );
      expect(lines.slice(1).sort()).toEqual([`${first},0,0,0,1,1,0,0,0,0,0`, `${second},0,0,0,0,0,0,0,0,0,0`].sort());
    });

    it("`at` excludes organizations created after it", async () => {
      const ids = async (at: string) =>
        ((await client.serverStats({ format: "json", at })).body as { stats: { organization_id: string }[] }).stats.map((s) => s.organization_id).sort();
      expect(await ids(beforeAllOrganizations)).toEqual([]);
      expect(await ids(between)).toEqual([first]);
      expect(await ids(new Date(Date.now() + 60_000).toISOString())).toEqual([first, second].sort());
      const csv = await client.serverStats({ format: "csv", at: between });
      expect(csv.text.split(/\r?\n/).filter(Boolean)).toHaveLength(2);
    });
  });

  describe("other paths", () => {
    it("GET / answers 200 with an HTML page", async () => {
      const reply = await fetch(`${server.url}/`);
      expect(reply.status).toBe(200);
      expect(reply.headers.get("content-type")).toMatch(/^text\/html/);
      expect((await reply.text()).toLowerCase()).toContain("<html");
    });

    it.each([
      ["GET", "/nope"],
      ["GET", "/administration/nope"],
      ["PUT", "/"],
    ])("%s %s answers 404", async (method, path) => {
      const reply = await administration.request(method, path);
      expect(reply.status).toBe(404);
    });

    it.each([
      ["DELETE", "/administration/organizations/CoolOrg"],
      ["POST", "/administration/stats"],
      ["GET", "/administration/organizations"],
      ["PUT", "/administration/organizations/CoolOrg/stats"],
    ])("%s %s answers 405 method_not_allowed", async (method, path) => {
      const reply = await administration.request(method, path);
      expect(reply.status).toBe(405);
      expect(reply.body).toEqual({ error: "method_not_allowed" });
    });

    it.each(["/administration/organizations/%E0%A4%A", "/administration/organizations/%ZZ/stats"])(
      "GET %s (malformed percent-escape) answers 404 not_found",
      async (path) => {
        const reply = await administration.request("GET", path);
        expect(reply.status).toBe(404);
        expect(reply.body).toEqual({ error: "not_found" });
      },
    );
  });

  it("logged no internal error", () => {
    expect(server.loggedErrors).toEqual([]);
  });
});
