import { describe, expect, it } from "vitest";
import { admin } from "../support/client.js";
import { adminQuery } from "../support/postgres.js";
import { startTestServer, testStorage } from "../support/server.js";
import { uniqueOrganizationId } from "./helpers.js";

/** The e2e suite runs once per storage (vitest projects `memory` and `postgresql`): check each run uses its storage. */
describe(`the end-to-end servers of this run (${testStorage()})`, () => {
  it("store what they are given where the run says", async () => {
    const server = await startTestServer();
    try {
      const organizationId = uniqueOrganizationId("Storage");
      await admin(server.url, server.administrationToken).bootstrapToken(organizationId);
      if (testStorage() === "memory") {
        expect(server.settings.db).toEqual({ type: "MOCKED" });
        expect(server.settings.blockstore).toEqual({ type: "MOCKED" });
      } else {
        expect(server.settings.db.type).toBe("POSTGRESQL");
        expect(server.settings.blockstore).toEqual({ type: "POSTGRESQL" });
        const url = server.settings.db.type === "POSTGRESQL" ? new URL(server.settings.db.url) : null;
        const rows = await adminQuery("SELECT organization_id FROM organization", [], decodeURIComponent(url!.pathname.slice(1)));
        expect(rows.rows).toEqual([{ organization_id: organizationId }]);
      }
    } finally {
      await server.stop();
    }
  });
});
