import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { realmHandlers } from "../../src/adapters/protocol/handlers/realm.js";
import { decodeReply, encodeTypedReply } from "../../src/adapters/protocol/registry.js";
import type { BackendEvent, BlockRepository, MessageRepository, Tx, VlobRepository } from "../../src/application/ports/index.js";
import type { BlockID, OrganizationID, RealmID, RealmRole, UserID, VlobID } from "../../src/domain/ids.js";
import { currentRoles } from "../../src/domain/realm/index.js";
import type { DateTime } from "../../src/domain/time.js";
import { bootstrapOrganization, buildTestApp, login, type Member } from "../support/app.js";
import { addUser, handlerContext, type OrganizationWorld } from "../support/world.js";
import { randomEd25519, realmRoleCertificate, revokedUserCertificate, signPayload, userCertificate } from "../support/certificates.js";

/**
 * Use-case tests of the realm commands on the memory adapters. The vlob and block repositories are the memory ones
 * wrapped by scripted doubles: a scenario may set the last vlob write of a user, the sizes, and the answers of
 * `finishReencryption`; whatever is not scripted goes to the memory adapter.
 */

/** What a test scripts on the vlob repository, and the calls it records. */
interface VlobScript {
  /** Last vlob write per `realm/user`. */
  readonly lastWrites: Map<string, DateTime>;
  readonly lastWriteQueries: { realmId: RealmID; userId: UserID }[];
  readonly sizes: Map<RealmID, number>;
  /** Answers of `finishReencryption`, consumed in order; the memory adapter answers once empty. */
  readonly finishAnswers: ("ok" | "not_finished")[];
  readonly calls: { op: "start" | "finish"; realmId: RealmID; encryptionRevision: number }[];
}

/** `real` with the scripted answers of `script` on top (prototype delegation keeps every other method). */
const scriptedVlobs = (real: VlobRepository, script: VlobScript): VlobRepository =>
  Object.assign(Object.create(real) as VlobRepository, {
    lastWriteBy: async (organizationId: OrganizationID, realmId: RealmID, userId: UserID, tx?: Tx) => {
      script.lastWriteQueries.push({ realmId, userId });
      return script.lastWrites.get(`${realmId}/${userId}`) ?? real.lastWriteBy(organizationId, realmId, userId, tx);
    },
    startReencryption: async (tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number) => {
      script.calls.push({ op: "start", realmId, encryptionRevision });
      return real.startReencryption(tx, organizationId, realmId, encryptionRevision);
    },
    finishReencryption: async (tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number) => {
      script.calls.push({ op: "finish", realmId, encryptionRevision });
      return script.finishAnswers.shift() ?? real.finishReencryption(tx, organizationId, realmId, encryptionRevision);
    },
    realmSize: async (organizationId: OrganizationID, realmId: RealmID) => script.sizes.get(realmId) ?? real.realmSize(organizationId, realmId),
  });

/** `real` with scripted realm sizes. */
const scriptedBlocks = (real: BlockRepository, sizes: Map<RealmID, number>): BlockRepository =>
  Object.assign(Object.create(real) as BlockRepository, {
    realmSize: async (organizationId: OrganizationID, realmId: RealmID) => sizes.get(realmId) ?? real.realmSize(organizationId, realmId),
  });

interface World extends OrganizationWorld {
  readonly vlobs: VlobScript;
  readonly blocks: { readonly sizes: Map<RealmID, number> };
  /** `bob@dev1`, STANDARD. */
  readonly bob: Member;
  /** `adam@dev1`, STANDARD. */
  readonly adam: Member;
}

const setup = async (options: { messages?: (real: MessageRepository) => MessageRepository } = {}): Promise<World> => {
  const vlobs: VlobScript = { lastWrites: new Map(), lastWriteQueries: [], sizes: new Map(), finishAnswers: [], calls: [] };
  const blocks = { sizes: new Map<RealmID, number>() };
  const t = buildTestApp({
    overrides: (deps) => ({
      vlobs: scriptedVlobs(deps.vlobs, vlobs),
      blocks: scriptedBlocks(deps.blocks, blocks.sizes),
      ...(options.messages && { messages: options.messages(deps.messages) }),
    }),
  });
  const org = await bootstrapOrganization(t, "CoolOrg");
  const alice = await login(t, org, org.deviceId, org.deviceKey);
  const bob = await addUser({ t, org }, alice, { userId: "bob" });
  const adam = await addUser({ t, org }, alice, { userId: "adam" });
  return { t, org, vlobs, blocks, alice, bob, adam };
};

const newRealmId = (): RealmID => randomBytes(16).toString("hex") as RealmID;

/** A `realm_role_certificate` signed by `author` (by default dated at the clock's now). */
const roleCertificate = (
  w: World,
  author: Member,
  realmId: RealmID,
  userId: UserID,
  role: RealmRole | null,
  timestamp: DateTime = w.t.clock.now(),
): Buffer => realmRoleCertificate(author.key.signingKey, { author: author.deviceId, timestamp, realmId, userId, role });

/** Creates a realm owned by `owner` (now), then moves the clock by one second. */
const createRealm = async (w: World, owner: Member = w.alice): Promise<RealmID> => {
  const realmId = newRealmId();
  const outcome = await w.t.app.createRealm(owner.session, roleCertificate(w, owner, realmId, owner.userId, "OWNER"));
  if (outcome.kind !== "ok") throw new Error(`createRealm: ${JSON.stringify(outcome)}`);
  w.t.clock.advance(1);
  return realmId;
};

/** `realm_update_roles` with a certificate dated now, without message; the clock then moves by one second. */
const share = async (w: World, author: Member, realmId: RealmID, user: Member | UserID, role: RealmRole | null, timestamp?: DateTime) => {
  const userId = typeof user === "string" ? user : user.userId;
  const outcome = await w.t.app.updateRealmRoles(author.session, { roleCertificate: roleCertificate(w, author, realmId, userId, role, timestamp), recipientMessage: null });
  w.t.clock.advance(1);
  return outcome;
};

/** {@link share}, throwing unless it succeeds. */
const grant = async (w: World, author: Member, realmId: RealmID, user: Member, role: RealmRole | null): Promise<void> => {
  const outcome = await share(w, author, realmId, user, role);
  if (outcome.kind !== "ok") throw new Error(`updateRealmRoles(${user.userId}, ${role}): ${JSON.stringify(outcome)}`);
};

const revoke = async (w: World, target: Member): Promise<void> => {
  const certificate = revokedUserCertificate(w.alice.key.signingKey, { author: w.alice.deviceId, timestamp: w.t.clock.now(), userId: target.userId });
  const outcome = await w.t.app.revokeUser(w.alice.session, certificate);
  if (outcome.kind !== "ok") throw new Error(`revokeUser: ${JSON.stringify(outcome)}`);
};

const rolesOf = async (w: World, realmId: RealmID): Promise<Record<string, RealmRole>> => {
  const realm = await w.t.deps.realms.get(w.org.organizationId, realmId);
  return Object.fromEntries(currentRoles(realm!));
};

