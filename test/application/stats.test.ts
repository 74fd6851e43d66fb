import { describe, expect, it } from "vitest";
import type { AuthenticatedSession } from "../../src/application/index.js";
import type { VlobRepository } from "../../src/application/ports/index.js";
import { BlockID, RealmID, type OrganizationID } from "../../src/domain/ids.js";
import type { DateTime } from "../../src/domain/time.js";
import { authenticate, bootstrapOrganization, buildTestApp, orgId, type TestApp } from "../support/app.js";
import { parsed, storeOwnedRealm } from "../support/world.js";

const realm = (n: number) => parsed(RealmID.parse(n.toString(16).padStart(32, "0")));
const block = (n: number) => parsed(BlockID.parse(n.toString(16).padStart(32, "0")));

/**
 * The vlob repository's `metadataSize` stands in for the vlob component: it answers from a list of
 * (organization, written on, bytes) entries and records the instants it was asked about.
 */
const vlobSizes = (base: VlobRepository, entries: () => readonly { org: OrganizationID; on: DateTime; size: number }[], asked: DateTime[]): VlobRepository =>
  Object.assign(Object.create(base) as VlobRepository, {
    metadataSize: async (organizationId: OrganizationID, at: DateTime) => {
      asked.push(at);
      return entries()
        .filter((e) => e.org === organizationId && !e.on.isAfter(at))
        .reduce((sum, e) => sum + e.size, 0);
    },
  });

const setup = async () => {
  const entries: { org: OrganizationID; on: DateTime; size: number }[] = [];
  const asked: DateTime[] = [];
  const t = buildTestApp({ overrides: (base) => ({ vlobs: vlobSizes(base.vlobs, () => entries, asked) }) });
  const org = await bootstrapOrganization(t);
  const alice = await authenticate(t, org);
  return { t, alice, entries, asked, organizationId: org.organizationId };
};

const addRealm = (t: TestApp, owner: AuthenticatedSession, n: number) => storeOwnedRealm(t, owner, realm(n));

const addBlock = async (t: TestApp, owner: AuthenticatedSession, realmN: number, n: number, size: number) => {
  const outcome = await t.app.createBlock(owner, { blockId: block(n), realmId: realm(realmN), block: Buffer.alloc(size) });
  if (outcome.kind !== "ok") throw new Error(outcome.kind);
};

describe("organization statistics compose users, realms, metadata and data sizes", () => {
  it("reports the figures of every repository, now and as of an earlier instant", async () => {
    const { t, alice, entries, asked, organizationId } = await setup();
    const t0 = t.clock.now();
    await addRealm(t, alice, 1);
    await addBlock(t, alice, 1, 1, 100);
    entries.push({ org: organizationId, on: t.clock.now(), size: 40 });
    t.clock.advance(60);
    const t1 = t.clock.now();
    await addRealm(t, alice, 2);
    await addBlock(t, alice, 2, 2, 28);
    entries.push({ org: organizationId, on: t.clock.now(), size: 2 });
    entries.push({ org: orgId("OtherOrg"), on: t.clock.now(), size: 1000 });
    t.clock.advance(60);

    const now = await t.app.organizationStats(organizationId);
    expect(now).toEqual({
      kind: "ok",
      stats: {
        dataSize: 128,
        metadataSize: 42,
        realms: 2,
        users: 1,
        activeUsers: 1,
        usersPerProfileDetail: [
          { profile: "ADMIN", active: 1, revoked: 0 },
          { profile: "STANDARD", active: 0, revoked: 0 },
          { profile: "OUTSIDER", active: 0, revoked: 0 },
        ],
      },
    });
    expect(asked.at(-1)).toEqual(t.clock.now());

    const earlier = await t.app.organizationStats(organizationId, t1.addSeconds(-1));
    expect(earlier.kind === "ok" && earlier.stats).toMatchObject({ dataSize: 100, metadataSize: 40, realms: 1, users: 1 });
    const before = await t.app.organizationStats(organizationId, t0.addSeconds(-1));
    expect(before.kind === "ok" && before.stats).toMatchObject({ dataSize: 0, metadataSize: 0, realms: 0, users: 0 });
  });

  it("serverStats gives each organization its own figures at the same instant", async () => {
    const { t, alice, entries, organizationId } = await setup();
    await addRealm(t, alice, 1);
    await addBlock(t, alice, 1, 1, 10);
    entries.push({ org: organizationId, on: t.clock.now(), size: 5 });
    t.clock.advance(1);
    await t.app.createOrganization({ organizationId: orgId("OtherOrg") });
    const at = t.clock.now();
    t.clock.advance(1);
    await addBlock(t, alice, 1, 2, 20);

    const all = await t.app.serverStats();
    expect(all.map((s) => [s.organizationId, s.stats.dataSize, s.stats.metadataSize, s.stats.realms])).toEqual([
      [organizationId, 30, 5, 1],
      [orgId("OtherOrg"), 0, 0, 0],
    ]);
    const past = await t.app.serverStats(at);
    expect(past.map((s) => [s.organizationId, s.stats.dataSize])).toEqual([
      [organizationId, 10],
      [orgId("OtherOrg"), 0],
    ]);
  });

  it("still answers not_found for an unknown organization without asking the other repositories", async () => {
    const { t, asked } = await setup();
    expect(await t.app.organizationStats(orgId("Unknown"))).toEqual({ kind: "not_found" });
    expect(asked).toEqual([]);
  });
});
