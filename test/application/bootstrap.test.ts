import { describe, expect, it } from "vitest";
import type { BootstrapOrganizationInput } from "../../src/application/index.js";
import { fixtures } from "../support/fixtures.js";
import { DateTime } from "../../src/domain/time.js";
import {
  authenticate,
  bootstrapMaterial,
  bootstrapOrganization,
  buildTestApp,
  deviceId,
  orgId,
  storedDevice,
  userId,
  type BootstrapIdentity,
  type BootstrapMaterial,
  type TestApp,
} from "../support/app.js";
import { deviceCertificate, randomEd25519, signPayload, userCertificate } from "../support/certificates.js";

const COOL = orgId("CoolOrg");

/** A created (not bootstrapped) CoolOrg, valid certificates for it, and the full request. */
const setup = async (options: Parameters<typeof buildTestApp>[0] = {}, identity: BootstrapIdentity = {}) => {
  const t = buildTestApp(options);
  const created = await t.app.createOrganization({ organizationId: COOL });
  if (created.kind !== "ok") throw new Error("create failed");
  const material = bootstrapMaterial(t.clock.now(), identity);
  const request: BootstrapOrganizationInput = { organizationId: COOL, bootstrapToken: created.bootstrapToken, ...material.request };
  return { t, material, request, token: created.bootstrapToken };
};

/** Field values of the user / device certificates of `m`, to build variants. */
const userFields = (m: BootstrapMaterial) => ({
  author: null,
  timestamp: m.timestamp,
  userId: m.userId as string,
  humanHandle: m.humanHandle,
  publicKey: m.userPublicKey,
  profile: "ADMIN" as const,
});
const deviceFields = (m: BootstrapMaterial) => ({
  author: null,
  timestamp: m.timestamp,
  deviceId: m.deviceId as string,
  deviceLabel: m.deviceLabel,
  verifyKey: m.deviceKey.verifyKey,
});

const expectNotBootstrapped = async (t: TestApp): Promise<void> => {
  const got = await t.app.getOrganization(COOL);
  expect(got.kind === "ok" && got.organization.rootVerifyKey).toBeNull();
  expect(t.persistence.store.organizations.get(COOL)?.users.size ?? 0).toBe(0);
};

describe("organization_bootstrap: ok", () => {
  it("records the root key, the bootstrap time, the first user and device exactly as received", async () => {
    const { t, material, request, token } = await setup();
    t.clock.advance(5); // the certificates are 5 s old: still in the ballpark
    expect(await t.app.bootstrapOrganization(request)).toEqual({ kind: "ok" });

    const got = await t.app.getOrganization(COOL);
    expect(got.kind === "ok" && got.organization).toMatchObject({
      rootVerifyKey: material.rootKey.verifyKey,
      bootstrappedOn: t.clock.now(),
      bootstrapToken: token,
      sequesterAuthority: null,
      sequesterServicesCertificates: null,
    });
    const found = await storedDevice(t, COOL, material.deviceId);
    expect(found).toEqual({
      user: {
        userId: material.userId,
        humanHandle: material.humanHandle,
        profile: "ADMIN",
        publicKey: material.userPublicKey,
        userCertificate: request.userCertificate,
        redactedUserCertificate: request.redactedUserCertificate,
        userCertifier: null,
        createdOn: material.timestamp,
        revokedOn: null,
        revokedUserCertificate: null,
        revokedUserCertifier: null,
      },
      device: {
        deviceId: material.deviceId,
        deviceLabel: material.deviceLabel,
        verifyKey: material.deviceKey.verifyKey,
        deviceCertificate: request.deviceCertificate,
        redactedDeviceCertificate: request.redactedDeviceCertificate,
        deviceCertifier: null,
        createdOn: material.timestamp,
      },
    });
  });

  it("accepts a first user without human handle nor device label", async () => {
    const { t, request } = await setup({}, { humanHandle: null, deviceLabel: null });
    expect(await t.app.bootstrapOrganization(request)).toEqual({ kind: "ok" });
  });

  it("publishes no event and leaves the device able to authenticate", async () => {
    const t = buildTestApp();
    const org = await bootstrapOrganization(t, "CoolOrg");
    expect(t.published).toEqual([]);
    const session = await authenticate(t, org);
    expect(session.deviceId).toBe(org.deviceId);
  });
});