/** Events delivered since `from` (an index in `w.t.published`). */
const eventsSince = (w: World, from: number): BackendEvent[] => w.t.published.slice(from);

const start = (w: World, author: Member, realmId: RealmID, encryptionRevision: number, recipients: readonly Member[] | ReadonlyMap<UserID, Buffer>, timestamp = w.t.clock.now()) =>
  w.t.app.startRealmReencryption(author.session, {
    realmId,
    encryptionRevision,
    timestamp,
    perParticipantMessage:
      recipients instanceof Map ? recipients : new Map((recipients as readonly Member[]).map((m): [UserID, Buffer] => [m.userId, Buffer.from(`key for ${m.userId}`)])),
  });

describe("realm_create", () => {
  it("creates the realm with its OWNER certificate as received and publishes realm.roles_updated after commit", async () => {
    const w = await setup();
    const realmId = newRealmId();
    const certificate = roleCertificate(w, w.alice, realmId, w.alice.userId, "OWNER");
    const before = w.t.published.length;
    expect(await w.t.app.createRealm(w.alice.session, certificate)).toEqual({ kind: "ok" });
    expect(eventsSince(w, before)).toEqual([
      { type: "realm.roles_updated", organizationId: w.org.organizationId, author: w.alice.deviceId, realmId, userId: w.alice.userId, role: "OWNER" },
    ]);
    expect(await w.t.app.getRealmRoleCertificates(w.alice.session, realmId)).toEqual({ kind: "ok", certificates: [certificate] });
    expect(await w.t.app.getRealmStatus(w.alice.session, realmId)).toEqual({
      kind: "ok",
      inMaintenance: false,
      maintenanceType: null,
      maintenanceStartedOn: null,
      maintenanceStartedBy: null,
      encryptionRevision: 1,
    });
    expect(await w.t.deps.realms.listForUser(w.org.organizationId, w.alice.userId)).toEqual([realmId]);
  });

  it("is allowed to an OUTSIDER", async () => {
    const w = await setup();
    const outsider = await addUser(w, w.alice, { userId: "olga", profile: "OUTSIDER" });
    const realmId = newRealmId();
    expect(await w.t.app.createRealm(outsider.session, roleCertificate(w, outsider, realmId, outsider.userId, "OWNER"))).toEqual({ kind: "ok" });
  });

  it("refuses a certificate not signed by the session's device, or naming another author (invalid_certification)", async () => {
    const w = await setup();
    const realmId = newRealmId();
    const bobsOwn = roleCertificate(w, w.bob, realmId, w.bob.userId, "OWNER");
    expect(await w.t.app.createRealm(w.alice.session, bobsOwn)).toMatchObject({ kind: "invalid_certification" });
    const forged = realmRoleCertificate(w.alice.key.signingKey, { author: "bob@dev1", timestamp: w.t.clock.now(), realmId, userId: "bob", role: "OWNER" });
    expect(await w.t.app.createRealm(w.alice.session, forged)).toMatchObject({ kind: "invalid_certification" });
    expect(await w.t.app.createRealm(w.alice.session, signPayload(w.alice.key.signingKey, Buffer.from("garbage")))).toMatchObject({ kind: "invalid_certification" });
    const userCert = userCertificate(w.alice.key.signingKey, {
      author: w.alice.deviceId,
      timestamp: w.t.clock.now(),
      userId: "zoe",
      humanHandle: null,
      publicKey: randomEd25519().verifyKey,
      profile: "STANDARD",
    });
    expect(await w.t.app.createRealm(w.alice.session, userCert)).toMatchObject({ kind: "invalid_certification" });
  });

  it("refuses another user's role or another role than OWNER (invalid_data)", async () => {
    const w = await setup();
    const realmId = newRealmId();
    expect(await w.t.app.createRealm(w.alice.session, roleCertificate(w, w.alice, realmId, w.bob.userId, "OWNER"))).toMatchObject({ kind: "invalid_data" });
    for (const role of ["MANAGER", "CONTRIBUTOR", "READER", null] as const)
      expect(await w.t.app.createRealm(w.alice.session, roleCertificate(w, w.alice, realmId, w.alice.userId, role))).toMatchObject({ kind: "invalid_data" });
    expect(await w.t.deps.realms.get(w.org.organizationId, realmId)).toBeNull();
  });

  it("checks the ballpark like Parsec: 320 s late or 300 s early is refused, one microsecond less is accepted", async () => {
    const w = await setup();
    const now = w.t.clock.now();
    const first = newRealmId();
    const certificate = roleCertificate(w, w.alice, first, w.alice.userId, "OWNER", now);
    w.t.clock.set(now.addSeconds(320));
    expect(await w.t.app.createRealm(w.alice.session, certificate)).toEqual({
      kind: "bad_timestamp",
      clientTimestamp: now,
      backendTimestamp: now.addSeconds(320),
      ballparkClientEarlyOffset: 300,
      ballparkClientLateOffset: 320,
    });
    w.t.clock.set(now.addSeconds(319.999999));
    expect(await w.t.app.createRealm(w.alice.session, certificate)).toEqual({ kind: "ok" });

    const second = roleCertificate(w, w.alice, newRealmId(), w.alice.userId, "OWNER", now);
    w.t.clock.set(now.addSeconds(-300));
    expect(await w.t.app.createRealm(w.alice.session, second)).toMatchObject({ kind: "bad_timestamp", backendTimestamp: now.addSeconds(-300) });
    w.t.clock.set(now.addSeconds(-299.999999));
    expect(await w.t.app.createRealm(w.alice.session, second)).toEqual({ kind: "ok" });
  });

  it("checks the signature, then the ballpark, then the content", async () => {
    const w = await setup();
    const old = w.t.clock.now().addSeconds(-1000);
    const badSignatureAndOld = roleCertificate(w, w.bob, newRealmId(), w.bob.userId, "OWNER", old);
    expect(await w.t.app.createRealm(w.alice.session, badSignatureAndOld)).toMatchObject({ kind: "invalid_certification" });
    expect(await w.t.app.createRealm(w.alice.session, roleCertificate(w, w.alice, newRealmId(), w.alice.userId, "READER", old))).toMatchObject({
      kind: "bad_timestamp",
    });
  });

  it("refuses an existing realm id (already_exists), even from another user, and publishes nothing", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    const before = w.t.published.length;
    expect(await w.t.app.createRealm(w.alice.session, roleCertificate(w, w.alice, realmId, w.alice.userId, "OWNER"))).toEqual({ kind: "already_exists" });
    expect(await w.t.app.createRealm(w.bob.session, roleCertificate(w, w.bob, realmId, w.bob.userId, "OWNER"))).toEqual({ kind: "already_exists" });
    expect(eventsSince(w, before)).toEqual([]);
    expect(await rolesOf(w, realmId)).toEqual({ alice: "OWNER" });
  });
});

