import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { organizationStats as organizationStatsCodecs } from "../../src/adapters/protocol/commands/organization.js";
import { vlobCreate as vlobCreateCodecs, vlobUpdate as vlobUpdateCodecs } from "../../src/adapters/protocol/commands/vlob.js";
import { organizationConfig, organizationStats } from "../../src/adapters/protocol/handlers/organization.js";
import { vlobHandlers } from "../../src/adapters/protocol/handlers/vlob.js";
import { encodeTypedReply } from "../../src/adapters/protocol/registry.js";
import type { AuthenticatedSession } from "../../src/application/index.js";
import { RealmID, SequesterServiceID, VlobID, type UserProfile } from "../../src/domain/ids.js";
import {
  authenticate,
  bootstrapOrganization,
  buildTestApp,
  deviceId,
  newChallenge,
  orgId,
  signChallenge,
  type BootstrappedOrganization,
  type TestApp,
} from "../support/app.js";
import { deviceCertificate, randomEd25519, userCertificate } from "../support/certificates.js";
import { storeRealm } from "../support/world.js";

/**
 * Status audit: reply statuses the handlers can produce that no other test asserted
 * (`organization_stats` → `not_allowed`, `organization_config`/`organization_stats` → `not_found` at the handler,
 * `vlob_update` → `sequester_inconsistency`, and the wire form of `sequester_inconsistency` for both vlob writes).
 */

const parsed = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const ctx = (t: TestApp, session: AuthenticatedSession) => ({ app: t.app, session, signal: new AbortController().signal, closeConnection: () => {} });

/** Creates `name` with `profile` through `user_create` (signed by alice) and opens its session through the handshake use case. */
const memberSession = async (t: TestApp, org: BootstrappedOrganization, alice: AuthenticatedSession, name: string, profile: UserProfile) => {
  const key = randomEd25519();
  const timestamp = t.clock.now();
  const user = { author: alice.deviceId, timestamp, userId: name, publicKey: randomEd25519().verifyKey, profile };
  const device = { author: alice.deviceId, timestamp, deviceId: `${name}@dev1`, verifyKey: key.verifyKey };
  const signer = org.deviceKey.signingKey;
  const created = await t.app.createUser(alice, {
    userCertificate: userCertificate(signer, { ...user, humanHandle: { email: `${name}@example.com`, label: name } }),
    redactedUserCertificate: userCertificate(signer, { ...user, humanHandle: null }),
    deviceCertificate: deviceCertificate(signer, { ...device, deviceLabel: "Laptop" }),
    redactedDeviceCertificate: deviceCertificate(signer, { ...device, deviceLabel: null }),
  });
  expect(created).toEqual({ kind: "ok" });
  const challenge = newChallenge();
  const outcome = await t.app.authenticateDevice({
    organizationId: org.organizationId,
    deviceId: deviceId(`${name}@dev1`),
    rootVerifyKey: org.rootKey.verifyKey,
    answer: signChallenge(key.signingKey, challenge),
    clientApiVersion: { major: 2, revision: 5 },
    challenge,
  });
  if (outcome.kind !== "ok") throw new Error(`authenticateDevice(${name}): ${outcome.kind}`);
  expect(outcome.session.profile).toBe(profile);
  return outcome.session;
};

describe("organization_stats and organization_config handlers: statuses besides ok", () => {
  it("organization_stats answers not_allowed with reason null to a STANDARD or OUTSIDER user, ok to the ADMIN", async () => {
    const t = buildTestApp();
    const org = await bootstrapOrganization(t);
    const alice = await authenticate(t, org);
    for (const [name, profile] of [["bob", "STANDARD"], ["olivia", "OUTSIDER"]] as const) {
      const reply = await organizationStats(ctx(t, await memberSession(t, org, alice, name, profile)), { cmd: "organization_stats" });
      expect(reply).toEqual({ status: "not_allowed", reason: null });
      expect(organizationStatsCodecs.rep.is(reply)).toBe(true);
      expect(() => encodeTypedReply("authenticated", "organization_stats", reply!)).not.toThrow();
    }
    expect(await organizationStats(ctx(t, alice), { cmd: "organization_stats" })).toMatchObject({ status: "ok", users: 3, active_users: 3 });
  });

  it("both answer not_found when the session's organization is unknown (the use case's not_found)", async () => {
    const t = buildTestApp();
    const org = await bootstrapOrganization(t);
    const alice = await authenticate(t, org);
    const elsewhere: AuthenticatedSession = { ...alice, organizationId: orgId("NoSuchOrg") };
    expect(await organizationStats(ctx(t, elsewhere), { cmd: "organization_stats" })).toEqual({ status: "not_found" });
    expect(await organizationConfig(ctx(t, elsewhere), { cmd: "organization_config" })).toEqual({ status: "not_found" });
  });
});