describe("organization_bootstrap: invalid_certification", () => {
  it("bad signature on the user certificate", async () => {
    const { t, request } = await setup();
    const tampered = Buffer.from(request.userCertificate);
    tampered[3] = tampered[3]! ^ 0xff;
    const outcome = await t.app.bootstrapOrganization({ ...request, userCertificate: tampered });
    expect(outcome.kind).toBe("invalid_certification");
    await expectNotBootstrapped(t);
  });

  it("certificates signed by another key than the given root verify key", async () => {
    const { t, request } = await setup();
    expect((await t.app.bootstrapOrganization({ ...request, rootVerifyKey: randomEd25519().verifyKey })).kind).toBe("invalid_certification");
    await expectNotBootstrapped(t);
  });

  it("one certificate (the redacted device) signed by another key", async () => {
    const { t, material, request } = await setup();
    const other = randomEd25519();
    const outcome = await t.app.bootstrapOrganization({
      ...request,
      redactedDeviceCertificate: deviceCertificate(other.signingKey, { ...deviceFields(material), deviceLabel: null }),
    });
    expect(outcome.kind).toBe("invalid_certification");
  });

  it("wrong certificate type (a device certificate given as the user certificate, and vice versa)", async () => {
    const { t, request } = await setup();
    expect((await t.app.bootstrapOrganization({ ...request, userCertificate: request.deviceCertificate })).kind).toBe("invalid_certification");
    expect((await t.app.bootstrapOrganization({ ...request, deviceCertificate: request.userCertificate })).kind).toBe("invalid_certification");
    expect((await t.app.bootstrapOrganization({ ...request, redactedUserCertificate: request.redactedDeviceCertificate })).kind).toBe(
      "invalid_certification",
    );
    await expectNotBootstrapped(t);
  });

  it("certificates authored by a device instead of the root", async () => {
    const { t, material, request } = await setup();
    const author = "alice@dev1";
    const viaUser = await t.app.bootstrapOrganization({
      ...request,
      userCertificate: userCertificate(material.rootKey.signingKey, { ...userFields(material), author }),
    });
    expect(viaUser.kind).toBe("invalid_certification");
    const viaDevice = await t.app.bootstrapOrganization({
      ...request,
      deviceCertificate: deviceCertificate(material.rootKey.signingKey, { ...deviceFields(material), author }),
    });
    expect(viaDevice.kind).toBe("invalid_certification");
    await expectNotBootstrapped(t);
  });

  it("garbage bytes, signed or not", async () => {
    const { t, material, request } = await setup();
    expect((await t.app.bootstrapOrganization({ ...request, userCertificate: Buffer.from("garbage") })).kind).toBe("invalid_certification");
    expect((await t.app.bootstrapOrganization({ ...request, deviceCertificate: Buffer.alloc(0) })).kind).toBe("invalid_certification");
    const signedGarbage = signPayload(material.rootKey.signingKey, Buffer.from("not zlib at all"));
    expect((await t.app.bootstrapOrganization({ ...request, redactedUserCertificate: signedGarbage })).kind).toBe("invalid_certification");
    await expectNotBootstrapped(t);
  });

  it("is checked before the token: a wrong token with bad certificates gives invalid_certification", async () => {
    const { t, request } = await setup();
    const outcome = await t.app.bootstrapOrganization({ ...request, bootstrapToken: "nope", userCertificate: Buffer.from("garbage") });
    expect(outcome.kind).toBe("invalid_certification");
  });
});