describe("realm_status, realm_stats, realm_get_role_certificates", () => {
  it("answer not_found for an unknown realm", async () => {
    const w = await setup();
    const unknown = newRealmId();
    expect(await w.t.app.getRealmStatus(w.alice.session, unknown)).toMatchObject({ kind: "not_found" });
    expect(await w.t.app.getRealmStats(w.alice.session, unknown)).toMatchObject({ kind: "not_found" });
    expect(await w.t.app.getRealmRoleCertificates(w.alice.session, unknown)).toMatchObject({ kind: "not_found" });
  });

  it("answer not_found for a realm of another organization", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    const other = await bootstrapOrganization(w.t, "OtherOrg");
    const stranger = await login(w.t, other, other.deviceId, other.deviceKey);
    expect(await w.t.app.getRealmStatus(stranger.session, realmId)).toMatchObject({ kind: "not_found" });
    expect(await w.t.app.getRealmStats(stranger.session, realmId)).toMatchObject({ kind: "not_found" });
  });

  it("answer not_allowed to a user who never was or no longer is a member", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    for (const ask of [w.t.app.getRealmStatus, w.t.app.getRealmStats, w.t.app.getRealmRoleCertificates])
      expect(await ask(w.bob.session, realmId)).toEqual({ kind: "not_allowed" });
    await grant(w, w.alice, realmId, w.bob, "READER");
    expect(await w.t.app.getRealmStatus(w.bob.session, realmId)).toMatchObject({ kind: "ok", encryptionRevision: 1 });
    await grant(w, w.alice, realmId, w.bob, null);
    for (const ask of [w.t.app.getRealmStatus, w.t.app.getRealmStats, w.t.app.getRealmRoleCertificates])
      expect(await ask(w.bob.session, realmId)).toEqual({ kind: "not_allowed" });
  });

  it("realm_stats sums the realm's blocks and vlobs (repositories' sizes in bytes)", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    expect(await w.t.app.getRealmStats(w.alice.session, realmId)).toEqual({ kind: "ok", blocksSize: 0, vlobsSize: 0 });
    w.blocks.sizes.set(realmId, 4);
    w.vlobs.sizes.set(realmId, 12);
    expect(await w.t.app.getRealmStats(w.alice.session, realmId)).toEqual({ kind: "ok", blocksSize: 4, vlobsSize: 12 });
  });

  it("realm_get_role_certificates returns every certificate as received, removals included, oldest first", async () => {
    const w = await setup();
    const realmId = newRealmId();
    const created = roleCertificate(w, w.alice, realmId, w.alice.userId, "OWNER");
    await w.t.app.createRealm(w.alice.session, created);
    const t0 = w.t.clock.now();
    const toBob = roleCertificate(w, w.alice, realmId, w.bob.userId, "OWNER", t0.addSeconds(10));
    const toAdam = roleCertificate(w, w.bob, realmId, w.adam.userId, "MANAGER", t0.addSeconds(20));
    const adamEarlier = roleCertificate(w, w.alice, realmId, "zed" as UserID, "READER", t0.addSeconds(5));
    const aliceDown = roleCertificate(w, w.bob, realmId, w.alice.userId, "READER", t0.addSeconds(30));
    const aliceOut = roleCertificate(w, w.bob, realmId, w.alice.userId, null, t0.addSeconds(40));
    for (const [author, certificate] of [
      [w.alice, toBob],
      [w.bob, toAdam],
      [w.bob, aliceDown],
      [w.bob, aliceOut],
    ] as const)
      expect(await w.t.app.updateRealmRoles(author.session, { roleCertificate: certificate, recipientMessage: null })).toEqual({ kind: "ok" });
    expect(await w.t.app.updateRealmRoles(w.alice.session, { roleCertificate: adamEarlier, recipientMessage: null })).toMatchObject({ kind: "not_found" });
    expect(await w.t.app.getRealmRoleCertificates(w.bob.session, realmId)).toEqual({ kind: "ok", certificates: [created, toBob, toAdam, aliceDown, aliceOut] });
    expect(await w.t.app.getRealmRoleCertificates(w.alice.session, realmId)).toEqual({ kind: "not_allowed" });
  });

  it("realm_get_role_certificates orders by timestamp when a later certificate is older (per-user causality only)", async () => {
    const w = await setup();
    const realmId = newRealmId();
    const created = roleCertificate(w, w.alice, realmId, w.alice.userId, "OWNER");
    await w.t.app.createRealm(w.alice.session, created);
    const t0 = w.t.clock.now();
    const toBob = roleCertificate(w, w.alice, realmId, w.bob.userId, "READER", t0.addSeconds(20));
    const toAdam = roleCertificate(w, w.alice, realmId, w.adam.userId, "READER", t0.addSeconds(10));
    expect(await w.t.app.updateRealmRoles(w.alice.session, { roleCertificate: toBob, recipientMessage: null })).toEqual({ kind: "ok" });
    expect(await w.t.app.updateRealmRoles(w.alice.session, { roleCertificate: toAdam, recipientMessage: null })).toEqual({ kind: "ok" });
    expect(await w.t.app.getRealmRoleCertificates(w.alice.session, realmId)).toEqual({ kind: "ok", certificates: [created, toAdam, toBob] });
  });
});

