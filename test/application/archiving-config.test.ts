import { describe, expect, it } from "vitest";
import type { RealmID } from "../../src/domain/ids.js";
import { RealmID as RealmIDs } from "../../src/domain/ids.js";
import { realmHandlers } from "../../src/adapters/protocol/handlers/realm.js";
import { authenticate, bootstrapOrganization, buildTestApp } from "../support/app.js";
import { storeRealm } from "../support/world.js";

const realmId = (hex: string): RealmID => {
  const parsed = RealmIDs.parse(hex);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

describe("archiving_config", () => {
  it("lists every realm the user has a role in as AVAILABLE, never configured, and not the others", async () => {
    const t = buildTestApp();
    const org = await bootstrapOrganization(t, "ArchOrg");
    const alice = await authenticate(t, org);
    const mine = realmId("000000000000000000000000000000a1");
    const left = realmId("000000000000000000000000000000a2");
    const others = realmId("000000000000000000000000000000a3");
    const grant = (userId: string, role: "OWNER" | null) => ({ userId: userId as never, role, certificate: Buffer.from("c"), grantedBy: alice.deviceId, grantedOn: t.clock.now() });
    await storeRealm(t, alice.organizationId, { id: mine, createdOn: t.clock.now(), encryptionRevision: 1, maintenance: null, grants: [grant(alice.userId, "OWNER")] });
    await storeRealm(t, alice.organizationId, { id: left, createdOn: t.clock.now(), encryptionRevision: 1, maintenance: null, grants: [grant(alice.userId, "OWNER"), grant(alice.userId, null)] });
    await storeRealm(t, alice.organizationId, { id: others, createdOn: t.clock.now(), encryptionRevision: 1, maintenance: null, grants: [grant("zoe", "OWNER")] });
    expect(await t.app.archivingConfig(alice)).toEqual({ kind: "ok", statuses: [{ realmId: mine, configuration: { type: "AVAILABLE" } }] });
    const reply = await realmHandlers.archiving_config({ app: t.app, session: alice, signal: new AbortController().signal, closeConnection: () => {} });
    expect(reply).toEqual({ status: "ok", archiving_config: [{ realm_id: mine, configuration: { type: "AVAILABLE" }, configured_on: null, configured_by: null }] });
  });

  it("answers not_found for a session of an unknown organization", async () => {
    const t = buildTestApp();
    const org = await bootstrapOrganization(t, "ArchOrg");
    const alice = await authenticate(t, org);
    expect(await t.app.archivingConfig({ ...alice, organizationId: "Nowhere" as never })).toEqual({ kind: "not_found" });
  });
});