describe("organization_bootstrap: invalid_data", () => {
  it("the first user is not ADMIN", async () => {
    for (const profile of ["STANDARD", "OUTSIDER"] as const) {
      const { t, request } = await setup({}, { profile });
      const outcome = await t.app.bootstrapOrganization(request);
      expect(outcome).toEqual({ kind: "invalid_data", reason: "The first user must have the ADMIN profile." });
      await expectNotBootstrapped(t);
    }
  });

  it("user and device timestamps differ", async () => {
    const { t, material, request } = await setup();
    const later = material.timestamp.addSeconds(0.000001);
    const outcome = await t.app.bootstrapOrganization({
      ...request,
      deviceCertificate: deviceCertificate(material.rootKey.signingKey, { ...deviceFields(material), timestamp: later }),
      redactedDeviceCertificate: deviceCertificate(material.rootKey.signingKey, { ...deviceFields(material), timestamp: later, deviceLabel: null }),
    });
    expect(outcome).toEqual({ kind: "invalid_data", reason: "Device and User certificates must have the same timestamp." });
    await expectNotBootstrapped(t);
  });

  it("the device belongs to another user", async () => {
    const { t, material, request } = await setup();
    const bobDevice = { ...deviceFields(material), deviceId: "bob@dev1" };
    const outcome = await t.app.bootstrapOrganization({
      ...request,
      deviceCertificate: deviceCertificate(material.rootKey.signingKey, bobDevice),
      redactedDeviceCertificate: deviceCertificate(material.rootKey.signingKey, { ...bobDevice, deviceLabel: null }),
    });
    expect(outcome).toEqual({ kind: "invalid_data", reason: "Device and User must have the same user ID." });
    await expectNotBootstrapped(t);
  });

  it("the redacted user certificate carries a human handle", async () => {
    const { t, request } = await setup();
    const outcome = await t.app.bootstrapOrganization({ ...request, redactedUserCertificate: request.userCertificate });
    expect(outcome).toEqual({ kind: "invalid_data", reason: "Redacted User certificate must not contain a human_handle field." });
    await expectNotBootstrapped(t);
  });

  it("the redacted user certificate differs from the full one (other public key, other user id)", async () => {
    const { t, material, request } = await setup();
    const redacted = { ...userFields(material), humanHandle: null };
    for (const variant of [{ publicKey: randomEd25519().verifyKey }, { userId: "mallory" }, { timestamp: material.timestamp.addSeconds(1) }]) {
      const outcome = await t.app.bootstrapOrganization({
        ...request,
        redactedUserCertificate: userCertificate(material.rootKey.signingKey, { ...redacted, ...variant }),
      });
      expect(outcome).toEqual({ kind: "invalid_data", reason: "Redacted User certificate differs from User certificate." });
    }
    await expectNotBootstrapped(t);
  });

  it("the redacted device certificate carries a label, or differs from the full one", async () => {
    const { t, material, request } = await setup();
    expect(await t.app.bootstrapOrganization({ ...request, redactedDeviceCertificate: request.deviceCertificate })).toEqual({
      kind: "invalid_data",
      reason: "Redacted Device certificate must not contain a device_label field.",
    });
    const otherKey = deviceCertificate(material.rootKey.signingKey, {
      ...deviceFields(material),
      deviceLabel: null,
      verifyKey: randomEd25519().verifyKey,
    });
    expect(await t.app.bootstrapOrganization({ ...request, redactedDeviceCertificate: otherKey })).toEqual({
      kind: "invalid_data",
      reason: "Redacted Device certificate differs from Device certificate.",
    });
    await expectNotBootstrapped(t);
  });
});

describe("organization_bootstrap: bad_timestamp", () => {
  const badTimestamp = (client: DateTime, backend: DateTime) => ({
    kind: "bad_timestamp",
    clientTimestamp: client,
    backendTimestamp: backend,
    ballparkClientEarlyOffset: 300,
    ballparkClientLateOffset: 320,
  });

  it("certificates 320 s or more in the past are refused, just under 320 s accepted", async () => {
    const { t, material, request } = await setup();
    t.clock.set(material.timestamp.addSeconds(320));
    expect(await t.app.bootstrapOrganization(request)).toEqual(badTimestamp(material.timestamp, t.clock.now()));
    t.clock.advance(3600);
    expect(await t.app.bootstrapOrganization(request)).toEqual(badTimestamp(material.timestamp, t.clock.now()));
    await expectNotBootstrapped(t);
    t.clock.set(material.timestamp.addSeconds(319.999999));
    expect(await t.app.bootstrapOrganization(request)).toEqual({ kind: "ok" });
  });

  it("certificates 300 s or more in the future are refused, just under 300 s accepted", async () => {
    const { t, material, request } = await setup();
    t.clock.set(material.timestamp.addSeconds(-300));
    expect(await t.app.bootstrapOrganization(request)).toEqual(badTimestamp(material.timestamp, t.clock.now()));
    t.clock.advance(-1000);
    expect(await t.app.bootstrapOrganization(request)).toEqual(badTimestamp(material.timestamp, t.clock.now()));
    await expectNotBootstrapped(t);
    t.clock.set(material.timestamp.addSeconds(-299.999999));
    expect(await t.app.bootstrapOrganization(request)).toEqual({ kind: "ok" });
  });
});