describe("realm_update_roles: rights", () => {
  it("an OWNER grants, changes and removes every role; each change publishes realm.roles_updated", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    for (const role of ["OWNER", "MANAGER", "CONTRIBUTOR", "READER", null] as const) {
      const before = w.t.published.length;
      expect(await share(w, w.alice, realmId, w.bob, role)).toEqual({ kind: "ok" });
      expect(eventsSince(w, before)).toEqual([
        { type: "realm.roles_updated", organizationId: w.org.organizationId, author: w.alice.deviceId, realmId, userId: w.bob.userId, role },
      ]);
      expect(await rolesOf(w, realmId)).toEqual(role === null ? { alice: "OWNER" } : { alice: "OWNER", bob: role });
    }
  });

  it("a MANAGER grants and removes CONTRIBUTOR and READER, but neither grants nor changes OWNER or MANAGER", async () => {
    const w = await setup();
    const zack = await addUser(w, w.alice, { userId: "zack" });
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, zack, "OWNER");
    await grant(w, zack, realmId, w.alice, "MANAGER");
    for (const role of ["CONTRIBUTOR", "READER", null] as const) expect(await share(w, w.alice, realmId, w.bob, role)).toEqual({ kind: "ok" });
    for (const role of ["OWNER", "MANAGER"] as const) expect(await share(w, w.alice, realmId, w.bob, role)).toMatchObject({ kind: "not_allowed" });
    for (const role of ["OWNER", "MANAGER"] as const) {
      await grant(w, zack, realmId, w.bob, role);
      expect(await share(w, w.alice, realmId, w.bob, "CONTRIBUTOR")).toMatchObject({ kind: "not_allowed" });
      expect(await share(w, w.alice, realmId, w.bob, null)).toMatchObject({ kind: "not_allowed" });
    }
  });

  it.each(["CONTRIBUTOR", "READER", null] as const)("an author with role %s can neither grant nor remove", async (authorRole) => {
    const w = await setup();
    const zack = await addUser(w, w.alice, { userId: "zack" });
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, zack, "OWNER");
    await grant(w, zack, realmId, w.alice, authorRole);
    for (const role of ["OWNER", "MANAGER", "CONTRIBUTOR", "READER"] as const)
      expect(await share(w, w.alice, realmId, w.bob, role)).toMatchObject({ kind: "not_allowed" });
    await grant(w, zack, realmId, w.bob, "READER");
    expect(await share(w, w.alice, realmId, w.bob, null)).toMatchObject({ kind: "not_allowed" });
  });

  it("an OUTSIDER author is not_allowed before its certificate is even read", async () => {
    const w = await setup();
    const outsider = await addUser(w, w.alice, { userId: "olga", profile: "OUTSIDER" });
    const realmId = await createRealm(w, outsider);
    expect(await share(w, outsider, realmId, w.bob, "READER")).toMatchObject({ kind: "not_allowed" });
    expect(await w.t.app.updateRealmRoles(outsider.session, { roleCertificate: Buffer.from("garbage"), recipientMessage: null })).toMatchObject({
      kind: "not_allowed",
    });
  });

  it("an OUTSIDER recipient can be CONTRIBUTOR or READER, not MANAGER or OWNER (incompatible_profile)", async () => {
    const w = await setup();
    const outsider = await addUser(w, w.alice, { userId: "olga", profile: "OUTSIDER" });
    const realmId = await createRealm(w);
    for (const [role, kind] of [
      ["READER", "ok"],
      ["CONTRIBUTOR", "ok"],
      ["MANAGER", "incompatible_profile"],
      ["OWNER", "incompatible_profile"],
    ] as const)
      expect(await share(w, w.alice, realmId, outsider, role)).toMatchObject({ kind });
  });

  it("granting the current role, or removing the role of a non-member, is already_granted", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    expect(await share(w, w.alice, realmId, w.bob, null)).toEqual({ kind: "already_granted" });
    await grant(w, w.alice, realmId, w.bob, "MANAGER");
    expect(await share(w, w.alice, realmId, w.bob, "MANAGER")).toEqual({ kind: "already_granted" });
    await grant(w, w.alice, realmId, w.bob, null);
    expect(await share(w, w.alice, realmId, w.bob, null)).toEqual({ kind: "already_granted" });
    const certificates = await w.t.app.getRealmRoleCertificates(w.alice.session, realmId);
    expect(certificates.kind === "ok" && certificates.certificates.length).toBe(3);
  });
});

describe("realm_update_roles: refusals", () => {
  it("refuses a certificate not signed by the session's device (invalid_certification)", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    const byBob = roleCertificate(w, w.bob, realmId, w.adam.userId, "READER");
    expect(await w.t.app.updateRealmRoles(w.alice.session, { roleCertificate: byBob, recipientMessage: null })).toMatchObject({ kind: "invalid_certification" });
  });

  it("refuses a certificate out of the ballpark (bad_timestamp)", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    const now = w.t.clock.now();
    expect(await share(w, w.alice, realmId, w.bob, "READER", now.addSeconds(300))).toEqual({
      kind: "bad_timestamp",
      clientTimestamp: now.addSeconds(300),
      backendTimestamp: now,
      ballparkClientEarlyOffset: 300,
      ballparkClientLateOffset: 320,
    });
  });

  it("refuses changing one's own role (invalid_data)", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    expect(await share(w, w.alice, realmId, w.alice, "MANAGER")).toMatchObject({ kind: "invalid_data" });
  });

  it("answers not_found for an unknown realm or an unknown user, the user first", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    expect(await share(w, w.alice, newRealmId(), w.bob, "MANAGER")).toMatchObject({ kind: "not_found" });
    expect(await share(w, w.alice, realmId, "mallory" as UserID, "MANAGER")).toMatchObject({ kind: "not_found" });
    expect(await share(w, w.alice, newRealmId(), "mallory" as UserID, "MANAGER")).toMatchObject({ kind: "not_found", reason: "User doesn't exist" });
  });

  it("refuses a revoked recipient (user_revoked), even to remove its role, before its profile", async () => {
    const w = await setup();
    const outsider = await addUser(w, w.alice, { userId: "olga", profile: "OUTSIDER" });
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, w.bob, "MANAGER");
    await revoke(w, w.bob);
    await revoke(w, outsider);
    expect(await share(w, w.alice, realmId, w.bob, "CONTRIBUTOR")).toEqual({ kind: "user_revoked" });
    expect(await share(w, w.alice, realmId, w.bob, null)).toEqual({ kind: "user_revoked" });
    expect(await share(w, w.alice, realmId, outsider, "OWNER")).toEqual({ kind: "user_revoked" });
    expect(await share(w, w.alice, newRealmId(), w.bob, null)).toEqual({ kind: "user_revoked" });
  });

  it("refuses any change during a maintenance (in_maintenance), before the author's rights", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, w.adam, "READER");
    expect(await start(w, w.alice, realmId, 2, [w.alice, w.adam])).toEqual({ kind: "ok" });
    expect(await share(w, w.alice, realmId, w.bob, "MANAGER")).toEqual({ kind: "in_maintenance" });
    expect(await share(w, w.adam, realmId, w.bob, "MANAGER")).toEqual({ kind: "in_maintenance" });
    expect(await w.t.app.getRealmRoleCertificates(w.alice.session, realmId)).toMatchObject({ kind: "ok" });
  });

  it("changes nothing and publishes nothing when refused", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, w.bob, "READER");
    const before = w.t.published.length;
    const realm = await w.t.deps.realms.get(w.org.organizationId, realmId);
    expect(await share(w, w.bob, realmId, w.adam, "READER")).toMatchObject({ kind: "not_allowed" });
    expect(
      await w.t.app.updateRealmRoles(w.alice.session, { roleCertificate: roleCertificate(w, w.alice, realmId, w.bob.userId, "READER"), recipientMessage: Buffer.from("hi") }),
    ).toEqual({ kind: "already_granted" });
    expect(eventsSince(w, before)).toEqual([]);
    expect(await w.t.deps.realms.get(w.org.organizationId, realmId)).toBe(realm);
    expect((await w.t.app.getMessages(w.bob.session, 0)).messages).toEqual([]);
  });
});

