import { describe, expect, it } from "vitest";
import { DEFAULT_ORGANIZATION_SETTINGS } from "../../src/domain/organization/index.js";
import type { Device, User } from "../../src/domain/user/index.js";
import {
  authenticatedAnswer,
  bootstrapMaterial,
  bootstrapOrganization,
  buildTestApp,
  deviceId,
  FAKE_CLOCK_START,
  orgId,
  revokeUserInStore,
  SeededRandom,
  userId,
  type TestApp,
} from "../support/app.js";

const COOL = orgId("CoolOrg");
const OTHER = orgId("OtherOrg");

describe("createOrganization", () => {
  it("returns a fresh 64-hex-digit bootstrap token and stores a non-bootstrapped organization", async () => {
    const t = buildTestApp();
    const outcome = await t.app.createOrganization({ organizationId: COOL });
    expect(outcome.kind).toBe("ok");
    if (outcome.kind !== "ok") return;
    expect(outcome.bootstrapToken).toMatch(/^[0-9a-f]{64}$/);
    const got = await t.app.getOrganization(COOL);
    expect(got).toEqual({
      kind: "ok",
      organization: {
        id: COOL,
        bootstrapToken: outcome.bootstrapToken,
        isExpired: false,
        createdOn: FAKE_CLOCK_START,
        bootstrappedOn: null,
        rootVerifyKey: null,
        userProfileOutsiderAllowed: true,
        activeUsersLimit: null,
        minimumArchivingPeriod: 2_592_000,
        sequesterAuthority: null,
        sequesterServicesCertificates: null,
      },
    });
  });

  it("draws the token from the random port (deterministic with a seed, distinct per organization)", async () => {
    const a = buildTestApp({ seed: "s" });
    const b = buildTestApp({ seed: "s" });
    const ta = await a.app.createOrganization({ organizationId: COOL });
    const tb = await b.app.createOrganization({ organizationId: COOL });
    expect(ta).toEqual(tb);
    const expected = new SeededRandom("s").bytes(32).toString("hex");
    expect(ta).toEqual({ kind: "ok", bootstrapToken: expected });
    const other = await a.app.createOrganization({ organizationId: OTHER });
    expect(other.kind === "ok" && other.bootstrapToken).not.toBe(expected);
  });

  it("gives distinct tokens with real randomness", async () => {
    const t = buildTestApp({ random: "real" });
    const a = await t.app.createOrganization({ organizationId: COOL });
    const b = await t.app.createOrganization({ organizationId: OTHER });
    expect(a.kind === "ok" && b.kind === "ok" && a.bootstrapToken !== b.bootstrapToken).toBe(true);
  });

  it("applies the configured defaults to absent fields", async () => {
    const t = buildTestApp({ organizationDefaults: { activeUsersLimit: 10, userProfileOutsiderAllowed: false, minimumArchivingPeriod: 3600 } });
    await t.app.createOrganization({ organizationId: COOL });
    const got = await t.app.getOrganization(COOL);
    expect(got.kind === "ok" && got.organization).toMatchObject({
      activeUsersLimit: 10,
      userProfileOutsiderAllowed: false,
      minimumArchivingPeriod: 3600,
    });
  });

  it("keeps explicit values over the defaults", async () => {
    const t = buildTestApp({ organizationDefaults: { activeUsersLimit: 10, userProfileOutsiderAllowed: false, minimumArchivingPeriod: 3600 } });
    await t.app.createOrganization({
      organizationId: COOL,
      activeUsersLimit: 3,
      userProfileOutsiderAllowed: true,
      minimumArchivingPeriod: 0,
      bootstrapToken: "imposed",
    });
    const got = await t.app.getOrganization(COOL);
    expect(got.kind === "ok" && got.organization).toMatchObject({
      activeUsersLimit: 3,
      userProfileOutsiderAllowed: true,
      minimumArchivingPeriod: 0,
      bootstrapToken: "imposed",
    });
  });

  it("distinguishes activeUsersLimit: null (no limit) from an absent limit (default)", async () => {
    const t = buildTestApp({ organizationDefaults: { activeUsersLimit: 10 } });
    await t.app.createOrganization({ organizationId: COOL, activeUsersLimit: null });
    await t.app.createOrganization({ organizationId: OTHER });
    const cool = await t.app.getOrganization(COOL);
    const other = await t.app.getOrganization(OTHER);
    expect(cool.kind === "ok" && cool.organization.activeUsersLimit).toBeNull();
    expect(other.kind === "ok" && other.organization.activeUsersLimit).toBe(10);
  });

  it("re-creating a non-bootstrapped organization replaces its token: the old one no longer bootstraps", async () => {
    const t = buildTestApp();
    const first = await t.app.createOrganization({ organizationId: COOL });
    t.clock.advance(10);
    const second = await t.app.createOrganization({ organizationId: COOL, minimumArchivingPeriod: 42 });
    if (first.kind !== "ok" || second.kind !== "ok") throw new Error("create failed");
    expect(second.bootstrapToken).not.toBe(first.bootstrapToken);
    const got = await t.app.getOrganization(COOL);
    expect(got.kind === "ok" && got.organization).toMatchObject({ bootstrapToken: second.bootstrapToken, minimumArchivingPeriod: 42 });

    const material = bootstrapMaterial(t.clock.now());
    expect(await t.app.bootstrapOrganization({ organizationId: COOL, bootstrapToken: first.bootstrapToken, ...material.request })).toEqual({
      kind: "not_found",
    });
    expect(await t.app.bootstrapOrganization({ organizationId: COOL, bootstrapToken: second.bootstrapToken, ...material.request })).toEqual({
      kind: "ok",
    });
  });

  it("re-creating a bootstrapped organization gives already_exists and changes nothing", async () => {
    const t = buildTestApp();
    const org = await bootstrapOrganization(t, "CoolOrg");
    const before = await t.app.getOrganization(COOL);
    expect(await t.app.createOrganization({ organizationId: COOL })).toEqual({ kind: "already_exists" });
    expect(await t.app.createOrganization({ organizationId: COOL, bootstrapToken: org.bootstrapToken })).toEqual({ kind: "already_exists" });
    expect(await t.app.createOrganization({ organizationId: COOL, bootstrapToken: "", activeUsersLimit: 1, userProfileOutsiderAllowed: false })).toEqual({
      kind: "already_exists",
    });
    expect(await t.app.getOrganization(COOL)).toEqual(before);
    expect([...t.persistence.store.organizations.get(COOL)!.users.keys()]).toEqual([org.userId]);
    expect((await t.app.authenticateDevice(authenticatedAnswer(org))).kind).toBe("ok");
  });

  it("re-creating with an explicit token on a non-bootstrapped organization: that token bootstraps, the previous one no longer does", async () => {
    const t = buildTestApp();
    const first = await t.app.createOrganization({ organizationId: COOL });
    if (first.kind !== "ok") throw new Error("create failed");
    expect(await t.app.createOrganization({ organizationId: COOL, bootstrapToken: "chosen" })).toEqual({ kind: "ok", bootstrapToken: "chosen" });
    const material = bootstrapMaterial(t.clock.now());
    const bootstrap = (bootstrapToken: string) => t.app.bootstrapOrganization({ organizationId: COOL, bootstrapToken, ...material.request });
    expect(await bootstrap(first.bootstrapToken)).toEqual({ kind: "not_found" });
    expect(await bootstrap("chosen")).toEqual({ kind: "ok" });
    expect(await t.app.createOrganization({ organizationId: COOL })).toEqual({ kind: "already_exists" });
  });

  it("a re-creation racing a bootstrap: either the bootstrap wins (already_exists) or the re-creation does (the old token is refused)", async () => {
    for (const createFirst of [false, true]) {
      const t = buildTestApp();
      const created = await t.app.createOrganization({ organizationId: COOL });
      if (created.kind !== "ok") throw new Error("create failed");
      const material = bootstrapMaterial(t.clock.now());
      const bootstrap = () => t.app.bootstrapOrganization({ organizationId: COOL, bootstrapToken: created.bootstrapToken, ...material.request });
      const recreate = () => t.app.createOrganization({ organizationId: COOL });
      const [bootstrapped, recreated] = createFirst
        ? await Promise.all([recreate(), bootstrap()]).then(([r, b]) => [b, r] as const)
        : await Promise.all([bootstrap(), recreate()]);
      const got = await t.app.getOrganization(COOL);
      if (got.kind !== "ok") throw new Error("organization gone");
      if (bootstrapped.kind === "ok") {
        expect(recreated).toEqual({ kind: "already_exists" });
        expect(got.organization).toMatchObject({ rootVerifyKey: material.rootKey.verifyKey, bootstrapToken: created.bootstrapToken });
      } else {
        expect(bootstrapped).toEqual({ kind: "not_found" });
        if (recreated.kind !== "ok") throw new Error(`re-creation: ${recreated.kind}`);
        expect(got.organization).toMatchObject({ rootVerifyKey: null, bootstrapToken: recreated.bootstrapToken });
        expect(await t.app.bootstrapOrganization({ organizationId: COOL, bootstrapToken: recreated.bootstrapToken, ...material.request })).toEqual({ kind: "ok" });
      }
    }
  });
});