describe("organization_bootstrap: already_bootstrapped and not_found", () => {
  it("a second bootstrap, same or other certificates, gives already_bootstrapped and changes nothing", async () => {
    const { t, material, request } = await setup();
    expect(await t.app.bootstrapOrganization(request)).toEqual({ kind: "ok" });
    const before = await t.app.getOrganization(COOL);
    expect(await t.app.bootstrapOrganization(request)).toEqual({ kind: "already_bootstrapped" });
    const other = bootstrapMaterial(t.clock.now(), { userId: "bob" });
    expect(await t.app.bootstrapOrganization({ ...request, ...other.request })).toEqual({ kind: "already_bootstrapped" });
    expect(await t.app.bootstrapOrganization({ ...request, ...other.request, bootstrapToken: "wrong" })).toEqual({ kind: "already_bootstrapped" });
    expect(await t.app.getOrganization(COOL)).toEqual(before);
    expect([...t.persistence.store.organizations.get(COOL)!.users.keys()]).toEqual([material.userId]);
  });

  it("an unknown organization without spontaneous bootstrap gives not_found and creates nothing", async () => {
    const t = buildTestApp();
    const material = bootstrapMaterial(t.clock.now());
    expect(await t.app.bootstrapOrganization({ organizationId: COOL, bootstrapToken: "", ...material.request })).toEqual({ kind: "not_found" });
    expect(await t.app.getOrganization(COOL)).toEqual({ kind: "not_found" });
  });

  it("a wrong bootstrap token gives not_found (empty token included)", async () => {
    const { t, request, token } = await setup();
    expect(await t.app.bootstrapOrganization({ ...request, bootstrapToken: token.replace(/^./, (c) => (c === "0" ? "1" : "0")) })).toEqual({
      kind: "not_found",
    });
    expect(await t.app.bootstrapOrganization({ ...request, bootstrapToken: "" })).toEqual({ kind: "not_found" });
    await expectNotBootstrapped(t);
  });
});

describe("organization_bootstrap: spontaneous bootstrap", () => {
  it("creates the unknown organization with an empty token; a later administration create gives already_exists", async () => {
    const t = buildTestApp({ spontaneousOrganizationBootstrap: true, organizationDefaults: { activeUsersLimit: 9 } });
    const material = bootstrapMaterial(t.clock.now());
    expect(await t.app.bootstrapOrganization({ organizationId: COOL, bootstrapToken: "", ...material.request })).toEqual({ kind: "ok" });
    const got = await t.app.getOrganization(COOL);
    expect(got.kind === "ok" && got.organization).toMatchObject({
      bootstrapToken: "",
      rootVerifyKey: material.rootKey.verifyKey,
      activeUsersLimit: 9,
      createdOn: t.clock.now(),
      bootstrappedOn: t.clock.now(),
    });
    expect(await t.app.createOrganization({ organizationId: COOL })).toEqual({ kind: "already_exists" });
    expect(await t.app.bootstrapOrganization({ organizationId: COOL, bootstrapToken: "", ...material.request })).toEqual({
      kind: "already_bootstrapped",
    });
  });

  it("still requires the token of an organization created by the administration", async () => {
    const { t, request, token } = await setup({ spontaneousOrganizationBootstrap: true });
    expect(await t.app.bootstrapOrganization({ ...request, bootstrapToken: "" })).toEqual({ kind: "not_found" });
    const got = await t.app.getOrganization(COOL);
    expect(got.kind === "ok" && got.organization.bootstrapToken).toBe(token);
    expect(await t.app.bootstrapOrganization(request)).toEqual({ kind: "ok" });
  });

  it("creates nothing when the certificates are refused", async () => {
    const t = buildTestApp({ spontaneousOrganizationBootstrap: true });
    const material = bootstrapMaterial(t.clock.now(), { profile: "STANDARD" });
    expect((await t.app.bootstrapOrganization({ organizationId: COOL, bootstrapToken: "", ...material.request })).kind).toBe("invalid_data");
    expect(await t.app.getOrganization(COOL)).toEqual({ kind: "not_found" });
  });

  it("50 concurrent spontaneous bootstraps: exactly one ok", async () => {
    const t = buildTestApp({ spontaneousOrganizationBootstrap: true });
    const materials = Array.from({ length: 50 }, (_, i) => bootstrapMaterial(t.clock.now(), { userId: `user${i}` }));
    const outcomes = await Promise.all(materials.map((m) => t.app.bootstrapOrganization({ organizationId: COOL, bootstrapToken: "", ...m.request })));
    expect(outcomes.filter((o) => o.kind === "ok")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind !== "ok").every((o) => o.kind === "already_bootstrapped")).toBe(true);
    expect(t.persistence.store.organizations.get(COOL)!.users.size).toBe(1);
  });
});