describe("realm_update_roles: causality (require_greater_timestamp)", () => {
  it("a certificate must be newer than the recipient's last role certificate", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    const ref = w.t.clock.now();
    expect(await share(w, w.alice, realmId, w.bob, "MANAGER", ref)).toEqual({ kind: "ok" });
    for (const timestamp of [ref, ref.addSeconds(-1)])
      expect(await share(w, w.alice, realmId, w.bob, "CONTRIBUTOR", timestamp)).toEqual({ kind: "require_greater_timestamp", strictlyGreaterThan: ref });
    expect(await share(w, w.alice, realmId, w.bob, "CONTRIBUTOR", ref.addSeconds(0.000001))).toEqual({ kind: "ok" });
  });

  it("the comparison is per recipient: older than another user's certificate is fine", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    const ref = w.t.clock.now();
    expect(await share(w, w.alice, realmId, w.bob, "READER", ref.addSeconds(10))).toEqual({ kind: "ok" });
    expect(await share(w, w.alice, realmId, w.adam, "READER", ref.addSeconds(5))).toEqual({ kind: "ok" });
  });

  it("the creation certificate counts as the creator's last role certificate", async () => {
    const w = await setup();
    const realmId = newRealmId();
    const created = w.t.clock.now();
    await w.t.app.createRealm(w.alice.session, roleCertificate(w, w.alice, realmId, w.alice.userId, "OWNER", created));
    expect(await share(w, w.alice, realmId, w.bob, "OWNER", created.addSeconds(1))).toEqual({ kind: "ok" });
    expect(await share(w, w.bob, realmId, w.alice, "MANAGER", created)).toEqual({ kind: "require_greater_timestamp", strictlyGreaterThan: created });
    expect(await share(w, w.bob, realmId, w.alice, "MANAGER", created.addSeconds(0.5))).toEqual({ kind: "ok" });
  });

  it("removing the creator's management rights must follow the certificates it signed", async () => {
    const w = await setup();
    const realmId = newRealmId();
    const created = w.t.clock.now();
    await w.t.app.createRealm(w.alice.session, roleCertificate(w, w.alice, realmId, w.alice.userId, "OWNER", created));
    expect(await share(w, w.alice, realmId, w.bob, "OWNER", created.addSeconds(1))).toEqual({ kind: "ok" });
    expect(await share(w, w.bob, realmId, w.alice, "CONTRIBUTOR", created.addSeconds(0.5))).toEqual({
      kind: "require_greater_timestamp",
      strictlyGreaterThan: created.addSeconds(1),
    });
  });

  it("removing management rights must follow the last role certificate the recipient signed", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, w.bob, "MANAGER");
    const ref = w.t.clock.now().addSeconds(10);
    expect(await share(w, w.bob, realmId, w.adam, "CONTRIBUTOR", ref)).toEqual({ kind: "ok" });
    for (const role of ["CONTRIBUTOR", "READER", null] as const)
      for (const timestamp of [ref, ref.addSeconds(-1)])
        expect(await share(w, w.alice, realmId, w.bob, role, timestamp)).toEqual({ kind: "require_greater_timestamp", strictlyGreaterThan: ref });
    expect(await share(w, w.alice, realmId, w.bob, "OWNER", ref.addSeconds(-1))).toEqual({ kind: "ok" });
  });

  it("removing write rights must follow the recipient's last vlob write in the realm", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, w.bob, "CONTRIBUTOR");
    const ref = w.t.clock.now().addSeconds(10);
    w.vlobs.lastWrites.set(`${realmId}/${w.bob.userId}`, ref);
    for (const role of ["READER", null] as const)
      for (const timestamp of [ref, ref.addSeconds(-1)])
        expect(await share(w, w.alice, realmId, w.bob, role, timestamp)).toEqual({ kind: "require_greater_timestamp", strictlyGreaterThan: ref });
    expect(w.vlobs.lastWriteQueries.every((q) => q.realmId === realmId && q.userId === w.bob.userId)).toBe(true);
    const queries = w.vlobs.lastWriteQueries.length;
    expect(await share(w, w.alice, realmId, w.bob, "MANAGER", ref.addSeconds(-1))).toEqual({ kind: "ok" });
    expect(w.vlobs.lastWriteQueries).toHaveLength(queries);
    expect(await share(w, w.alice, realmId, w.bob, "READER", ref.addSeconds(0.000001))).toEqual({ kind: "ok" });
    expect(w.vlobs.lastWriteQueries).toHaveLength(queries + 1);
  });

  it("a write in another realm does not matter", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, w.bob, "CONTRIBUTOR");
    w.vlobs.lastWrites.set(`${newRealmId()}/${w.bob.userId}`, w.t.clock.now().addSeconds(100));
    expect(await share(w, w.alice, realmId, w.bob, "READER")).toEqual({ kind: "ok" });
  });
});

describe("realm_update_roles: recipient message", () => {
  it("posts the message to the recipient (sender: author, timestamp: the certificate's) and publishes message.received after realm.roles_updated", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    const timestamp = w.t.clock.now().addSeconds(-2);
    const before = w.t.published.length;
    expect(
      await w.t.app.updateRealmRoles(w.alice.session, {
        roleCertificate: roleCertificate(w, w.alice, realmId, w.bob.userId, "READER", timestamp),
        recipientMessage: Buffer.from("sharing notice"),
      }),
    ).toEqual({ kind: "ok" });
    expect((await w.t.app.getMessages(w.bob.session, 0)).messages).toEqual([
      { index: 1, sender: w.alice.deviceId, timestamp, body: Buffer.from("sharing notice") },
    ]);
    expect(eventsSince(w, before)).toEqual([
      { type: "realm.roles_updated", organizationId: w.org.organizationId, author: w.alice.deviceId, realmId, userId: w.bob.userId, role: "READER" },
      { type: "message.received", organizationId: w.org.organizationId, author: w.alice.deviceId, recipient: w.bob.userId, index: 1 },
    ]);
  });

  it("posts nothing without a message", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, w.bob, "READER");
    expect((await w.t.app.getMessages(w.bob.session, 0)).messages).toEqual([]);
  });

  it("rolls the role change back and delivers no event when the message cannot be posted", async () => {
    const w = await setup({
      messages: (real) => ({
        post: async () => {
          throw new Error("inbox unavailable");
        },
        list: (...args) => real.list(...args),
      }),
    });
    const realmId = await createRealm(w);
    const before = w.t.published.length;
    await expect(
      w.t.app.updateRealmRoles(w.alice.session, {
        roleCertificate: roleCertificate(w, w.alice, realmId, w.bob.userId, "READER"),
        recipientMessage: Buffer.from("x"),
      }),
    ).rejects.toThrow("inbox unavailable");
    expect(await rolesOf(w, realmId)).toEqual({ alice: "OWNER" });
    expect(eventsSince(w, before)).toEqual([]);
  });
});

