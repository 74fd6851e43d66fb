import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, connectAuthenticated, expectSession } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { aliceOptions, createBootstrappedOrganization, within } from "./helpers.js";

/** Sessions ended by the server: an organization expiring, the server stopping. */
describe.skipIf(!fixtures)("server-side end of sessions", () => {
  const f = fixtures!;

  describe("organization expiry", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(() => server?.stop());

    it("closes every open session of the expired organization within 1 s, and only those", async () => {
      const expiring = await createBootstrappedOrganization(server, f);
      const other = await createBootstrappedOrganization(server, f);
      const sessions = await Promise.all([1, 2, 3].map(async () => expectSession(await connectAuthenticated(aliceOptions(server, f, expiring)))));
      const bystander = expectSession(await connectAuthenticated(aliceOptions(server, f, other)));
      try {
        for (const s of sessions) expect(await s.ping()).toBe("ping");
        const started = Date.now();
        const patched = await admin(server.url, server.administrationToken).patchOrganization(expiring, { is_expired: true });
        expect(patched.status).toBe(200);
        const closes = await within(1_000, Promise.all(sessions.map((s) => s.closed)), "closing the expired organization's sessions");
        expect(Date.now() - started).toBeLessThan(1_000);
        for (const close of closes) expect(close).toEqual({ code: 1008, reason: "Organization expired" });
        expect(await bystander.ping("unaffected")).toBe("unaffected");
      } finally {
        await Promise.all([...sessions, bystander].map((s) => s.close()));
      }
    });

    it("lets alice in again once the organization is un-expired", async () => {
      const organizationId = await createBootstrappedOrganization(server, f);
      const administration = admin(server.url, server.administrationToken);
      await administration.patchOrganization(organizationId, { is_expired: true });
      expect((await connectAuthenticated(aliceOptions(server, f, organizationId))).ok).toBe(false);
      await administration.patchOrganization(organizationId, { is_expired: false });
      const session = expectSession(await connectAuthenticated(aliceOptions(server, f, organizationId)));
      expect(await session.ping()).toBe("ping");
      await session.close();
    });
  });

  describe("graceful stop", () => {
    it("closes open sessions with 1001 (going away) and stops accepting connections", async () => {
      const server = await startTestServer();
      try {
        const organizationId = await createBootstrappedOrganization(server, f);
        const sessions = await Promise.all([1, 2].map(async () => expectSession(await connectAuthenticated(aliceOptions(server, f, organizationId)))));
        for (const s of sessions) expect(await s.ping()).toBe("ping");
        await within(5_000, server.stop(), "server stop");
        const closes = await within(2_000, Promise.all(sessions.map((s) => s.closed)), "session close on stop");
        for (const close of closes) expect(close.code).toBe(1001);
        await expect(connectAuthenticated(aliceOptions(server, f, organizationId, { timeoutMs: 2_000 }))).rejects.toThrow();
      } finally {
        await server.stop();
      }
    });
  });
});