describe("organization_bootstrap: concurrency and atomicity", () => {
  it("50 concurrent bootstraps with valid, different keys: exactly one ok, the rest already_bootstrapped", async () => {
    const { t, token } = await setup();
    const materials = Array.from({ length: 50 }, (_, i) => bootstrapMaterial(t.clock.now(), { userId: `user${i}` }));
    const outcomes = await Promise.all(
      materials.map((m) => t.app.bootstrapOrganization({ organizationId: COOL, bootstrapToken: token, ...m.request })),
    );
    const winners = outcomes.flatMap((o, i) => (o.kind === "ok" ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "already_bootstrapped")).toHaveLength(49);

    const winner = materials[winners[0]!]!;
    const got = await t.app.getOrganization(COOL);
    expect(got.kind === "ok" && got.organization.rootVerifyKey).toEqual(winner.rootKey.verifyKey);
    const data = t.persistence.store.organizations.get(COOL)!;
    expect([...data.users.keys()]).toEqual([winner.userId]);
    expect([...data.devices.keys()]).toEqual([winner.deviceId]);
  });

  it("two concurrent bootstraps of one organization, same or different certificates: exactly one ok", async () => {
    for (const same of [true, false]) {
      const { t, request, token } = await setup();
      const other = same ? request : { organizationId: COOL, bootstrapToken: token, ...bootstrapMaterial(t.clock.now(), { userId: "bob" }).request };
      const outcomes = await Promise.all([t.app.bootstrapOrganization(request), t.app.bootstrapOrganization(other)]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(["already_bootstrapped", "ok"]);
      expect(t.persistence.store.organizations.get(COOL)!.users.size).toBe(1);
    }
  });

  /** An app whose user repository's `create` runs, then fails (`afterWrite`) or fails at once, while `failing` holds. */
  const failingUserCreation = (afterWrite: boolean) => {
    const state = { failing: true };
    const t = buildTestApp({
      overrides: (deps) => ({
        users: Object.assign(Object.create(deps.users) as typeof deps.users, {
          create: async (...args: Parameters<typeof deps.users.create>) => {
            if (!state.failing) return deps.users.create(...args);
            if (afterWrite) await deps.users.create(...args);
            throw new Error("disk full");
          },
        }),
      }),
    });
    return { t, state };
  };

  for (const afterWrite of [false, true])
    it(`rolls the recorded bootstrap back when creating the first user fails${afterWrite ? " after writing it" : ""}; the token still works`, async () => {
      const { t, state } = failingUserCreation(afterWrite);
      const created = await t.app.createOrganization({ organizationId: COOL });
      if (created.kind !== "ok") throw new Error("create failed");
      const material = bootstrapMaterial(t.clock.now());
      const request = { organizationId: COOL, bootstrapToken: created.bootstrapToken, ...material.request };
      await expect(t.app.bootstrapOrganization(request)).rejects.toThrow("disk full");
      expect(await storedDevice(t, COOL, material.deviceId)).toBeNull();
      await expectNotBootstrapped(t);
      const got = await t.app.getOrganization(COOL);
      expect(got.kind === "ok" && got.organization.bootstrappedOn).toBeNull();
      state.failing = false;
      expect(await t.app.bootstrapOrganization(request)).toEqual({ kind: "ok" });
      expect(await storedDevice(t, COOL, material.deviceId)).not.toBeNull();
    });
});

describe.skipIf(!fixtures)("organization_bootstrap with Parsec's fixture keys", () => {
  it("bootstraps CoolOrg with alice@dev1 and the fixture root key", async () => {
    const f = fixtures!;
    const t = buildTestApp();
    const org = await bootstrapOrganization(t, f.organization.id, {
      rootKey: { signingKey: f.organization.rootSigningKey, verifyKey: f.organization.rootVerifyKey },
      deviceKey: { signingKey: f.alice.signingKey, verifyKey: f.alice.verifyKey },
      userId: f.alice.userId,
      deviceName: f.alice.deviceName,
      humanHandle: f.alice.humanHandle,
      deviceLabel: f.alice.deviceLabel,
    });
    expect(org.deviceId).toBe(deviceId("alice@dev1"));
    expect(org.userId).toBe(userId("alice"));
    const session = await authenticate(t, org);
    expect(session).toMatchObject({ organizationId: f.organization.id, deviceId: f.alice.deviceId, humanHandle: f.alice.humanHandle });
  });
});

describe("FakeClock", () => {
  it("advance moves by microseconds exactly", () => {
    const t = buildTestApp({ start: DateTime.fromEpochMicroseconds(1_000_000) });
    t.clock.advance(0.000001);
    expect(t.clock.now().epochMicroseconds).toBe(1_000_001);
  });
});