describe("realm_start_reencryption_maintenance", () => {
  it("starts the maintenance at the next revision, then publishes realm.maintenance_started and one message.received per participant", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, w.bob, "READER");
    const timestamp = w.t.clock.now().addSeconds(-3);
    const before = w.t.published.length;
    expect(await start(w, w.alice, realmId, 2, [w.bob, w.alice], timestamp)).toEqual({ kind: "ok" });
    expect(await w.t.app.getRealmStatus(w.bob.session, realmId)).toEqual({
      kind: "ok",
      inMaintenance: true,
      maintenanceType: "REENCRYPTION",
      maintenanceStartedOn: timestamp,
      maintenanceStartedBy: w.alice.deviceId,
      encryptionRevision: 2,
    });
    expect(w.vlobs.calls).toEqual([{ op: "start", realmId, encryptionRevision: 2 }]);
    for (const member of [w.alice, w.bob])
      expect((await w.t.app.getMessages(member.session, 0)).messages).toEqual([
        { index: 1, sender: w.alice.deviceId, timestamp, body: Buffer.from(`key for ${member.userId}`) },
      ]);
    const organizationId = w.org.organizationId;
    expect(eventsSince(w, before)).toEqual([
      { type: "realm.maintenance_started", organizationId, author: w.alice.deviceId, realmId, encryptionRevision: 2 },
      { type: "message.received", organizationId, author: w.alice.deviceId, recipient: w.bob.userId, index: 1 },
      { type: "message.received", organizationId, author: w.alice.deviceId, recipient: w.alice.userId, index: 1 },
    ]);
  });

  it("checks the timestamp's ballpark first (bad_timestamp), even for an unknown realm", async () => {
    const w = await setup();
    const now = w.t.clock.now();
    const old = now.addSeconds(-320);
    expect(await start(w, w.alice, newRealmId(), 2, [w.alice], old)).toEqual({
      kind: "bad_timestamp",
      clientTimestamp: old,
      backendTimestamp: now,
      ballparkClientEarlyOffset: 300,
      ballparkClientLateOffset: 320,
    });
  });

  it("answers not_found for an unknown realm or one of another organization", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    expect(await start(w, w.alice, newRealmId(), 2, [w.alice])).toMatchObject({ kind: "not_found" });
    const other = await bootstrapOrganization(w.t, "OtherOrg");
    const stranger = await login(w.t, other, other.deviceId, other.deviceKey);
    expect(await start(w, stranger, realmId, 2, [w.alice])).toMatchObject({ kind: "not_found" });
  });

  it("is reserved to OWNERs (not_allowed)", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    expect(await start(w, w.bob, realmId, 2, [w.alice])).toEqual({ kind: "not_allowed" });
    for (const role of ["READER", "CONTRIBUTOR", "MANAGER"] as const) {
      await grant(w, w.alice, realmId, w.bob, role);
      expect(await start(w, w.bob, realmId, 2, [w.alice, w.bob])).toEqual({ kind: "not_allowed" });
    }
    await grant(w, w.alice, realmId, w.bob, null);
    expect(await start(w, w.bob, realmId, 2, [w.alice])).toEqual({ kind: "not_allowed" });
    await grant(w, w.alice, realmId, w.bob, "OWNER");
    expect(await start(w, w.bob, realmId, 2, [w.alice, w.bob])).toEqual({ kind: "ok" });
  });

  it("needs the current revision plus one (bad_encryption_revision)", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    for (const revision of [42, 1, 0, 3]) expect(await start(w, w.alice, realmId, revision, [w.alice])).toEqual({ kind: "bad_encryption_revision" });
    expect(w.vlobs.calls).toEqual([]);
  });

  it("needs one message per member not revoked, the author included (participant_mismatch)", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, w.bob, "READER");
    await grant(w, w.alice, realmId, w.bob, null);
    await grant(w, w.alice, realmId, w.adam, "READER");
    await revoke(w, w.adam);
    const message = (...users: UserID[]) => new Map(users.map((u): [UserID, Buffer] => [u, Buffer.from("k")]));
    for (const recipients of [
      message(),
      message(w.alice.userId, w.bob.userId),
      message(w.alice.userId, "zack" as UserID),
      message(w.alice.userId, w.adam.userId),
    ])
      expect(await start(w, w.alice, realmId, 2, recipients)).toMatchObject({ kind: "participant_mismatch" });
    expect(w.vlobs.calls).toEqual([]);
    expect(await start(w, w.alice, realmId, 2, message(w.alice.userId))).toEqual({ kind: "ok" });
  });

  it("refuses a second start whatever the revision (in_maintenance)", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    expect(await start(w, w.alice, realmId, 2, [w.alice])).toEqual({ kind: "ok" });
    for (const revision of [2, 3]) expect(await start(w, w.alice, realmId, revision, [w.alice])).toEqual({ kind: "in_maintenance" });
  });
});

describe("realm_finish_reencryption_maintenance", () => {
  it("answers maintenance_error while vlobs are not all re-encrypted, then finishes and publishes realm.maintenance_finished", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    expect(await start(w, w.alice, realmId, 2, [w.alice])).toEqual({ kind: "ok" });
    w.vlobs.finishAnswers.push("not_finished");
    const before = w.t.published.length;
    expect(await w.t.app.finishRealmReencryption(w.alice.session, { realmId, encryptionRevision: 2 })).toMatchObject({ kind: "maintenance_error" });
    expect(eventsSince(w, before)).toEqual([]);
    expect(await w.t.app.getRealmStatus(w.alice.session, realmId)).toMatchObject({ inMaintenance: true, encryptionRevision: 2 });

    expect(await w.t.app.finishRealmReencryption(w.alice.session, { realmId, encryptionRevision: 2 })).toEqual({ kind: "ok" });
    expect(eventsSince(w, before)).toEqual([
      { type: "realm.maintenance_finished", organizationId: w.org.organizationId, author: w.alice.deviceId, realmId, encryptionRevision: 2 },
    ]);
    expect(w.vlobs.calls).toEqual([
      { op: "start", realmId, encryptionRevision: 2 },
      { op: "finish", realmId, encryptionRevision: 2 },
      { op: "finish", realmId, encryptionRevision: 2 },
    ]);
    expect(await w.t.app.getRealmStatus(w.alice.session, realmId)).toEqual({
      kind: "ok",
      inMaintenance: false,
      maintenanceType: null,
      maintenanceStartedOn: null,
      maintenanceStartedBy: null,
      encryptionRevision: 2,
    });
    expect(await share(w, w.alice, realmId, w.bob, "READER")).toEqual({ kind: "ok" });
    expect(await start(w, w.alice, realmId, 3, [w.alice, w.bob])).toEqual({ kind: "ok" });
  });

  it("answers not_in_maintenance outside a maintenance, whatever the revision", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    for (const revision of [1, 2, 3])
      expect(await w.t.app.finishRealmReencryption(w.alice.session, { realmId, encryptionRevision: revision })).toMatchObject({ kind: "not_in_maintenance" });
  });

  it("needs the maintenance's revision (bad_encryption_revision)", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    await start(w, w.alice, realmId, 2, [w.alice]);
    for (const revision of [1, 3]) expect(await w.t.app.finishRealmReencryption(w.alice.session, { realmId, encryptionRevision: revision })).toEqual({ kind: "bad_encryption_revision" });
  });

  it("is reserved to OWNERs (not_allowed), checked before the maintenance state", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    expect(await w.t.app.finishRealmReencryption(w.bob.session, { realmId, encryptionRevision: 2 })).toEqual({ kind: "not_allowed" });
    await grant(w, w.alice, realmId, w.bob, "MANAGER");
    await start(w, w.alice, realmId, 2, [w.alice, w.bob]);
    expect(await w.t.app.finishRealmReencryption(w.bob.session, { realmId, encryptionRevision: 2 })).toEqual({ kind: "not_allowed" });
    expect(w.vlobs.calls.filter((c) => c.op === "finish")).toEqual([]);
  });

  it("answers not_found for an unknown realm", async () => {
    const w = await setup();
    expect(await w.t.app.finishRealmReencryption(w.alice.session, { realmId: newRealmId(), encryptionRevision: 2 })).toMatchObject({ kind: "not_found" });
  });
});