describe("getOrganization", () => {
  it("answers not_found for an unknown organization", async () => {
    const t = buildTestApp();
    expect(await t.app.getOrganization(COOL)).toEqual({ kind: "not_found" });
  });

  it("shows the bootstrap: root verify key and bootstrappedOn", async () => {
    const t = buildTestApp();
    const org = await bootstrapOrganization(t, "CoolOrg");
    const got = await t.app.getOrganization(COOL);
    expect(got.kind === "ok" && got.organization).toMatchObject({
      rootVerifyKey: org.rootKey.verifyKey,
      bootstrappedOn: FAKE_CLOCK_START,
      bootstrapToken: org.bootstrapToken,
    });
  });
});

describe("patchOrganization", () => {
  const setup = async (): Promise<TestApp> => {
    const t = buildTestApp();
    await t.app.createOrganization({ organizationId: COOL, activeUsersLimit: 5, userProfileOutsiderAllowed: true, minimumArchivingPeriod: 100 });
    return t;
  };
  const current = async (t: TestApp) => {
    const got = await t.app.getOrganization(COOL);
    if (got.kind !== "ok") throw new Error("not found");
    return got.organization;
  };

  it("changes isExpired and publishes organization.expired", async () => {
    const t = await setup();
    expect(await t.app.patchOrganization(COOL, { isExpired: true })).toEqual({ kind: "ok" });
    expect((await current(t)).isExpired).toBe(true);
    expect(t.published).toEqual([{ type: "organization.expired", organizationId: COOL }]);
  });

  it("un-expiring does not publish", async () => {
    const t = await setup();
    await t.app.patchOrganization(COOL, { isExpired: true });
    t.published.length = 0;
    expect(await t.app.patchOrganization(COOL, { isExpired: false })).toEqual({ kind: "ok" });
    expect((await current(t)).isExpired).toBe(false);
    expect(t.published).toEqual([]);
  });

  it("changes userProfileOutsiderAllowed alone", async () => {
    const t = await setup();
    const before = await current(t);
    await t.app.patchOrganization(COOL, { userProfileOutsiderAllowed: false });
    expect(await current(t)).toEqual({ ...before, userProfileOutsiderAllowed: false });
    expect(t.published).toEqual([]);
  });

  it("changes activeUsersLimit, including to null (no limit)", async () => {
    const t = await setup();
    const before = await current(t);
    await t.app.patchOrganization(COOL, { activeUsersLimit: 7 });
    expect(await current(t)).toEqual({ ...before, activeUsersLimit: 7 });
    await t.app.patchOrganization(COOL, { activeUsersLimit: null });
    expect(await current(t)).toEqual({ ...before, activeUsersLimit: null });
  });

  it("changes minimumArchivingPeriod alone", async () => {
    const t = await setup();
    const before = await current(t);
    await t.app.patchOrganization(COOL, { minimumArchivingPeriod: 0 });
    expect(await current(t)).toEqual({ ...before, minimumArchivingPeriod: 0 });
  });

  it("an empty patch (absent keys) changes nothing", async () => {
    const t = await setup();
    const before = await current(t);
    expect(await t.app.patchOrganization(COOL, {})).toEqual({ kind: "ok" });
    expect(await current(t)).toEqual(before);
    expect(t.published).toEqual([]);
  });

  it("answers not_found for an unknown organization and publishes nothing", async () => {
    const t = await setup();
    expect(await t.app.patchOrganization(OTHER, { isExpired: true })).toEqual({ kind: "not_found" });
    expect(await t.app.getOrganization(OTHER)).toEqual({ kind: "not_found" });
    expect(t.published).toEqual([]);
  });
});