describe("vlob writes in a sequestered organization: sequester_inconsistency", () => {
  const setup = async () => {
    const t = buildTestApp();
    const org = await bootstrapOrganization(t);
    const alice = await authenticate(t, org);
    const realmId = parsed(RealmID.parse(randomUUID()));
    await storeRealm(t, org.organizationId, {
      id: realmId,
      createdOn: t.clock.now().addSeconds(-60),
      encryptionRevision: 1,
      maintenance: null,
      grants: [{ userId: alice.userId, role: "OWNER", certificate: Buffer.from("c"), grantedBy: alice.deviceId, grantedOn: t.clock.now().addSeconds(-60) }],
    });
    const vlobId = parsed(VlobID.parse(randomUUID()));
    expect(
      await t.app.createVlob(alice, { realmId, vlobId, encryptionRevision: 1, timestamp: t.clock.now(), blob: Buffer.from("v1"), sequesterBlob: null }),
    ).toEqual({ kind: "ok" });
    // A sequestered organization (authority, no enabled service), as `vlob.test.ts` sets it up.
    const data = t.persistence.store.organizations.get(org.organizationId)!;
    data.organization = {
      ...data.organization,
      sequesterAuthority: { certificate: Buffer.from("<authority>"), verifyKeyDer: Buffer.alloc(0) },
      sequesterServicesCertificates: [],
    };
    const service = parsed(SequesterServiceID.parse(randomUUID()));
    // The authority is fixed at bootstrap, so a session reads it at its handshake: log in again to see it.
    return { t, alice: await authenticate(t, org), realmId, vlobId, service };
  };

  it("vlob_update (use case): a blob for a service the organization does not have; nothing is written", async () => {
    const { t, alice, vlobId, service } = await setup();
    const update = (sequesterBlob: Map<SequesterServiceID, Buffer> | null) =>
      t.app.updateVlob(alice, { vlobId, version: 2, encryptionRevision: 1, timestamp: t.clock.now(), blob: Buffer.from("v2"), sequesterBlob });
    expect(await update(new Map([[service, Buffer.from("s")]]))).toEqual({
      kind: "sequester_inconsistency",
      sequesterAuthorityCertificate: Buffer.from("<authority>"),
      sequesterServicesCertificates: [],
    });
    expect(await t.app.listVlobVersions(alice, vlobId)).toMatchObject({ kind: "ok", versions: new Map([[1, expect.anything()]]) });
    expect(await update(new Map())).toEqual({ kind: "ok" });
  });

  it("vlob_create and vlob_update (handlers): the reply carries the authority and services certificates, and encodes", async () => {
    const { t, alice, realmId, vlobId, service } = await setup();
    const sequester_blob = new Map([[service, new Uint8Array([1])]]);
    const expected = { status: "sequester_inconsistency", sequester_authority_certificate: Buffer.from("<authority>"), sequester_services_certificates: [] };
    const created = await vlobHandlers.vlob_create(ctx(t, alice), {
      cmd: "vlob_create",
      realm_id: realmId,
      encryption_revision: 1,
      vlob_id: parsed(VlobID.parse(randomUUID())),
      timestamp: t.clock.now(),
      blob: new Uint8Array([1]),
      sequester_blob,
    });
    expect(created).toEqual(expected);
    expect(vlobCreateCodecs.rep.is(created)).toBe(true);
    expect(() => encodeTypedReply("authenticated", "vlob_create", created!)).not.toThrow();
    const updated = await vlobHandlers.vlob_update(ctx(t, alice), {
      cmd: "vlob_update",
      encryption_revision: 1,
      vlob_id: vlobId,
      timestamp: t.clock.now(),
      version: 2,
      blob: new Uint8Array([2]),
      sequester_blob,
    });
    expect(updated).toEqual(expected);
    expect(vlobUpdateCodecs.rep.is(updated)).toBe(true);
    expect(() => encodeTypedReply("authenticated", "vlob_update", updated!)).not.toThrow();
  });
});