describe("realm handlers (outcome → reply)", () => {
  const ctxOf = (w: World, member: Member) => handlerContext(w.t, member.session);

  /** The reply survives encoding and decoding with the command's codec. */
  const roundTrips = (cmd: string, reply: unknown) => {
    const decoded = decodeReply("authenticated", cmd as "realm_create", encodeTypedReply("authenticated", cmd as "realm_create", reply as never));
    expect(decoded.kind).toBe("ok");
  };

  it("maps realm_create, realm_status, realm_stats and realm_get_role_certificates", async () => {
    const w = await setup();
    const ctx = ctxOf(w, w.alice);
    const realmId = newRealmId();
    const certificate = roleCertificate(w, w.alice, realmId, w.alice.userId, "OWNER");
    const replies: [string, unknown][] = [];
    const check = (cmd: string, reply: unknown, expected: unknown) => {
      expect(reply).toEqual(expected);
      replies.push([cmd, reply]);
    };
    check("realm_create", await realmHandlers.realm_create(ctx, { cmd: "realm_create", role_certificate: certificate }), { status: "ok" });
    check("realm_create", await realmHandlers.realm_create(ctx, { cmd: "realm_create", role_certificate: certificate }), { status: "already_exists" });
    check("realm_create", await realmHandlers.realm_create(ctxOf(w, w.bob), { cmd: "realm_create", role_certificate: certificate }), {
      status: "invalid_certification",
      reason: null,
    });
    check(
      "realm_create",
      await realmHandlers.realm_create(ctx, { cmd: "realm_create", role_certificate: roleCertificate(w, w.alice, newRealmId(), w.bob.userId, "OWNER") }),
      { status: "invalid_data", reason: null },
    );
    const old = w.t.clock.now().addSeconds(-400);
    check(
      "realm_create",
      await realmHandlers.realm_create(ctx, { cmd: "realm_create", role_certificate: roleCertificate(w, w.alice, newRealmId(), w.alice.userId, "OWNER", old) }),
      {
        status: "bad_timestamp",
        reason: null,
        ballpark_client_early_offset: 300,
        ballpark_client_late_offset: 320,
        backend_timestamp: w.t.clock.now(),
        client_timestamp: old,
      },
    );
    check("realm_status", await realmHandlers.realm_status(ctx, { cmd: "realm_status", realm_id: realmId }), {
      status: "ok",
      in_maintenance: false,
      maintenance_type: null,
      maintenance_started_on: null,
      maintenance_started_by: null,
      encryption_revision: 1,
    });
    check("realm_status", await realmHandlers.realm_status(ctxOf(w, w.bob), { cmd: "realm_status", realm_id: realmId }), { status: "not_allowed" });
    check("realm_status", await realmHandlers.realm_status(ctx, { cmd: "realm_status", realm_id: newRealmId() }), { status: "not_found", reason: null });
    w.blocks.sizes.set(realmId, 7);
    check("realm_stats", await realmHandlers.realm_stats(ctx, { cmd: "realm_stats", realm_id: realmId }), { status: "ok", blocks_size: 7, vlobs_size: 0 });
    check("realm_stats", await realmHandlers.realm_stats(ctxOf(w, w.bob), { cmd: "realm_stats", realm_id: realmId }), { status: "not_allowed" });
    check("realm_stats", await realmHandlers.realm_stats(ctx, { cmd: "realm_stats", realm_id: newRealmId() }), { status: "not_found", reason: null });
    const get = { cmd: "realm_get_role_certificates", realm_id: realmId } as const;
    check("realm_get_role_certificates", await realmHandlers.realm_get_role_certificates(ctx, get), { status: "ok", certificates: [certificate] });
    check("realm_get_role_certificates", await realmHandlers.realm_get_role_certificates(ctxOf(w, w.bob), get), { status: "not_allowed" });
    check("realm_get_role_certificates", await realmHandlers.realm_get_role_certificates(ctx, { ...get, realm_id: newRealmId() }), {
      status: "not_found",
      reason: null,
    });
    for (const [cmd, reply] of replies) roundTrips(cmd, reply);
  });

  it("maps realm_update_roles", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    const replies: unknown[] = [];
    const update = async (author: Member, certificate: Buffer, message: Buffer | null = null) => {
      const reply = await realmHandlers.realm_update_roles(ctxOf(w, author), { cmd: "realm_update_roles", role_certificate: certificate, recipient_message: message });
      replies.push(reply);
      w.t.clock.advance(1);
      return reply;
    };
    const granted = w.t.clock.now();
    expect(await update(w.alice, roleCertificate(w, w.alice, realmId, w.bob.userId, "CONTRIBUTOR"), Buffer.from("hello"))).toEqual({ status: "ok" });
    expect((await w.t.app.getMessages(w.bob.session, 0)).messages.map((m) => m.body)).toEqual([Buffer.from("hello")]);
    expect(await update(w.alice, roleCertificate(w, w.alice, realmId, w.bob.userId, "CONTRIBUTOR"))).toEqual({ status: "already_granted" });
    expect(await update(w.bob, roleCertificate(w, w.bob, realmId, w.adam.userId, "READER"))).toEqual({ status: "not_allowed", reason: null });
    expect(await update(w.alice, roleCertificate(w, w.bob, realmId, w.adam.userId, "READER"))).toEqual({ status: "invalid_certification", reason: null });
    expect(await update(w.alice, roleCertificate(w, w.alice, realmId, w.alice.userId, "READER"))).toEqual({ status: "invalid_data", reason: null });
    expect(await update(w.alice, roleCertificate(w, w.alice, newRealmId(), w.adam.userId, "READER"))).toEqual({ status: "not_found", reason: null });
    w.vlobs.lastWrites.set(`${realmId}/${w.bob.userId}`, granted.addSeconds(0.5));
    expect(await update(w.alice, roleCertificate(w, w.alice, realmId, w.bob.userId, "READER", granted))).toEqual({
      status: "require_greater_timestamp",
      strictly_greater_than: granted,
    });
    expect(await update(w.alice, roleCertificate(w, w.alice, realmId, w.bob.userId, "READER", granted.addSeconds(0.25)))).toEqual({
      status: "require_greater_timestamp",
      strictly_greater_than: granted.addSeconds(0.5),
    });
    const outsider = await addUser(w, w.alice, { userId: "olga", profile: "OUTSIDER" });
    expect(await update(w.alice, roleCertificate(w, w.alice, realmId, outsider.userId, "MANAGER"))).toEqual({ status: "incompatible_profile", reason: null });
    await revoke(w, w.adam);
    expect(await update(w.alice, roleCertificate(w, w.alice, realmId, w.adam.userId, "READER"))).toEqual({ status: "user_revoked" });
    expect(await update(w.alice, roleCertificate(w, w.alice, realmId, outsider.userId, "READER", w.t.clock.now().addSeconds(1000)))).toMatchObject({
      status: "bad_timestamp",
      reason: null,
    });
    await start(w, w.alice, realmId, 2, [w.alice, w.bob]);
    expect(await update(w.alice, roleCertificate(w, w.alice, realmId, outsider.userId, "READER"))).toEqual({ status: "in_maintenance" });
    for (const reply of replies) roundTrips("realm_update_roles", reply);
  });

  it("maps the re-encryption maintenance commands", async () => {
    const w = await setup();
    const ctx = ctxOf(w, w.alice);
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, w.bob, "READER");
    const startReq = (revision: number, recipients: readonly Member[], timestamp = w.t.clock.now()) =>
      ({
        cmd: "realm_start_reencryption_maintenance",
        realm_id: realmId,
        encryption_revision: revision,
        timestamp,
        per_participant_message: new Map(recipients.map((m): [UserID, Uint8Array] => [m.userId, new Uint8Array(Buffer.from(`key ${m.userId}`))])),
      }) as const;
    const finishReq = (revision: number) => ({ cmd: "realm_finish_reencryption_maintenance", realm_id: realmId, encryption_revision: revision }) as const;
    const starts: unknown[] = [];
    const finishes: unknown[] = [];
    const startReply = async (c: typeof ctx, req: ReturnType<typeof startReq>) => {
      const reply = await realmHandlers.realm_start_reencryption_maintenance(c, req);
      starts.push(reply);
      return reply;
    };
    const finishReply = async (c: typeof ctx, req: ReturnType<typeof finishReq>) => {
      const reply = await realmHandlers.realm_finish_reencryption_maintenance(c, req);
      finishes.push(reply);
      return reply;
    };

    expect(await finishReply(ctx, finishReq(2))).toEqual({ status: "not_in_maintenance", reason: null });
    expect(await startReply(ctxOf(w, w.bob), startReq(2, [w.alice, w.bob]))).toEqual({ status: "not_allowed" });
    expect(await startReply(ctx, { ...startReq(2, [w.alice, w.bob]), realm_id: newRealmId() })).toEqual({ status: "not_found", reason: null });
    expect(await startReply(ctx, startReq(3, [w.alice, w.bob]))).toEqual({ status: "bad_encryption_revision" });
    expect(await startReply(ctx, startReq(2, [w.alice]))).toEqual({ status: "participant_mismatch", reason: null });
    const old = w.t.clock.now().addSeconds(-500);
    expect(await startReply(ctx, startReq(2, [w.alice, w.bob], old))).toEqual({
      status: "bad_timestamp",
      reason: null,
      ballpark_client_early_offset: 300,
      ballpark_client_late_offset: 320,
      backend_timestamp: w.t.clock.now(),
      client_timestamp: old,
    });
    expect(await startReply(ctx, startReq(2, [w.alice, w.bob]))).toEqual({ status: "ok" });
    expect((await w.t.app.getMessages(w.bob.session, 0)).messages.map((m) => m.body)).toEqual([Buffer.from("key bob")]);
    expect(await startReply(ctx, startReq(3, [w.alice, w.bob]))).toEqual({ status: "in_maintenance" });

    expect(await finishReply(ctxOf(w, w.bob), finishReq(2))).toEqual({ status: "not_allowed" });
    expect(await finishReply(ctx, { ...finishReq(2), realm_id: newRealmId() })).toEqual({ status: "not_found", reason: null });
    expect(await finishReply(ctx, finishReq(1))).toEqual({ status: "bad_encryption_revision" });
    w.vlobs.finishAnswers.push("not_finished");
    expect(await finishReply(ctx, finishReq(2))).toEqual({ status: "maintenance_error", reason: null });
    expect(await finishReply(ctx, finishReq(2))).toEqual({ status: "ok" });
    for (const reply of starts) roundTrips("realm_start_reencryption_maintenance", reply);
    for (const reply of finishes) roundTrips("realm_finish_reencryption_maintenance", reply);
  });
});