const addUser = async (t: TestApp, organizationId: typeof COOL, raw: string, profile: User["profile"]): Promise<void> => {
  const uid = userId(raw);
  const user: User = {
    userId: uid,
    humanHandle: { email: `${raw}@example.com`, label: raw },
    profile,
    publicKey: Buffer.alloc(32, 1),
    userCertificate: Buffer.from("uc"),
    redactedUserCertificate: Buffer.from("ruc"),
    userCertifier: deviceId("alice@dev1"),
    createdOn: t.clock.now(),
    revokedOn: null,
    revokedUserCertificate: null,
    revokedUserCertifier: null,
  };
  const device: Device = {
    deviceId: deviceId(`${raw}@dev1`),
    deviceLabel: null,
    verifyKey: Buffer.alloc(32, 2),
    deviceCertificate: Buffer.from("dc"),
    redactedDeviceCertificate: Buffer.from("rdc"),
    deviceCertifier: deviceId("alice@dev1"),
    createdOn: t.clock.now(),
  };
  const created = await t.deps.uow.run(organizationId, (tx) => t.deps.users.create(tx, organizationId, user, device));
  if (created !== "ok") throw new Error(created);
};

describe("organizationStats", () => {
  it("answers not_found for an unknown organization", async () => {
    const t = buildTestApp();
    expect(await t.app.organizationStats(COOL)).toEqual({ kind: "not_found" });
  });

  it("counts a freshly created organization as empty", async () => {
    const t = buildTestApp();
    await t.app.createOrganization({ organizationId: COOL });
    expect(await t.app.organizationStats(COOL)).toEqual({
      kind: "ok",
      stats: {
        dataSize: 0,
        metadataSize: 0,
        realms: 0,
        users: 0,
        activeUsers: 0,
        usersPerProfileDetail: [
          { profile: "ADMIN", active: 0, revoked: 0 },
          { profile: "STANDARD", active: 0, revoked: 0 },
          { profile: "OUTSIDER", active: 0, revoked: 0 },
        ],
      },
    });
  });

  it("counts users per profile, active vs revoked, as of now or as of `at`", async () => {
    const t = buildTestApp();
    const created = t.clock.now();
    const org = await bootstrapOrganization(t, "CoolOrg"); // alice, ADMIN, at T0
    t.clock.advance(60);
    await addUser(t, COOL, "bob", "STANDARD");
    await addUser(t, COOL, "carl", "STANDARD");
    await addUser(t, COOL, "zoe", "OUTSIDER");
    const afterUsers = t.clock.now();
    t.clock.advance(60);
    revokeUserInStore(t, COOL, userId("carl"), t.clock.now());
    const afterRevocation = t.clock.now();
    t.clock.advance(60);
    expect(org.userId).toBe("alice");

    const now = await t.app.organizationStats(COOL);
    expect(now.kind === "ok" && now.stats).toMatchObject({
      users: 4,
      activeUsers: 3,
      usersPerProfileDetail: [
        { profile: "ADMIN", active: 1, revoked: 0 },
        { profile: "STANDARD", active: 1, revoked: 1 },
        { profile: "OUTSIDER", active: 1, revoked: 0 },
      ],
    });
    expect(await t.app.organizationStats(COOL, afterRevocation)).toEqual(now);

    const beforeRevocation = await t.app.organizationStats(COOL, afterUsers);
    expect(beforeRevocation.kind === "ok" && beforeRevocation.stats).toMatchObject({
      users: 4,
      activeUsers: 4,
      usersPerProfileDetail: [
        { profile: "ADMIN", active: 1, revoked: 0 },
        { profile: "STANDARD", active: 2, revoked: 0 },
        { profile: "OUTSIDER", active: 1, revoked: 0 },
      ],
    });

    const onlyAlice = await t.app.organizationStats(COOL, created.addSeconds(30));
    expect(onlyAlice.kind === "ok" && onlyAlice.stats).toMatchObject({ users: 1, activeUsers: 1 });

    const beforeCreation = await t.app.organizationStats(COOL, created.addSeconds(-1));
    expect(beforeCreation.kind === "ok" && beforeCreation.stats).toMatchObject({
      users: 0,
      activeUsers: 0,
      usersPerProfileDetail: [
        { profile: "ADMIN", active: 0, revoked: 0 },
        { profile: "STANDARD", active: 0, revoked: 0 },
        { profile: "OUTSIDER", active: 0, revoked: 0 },
      ],
    });
  });
});