describe("on the memory vlob and block adapters (nothing scripted)", () => {
  const vlobId = () => randomBytes(16).toString("hex") as VlobID;

  it("a downgrade to READER must follow the recipient's last vlob_create in the realm", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    await grant(w, w.alice, realmId, w.bob, "CONTRIBUTOR");
    const ref = w.t.clock.now().addSeconds(10);
    const written = await w.t.app.createVlob(w.bob.session, { realmId, encryptionRevision: 1, vlobId: vlobId(), timestamp: ref, blob: Buffer.from("v1"), sequesterBlob: null });
    expect(written).toEqual({ kind: "ok" });
    for (const timestamp of [ref, ref.addSeconds(-1)])
      expect(await share(w, w.alice, realmId, w.bob, "READER", timestamp)).toEqual({ kind: "require_greater_timestamp", strictlyGreaterThan: ref });
    expect(await share(w, w.alice, realmId, w.bob, "READER", ref.addSeconds(0.000001))).toEqual({ kind: "ok" });
  });

  it("realm_stats sums the bytes of the realm's blocks and vlob versions", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    const other = await createRealm(w);
    expect(await w.t.app.createBlock(w.alice.session, { blockId: randomBytes(16).toString("hex") as BlockID, realmId, block: Buffer.from("1234") })).toEqual({ kind: "ok" });
    expect(await w.t.app.getRealmStats(w.alice.session, realmId)).toEqual({ kind: "ok", blocksSize: 4, vlobsSize: 0 });
    const vlob = { realmId, encryptionRevision: 1, vlobId: vlobId(), timestamp: w.t.clock.now(), blob: Buffer.from("12345"), sequesterBlob: null };
    expect(await w.t.app.createVlob(w.alice.session, vlob)).toEqual({ kind: "ok" });
    expect(await w.t.app.getRealmStats(w.alice.session, realmId)).toEqual({ kind: "ok", blocksSize: 4, vlobsSize: 5 });
    expect(await w.t.app.getRealmStats(w.alice.session, other)).toEqual({ kind: "ok", blocksSize: 0, vlobsSize: 0 });
  });

  it("a re-encryption finishes only once every vlob version is re-encrypted", async () => {
    const w = await setup();
    const realmId = await createRealm(w);
    const id = vlobId();
    expect(
      await w.t.app.createVlob(w.alice.session, { realmId, encryptionRevision: 1, vlobId: id, timestamp: w.t.clock.now(), blob: Buffer.from("v1"), sequesterBlob: null }),
    ).toEqual({ kind: "ok" });
    expect(await start(w, w.alice, realmId, 2, [w.alice])).toEqual({ kind: "ok" });
    expect(await w.t.app.finishRealmReencryption(w.alice.session, { realmId, encryptionRevision: 2 })).toMatchObject({ kind: "maintenance_error" });
    const batch = await w.t.app.getReencryptionBatch(w.alice.session, { realmId, encryptionRevision: 2 }, 10);
    expect(batch).toMatchObject({ kind: "ok", batch: [{ vlobId: id, version: 1 }] });
    expect(
      await w.t.app.saveReencryptionBatch(w.alice.session, { realmId, encryptionRevision: 2 }, [{ vlobId: id, version: 1, blob: Buffer.from("v1 re-encrypted") }]),
    ).toEqual({ kind: "ok", total: 1, done: 1 });
    expect(await w.t.app.finishRealmReencryption(w.alice.session, { realmId, encryptionRevision: 2 })).toEqual({ kind: "ok" });
    expect(await w.t.app.getRealmStatus(w.alice.session, realmId)).toMatchObject({ inMaintenance: false, encryptionRevision: 2 });
  });
});