describe("serverStats", () => {
  it("lists every organization, or those created at or before `at`", async () => {
    const t = buildTestApp();
    const t0 = t.clock.now();
    await bootstrapOrganization(t, "CoolOrg");
    t.clock.advance(100);
    const t1 = t.clock.now();
    await t.app.createOrganization({ organizationId: OTHER });
    t.clock.advance(100);

    const all = await t.app.serverStats();
    expect(all.map((s) => s.organizationId)).toEqual([COOL, OTHER]);
    expect(all[0]!.stats).toMatchObject({ users: 1, activeUsers: 1 });
    expect(all[1]!.stats).toMatchObject({ users: 0, activeUsers: 0 });

    expect((await t.app.serverStats(t1)).map((s) => s.organizationId)).toEqual([COOL, OTHER]);
    expect((await t.app.serverStats(t1.addSeconds(-0.000001))).map((s) => s.organizationId)).toEqual([COOL]);
    expect((await t.app.serverStats(t0)).map((s) => s.organizationId)).toEqual([COOL]);
    expect(await t.app.serverStats(t0.addSeconds(-1))).toEqual([]);
  });

  it("applies `at` to the per-organization figures too", async () => {
    const t = buildTestApp();
    await bootstrapOrganization(t, "CoolOrg");
    t.clock.advance(10);
    const before = t.clock.now();
    t.clock.advance(10);
    await addUser(t, COOL, "bob", "STANDARD");
    const [cool] = await t.app.serverStats(before);
    expect(cool!.stats).toMatchObject({ users: 1 });
    const [coolNow] = await t.app.serverStats();
    expect(coolNow!.stats).toMatchObject({ users: 2 });
  });
});

describe("organizationConfig", () => {
  it("answers not_found for an unknown organization", async () => {
    const t = buildTestApp();
    expect(await t.app.organizationConfig(COOL)).toEqual({ kind: "not_found" });
  });

  it("reflects the settings, their patches, and no sequester authority", async () => {
    const t = buildTestApp();
    await bootstrapOrganization(t, "CoolOrg");
    expect(await t.app.organizationConfig(COOL)).toEqual({
      kind: "ok",
      config: {
        userProfileOutsiderAllowed: DEFAULT_ORGANIZATION_SETTINGS.userProfileOutsiderAllowed,
        activeUsersLimit: null,
        sequesterAuthorityCertificate: null,
        sequesterServicesCertificates: null,
        minimumArchivingPeriod: 2_592_000,
      },
    });
    await t.app.patchOrganization(COOL, { userProfileOutsiderAllowed: false, activeUsersLimit: 2, minimumArchivingPeriod: 5 });
    expect(await t.app.organizationConfig(COOL)).toEqual({
      kind: "ok",
      config: {
        userProfileOutsiderAllowed: false,
        activeUsersLimit: 2,
        sequesterAuthorityCertificate: null,
        sequesterServicesCertificates: null,
        minimumArchivingPeriod: 5,
      },
    });
  });
});
