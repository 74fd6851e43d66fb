import { describe, expect, it } from "vitest";
import type { DeviceID, RealmID, RealmRole, UserID } from "../../src/domain/ids.js";
import {
  accessOf,
  authorizeRoleChange,
  canManage,
  canRead,
  canShareRealms,
  canWrite,
  checkNotSelfGrant,
  checkRealmCreation,
  checkRealmMembership,
  checkReencryptionFinish,
  checkReencryptionStart,
  checkRoleChangeCausality,
  checkRoleRecipient,
  currentRoles,
  finishMaintenance,
  lastGrantOf,
  lastRoleChangeBy,
  loadRoleCertificate,
  newRealm,
  reencryptionParticipants,
  roleChangeNeedsLastVlobWrite,
  roleIn,
  roleOf,
  startReencryption,
  withGrant,
  type Realm,
  type RealmAccess,
  type RoleCertificateGrant,
} from "../../src/domain/realm/index.js";
import { DateTime } from "../../src/domain/time.js";
import { randomEd25519, realmRoleCertificate } from "../support/certificates.js";

const T0 = DateTime.fromEpochMicroseconds(1_700_000_000_000_000);
const at = (seconds: number): DateTime => T0.addSeconds(seconds);
const uid = (raw: string) => raw as UserID;
const did = (raw: string) => raw as DeviceID;
const REALM = "a0000000000000000000000000000001" as RealmID;
const ROLES: readonly (RealmRole | null)[] = ["OWNER", "MANAGER", "CONTRIBUTOR", "READER", null];

const grant = (author: string, userId: string, role: RealmRole | null, seconds: number): RoleCertificateGrant => ({
  realmId: REALM,
  userId: uid(userId),
  role,
  certificate: Buffer.from(`${author}->${userId}:${role}@${seconds}`),
  grantedBy: did(`${author}@dev1`),
  grantedOn: at(seconds),
});

/** A realm created by alice at T0, then the given grants in order. */
const realmWith = (...grants: RoleCertificateGrant[]): Realm => grants.reduce(withGrant, newRealm(REALM, grant("alice", "alice", "OWNER", 0)));

describe("realm model", () => {
  it("a new realm has its creator as OWNER, encryption revision 1 and no maintenance", () => {
    const realm = realmWith();
    expect(realm).toMatchObject({ id: REALM, createdOn: T0, encryptionRevision: 1, maintenance: null });
    expect(currentRoles(realm)).toEqual(new Map([[uid("alice"), "OWNER"]]));
  });

  it("current roles follow the last grant of each user; a removed role leaves the user out", () => {
    const realm = realmWith(grant("alice", "bob", "MANAGER", 1), grant("alice", "carol", "READER", 2), grant("alice", "bob", null, 3));
    expect(currentRoles(realm)).toEqual(new Map([[uid("alice"), "OWNER"], [uid("carol"), "READER"]]));
    expect(roleOf(realm, uid("bob"))).toBeNull();
    expect(lastGrantOf(realm, uid("bob"))?.grantedOn).toEqual(at(3));
  });

  it("the last role change by a user is the latest certificate signed by any of its devices", () => {
    const realm = realmWith(grant("alice", "bob", "OWNER", 1), grant("bob", "carol", "READER", 5), grant("bob", "dave", "READER", 4));
    expect(lastRoleChangeBy(realm, uid("bob"))).toEqual(at(5));
    expect(lastRoleChangeBy(realm, uid("carol"))).toBeNull();
  });

  it.each([
    ["OWNER", true, true, true],
    ["MANAGER", true, true, true],
    ["CONTRIBUTOR", true, true, false],
    ["READER", true, false, false],
    [null, false, false, false],
  ] as const)("rights of %s: read %s, write %s, manage %s", (role, read, write, manage) => {
    expect([canRead(role), canWrite(role), canManage(role)]).toEqual([read, write, manage]);
  });

  it("only members pass the membership check", () => {
    const realm = realmWith(grant("alice", "bob", "READER", 1), grant("alice", "bob", null, 2));
    expect(checkRealmMembership(accessOf(realm, uid("alice")))).toEqual({ kind: "ok" });
    expect(checkRealmMembership(accessOf(realm, uid("bob")))).toEqual({ kind: "not_allowed" });
    expect(checkRealmMembership(accessOf(realm, uid("zack")))).toEqual({ kind: "not_allowed" });
  });
});

describe("realm access view", () => {
  it("accessOf: the realm's id, revision and maintenance, and the user's last grant (role and date only)", () => {
    const realm = startReencryption(realmWith(grant("alice", "bob", "MANAGER", 1), grant("alice", "carol", "READER", 2), grant("alice", "bob", "CONTRIBUTOR", 3)), {
      startedBy: did("alice@dev1"),
      startedOn: at(5),
      encryptionRevision: 2,
    });
    expect(accessOf(realm, uid("bob"))).toEqual({
      realmId: REALM,
      encryptionRevision: 2,
      maintenance: { type: "REENCRYPTION", startedBy: "alice@dev1", startedOn: at(5) },
      lastGrant: { role: "CONTRIBUTOR", grantedOn: at(3) },
    });
    expect(accessOf(realm, uid("alice")).lastGrant).toEqual({ role: "OWNER", grantedOn: T0 });
    expect(accessOf(realmWith(), uid("alice"))).toEqual({ realmId: REALM, encryptionRevision: 1, maintenance: null, lastGrant: { role: "OWNER", grantedOn: T0 } });
  });

  it("accessOf: a removed role is kept as a null role with its date; a stranger has no last grant", () => {
    const realm = realmWith(grant("alice", "bob", "READER", 1), grant("alice", "bob", null, 2));
    expect(accessOf(realm, uid("bob")).lastGrant).toEqual({ role: null, grantedOn: at(2) });
    expect(accessOf(realm, uid("zack")).lastGrant).toBeNull();
  });

  it("roleIn agrees with roleOf for every user, and reads the view alone", () => {
    const realm = realmWith(grant("alice", "bob", "MANAGER", 1), grant("alice", "carol", "READER", 2), grant("alice", "bob", null, 3), grant("alice", "dave", "OWNER", 4));
    for (const user of ["alice", "bob", "carol", "dave", "zack"].map(uid)) expect(roleIn(accessOf(realm, user))).toBe(roleOf(realm, user));
    const view = (lastGrant: RealmAccess["lastGrant"]): RealmAccess => ({ realmId: REALM, encryptionRevision: 1, maintenance: null, lastGrant });
    expect(roleIn(view(null))).toBeNull();
    expect(roleIn(view({ role: null, grantedOn: T0 }))).toBeNull();
    for (const role of ["OWNER", "MANAGER", "CONTRIBUTOR", "READER"] as const) expect(roleIn(view({ role, grantedOn: T0 }))).toBe(role);
  });
});

describe("role certificates", () => {
  const key = randomEd25519();
  const certificate = (fields: Partial<{ author: string; timestamp: DateTime; userId: string; role: RealmRole | null }> = {}) =>
    realmRoleCertificate(key.signingKey, { author: "alice@dev1", timestamp: T0, realmId: REALM, userId: "alice", role: "OWNER", ...fields });

  it("loads a certificate signed by the expected device, keeping it as received", () => {
    const raw = certificate();
    expect(loadRoleCertificate({ certificate: raw, author: did("alice@dev1"), authorVerifyKey: key.verifyKey, now: T0 })).toEqual({
      kind: "ok",
      grant: { realmId: REALM, userId: "alice", role: "OWNER", certificate: raw, grantedBy: "alice@dev1", grantedOn: T0 },
    });
  });

  it("refuses a bad signature or another author as invalid_certification", () => {
    const other = randomEd25519();
    expect(loadRoleCertificate({ certificate: certificate(), author: did("alice@dev1"), authorVerifyKey: other.verifyKey, now: T0 }).kind).toBe(
      "invalid_certification",
    );
    expect(loadRoleCertificate({ certificate: certificate({ author: "alice@dev2" }), author: did("alice@dev1"), authorVerifyKey: key.verifyKey, now: T0 }).kind).toBe(
      "invalid_certification",
    );
  });

  it("checks the ballpark after the signature, bounds excluded (early 300 s, late 320 s)", () => {
    const load = (now: DateTime) => loadRoleCertificate({ certificate: certificate(), author: did("alice@dev1"), authorVerifyKey: key.verifyKey, now });
    expect(load(T0.addSeconds(320))).toEqual({
      kind: "bad_timestamp",
      clientTimestamp: T0,
      backendTimestamp: T0.addSeconds(320),
      ballparkClientEarlyOffset: 300,
      ballparkClientLateOffset: 320,
    });
    expect(load(T0.addSeconds(319.999999)).kind).toBe("ok");
    expect(load(T0.addSeconds(-300)).kind).toBe("bad_timestamp");
    expect(load(T0.addSeconds(-299.999999)).kind).toBe("ok");
  });

  it("realm creation needs the author's own OWNER role", () => {
    expect(checkRealmCreation(grant("alice", "alice", "OWNER", 0))).toEqual({ kind: "ok" });
    expect(checkRealmCreation(grant("alice", "bob", "OWNER", 0)).kind).toBe("invalid_data");
    expect(checkRealmCreation(grant("alice", "alice", "MANAGER", 0)).kind).toBe("invalid_data");
    expect(checkRealmCreation(grant("alice", "alice", null, 0)).kind).toBe("invalid_data");
  });

  it("a role update may not concern its author's own user, whatever the device", () => {
    expect(checkNotSelfGrant(grant("alice", "alice", "READER", 1)).kind).toBe("invalid_data");
    expect(checkNotSelfGrant(grant("alice", "bob", "READER", 1))).toEqual({ kind: "ok" });
  });

  it("an OUTSIDER cannot share", () => {
    expect([canShareRealms("ADMIN"), canShareRealms("STANDARD"), canShareRealms("OUTSIDER")]).toEqual([true, true, false]);
  });
});

describe("role recipient", () => {
  const user = (profile: "ADMIN" | "STANDARD" | "OUTSIDER", revokedOn: DateTime | null = null) => ({ profile, revokedOn });

  it("checks existence, then any revocation, then the OUTSIDER limit", () => {
    expect(checkRoleRecipient(null, "READER").kind).toBe("not_found");
    expect(checkRoleRecipient(user("OUTSIDER", at(1000)), "OWNER")).toEqual({ kind: "user_revoked" });
    expect(checkRoleRecipient(user("STANDARD", at(1000)), null)).toEqual({ kind: "user_revoked" });
    expect(checkRoleRecipient(user("OUTSIDER"), "OWNER").kind).toBe("incompatible_profile");
    expect(checkRoleRecipient(user("OUTSIDER"), "MANAGER").kind).toBe("incompatible_profile");
    for (const role of ["CONTRIBUTOR", "READER", null] as const) expect(checkRoleRecipient(user("OUTSIDER"), role)).toEqual({ kind: "ok" });
  });
});

describe("authorizeRoleChange", () => {
  /** Zack owns the realm; the author (bob) and the recipient (carol) hold the given roles. */
  const realmFor = (authorRole: RealmRole | null, recipientRole: RealmRole | null): Realm => {
    const grants = [grant("alice", "zack", "OWNER", 1)];
    if (authorRole) grants.push(grant("alice", "bob", authorRole, 2));
    if (recipientRole) grants.push(grant("alice", "carol", recipientRole, 3));
    grants.push(grant("zack", "alice", null, 4));
    return realmWith(...grants);
  };

  const expected = (authorRole: RealmRole | null, current: RealmRole | null, next: RealmRole | null): string => {
    const ownerNeeded = canManage(current) || canManage(next);
    const allowed = ownerNeeded ? authorRole === "OWNER" : authorRole === "OWNER" || authorRole === "MANAGER";
    if (!allowed) return "not_allowed";
    return current === next ? "already_granted" : "ok";
  };

  for (const authorRole of ROLES)
    for (const current of ROLES)
      for (const next of ROLES)
        it(`author ${authorRole}, recipient ${current} → ${next}: ${expected(authorRole, current, next)}`, () => {
          expect(authorizeRoleChange(realmFor(authorRole, current), grant("bob", "carol", next, 10)).kind).toBe(expected(authorRole, current, next));
        });

  it("refuses any change during a maintenance, before the rights", () => {
    const realm = startReencryption(realmFor("READER", null), { startedBy: did("zack@dev1"), startedOn: at(5), encryptionRevision: 2 });
    expect(authorizeRoleChange(realm, grant("bob", "carol", "READER", 10))).toEqual({ kind: "in_maintenance" });
  });
});

describe("checkRoleChangeCausality", () => {
  it("orders the change after the recipient's last role certificate", () => {
    const realm = realmWith(grant("alice", "bob", "MANAGER", 10));
    for (const seconds of [10, 9])
      expect(checkRoleChangeCausality(realm, grant("alice", "bob", "OWNER", seconds), null)).toEqual({
        kind: "require_greater_timestamp",
        strictlyGreaterThan: at(10),
      });
    expect(checkRoleChangeCausality(realm, grant("alice", "bob", "OWNER", 10.000001), null)).toEqual({ kind: "ok" });
  });

  it("orders a loss of write rights after the recipient's last vlob write", () => {
    const realm = realmWith(grant("alice", "bob", "CONTRIBUTOR", 10));
    expect(checkRoleChangeCausality(realm, grant("alice", "bob", "READER", 20), at(20))).toEqual({
      kind: "require_greater_timestamp",
      strictlyGreaterThan: at(20),
    });
    expect(checkRoleChangeCausality(realm, grant("alice", "bob", null, 19), at(20))).toEqual({
      kind: "require_greater_timestamp",
      strictlyGreaterThan: at(20),
    });
    expect(checkRoleChangeCausality(realm, grant("alice", "bob", "READER", 21), at(20))).toEqual({ kind: "ok" });
    expect(checkRoleChangeCausality(realm, grant("alice", "bob", "MANAGER", 15), at(20))).toEqual({ kind: "ok" });
  });

  it("needs the last vlob write only for roles that cannot write", () => {
    expect(ROLES.map(roleChangeNeedsLastVlobWrite)).toEqual([false, false, false, true, true]);
  });

  it("orders a loss of management rights after the last role certificate the recipient signed", () => {
    const realm = realmWith(grant("alice", "bob", "MANAGER", 10), grant("bob", "carol", "READER", 20));
    for (const role of ["CONTRIBUTOR", "READER", null] as const)
      expect(checkRoleChangeCausality(realm, grant("alice", "bob", role, 20), null)).toEqual({
        kind: "require_greater_timestamp",
        strictlyGreaterThan: at(20),
      });
    expect(checkRoleChangeCausality(realm, grant("alice", "bob", "OWNER", 15), null)).toEqual({ kind: "ok" });
  });

  it("reports the first failing rule: last role certificate, then last vlob write, then last role change signed", () => {
    const realm = realmWith(grant("alice", "bob", "OWNER", 10), grant("bob", "carol", "READER", 30));
    expect(checkRoleChangeCausality(realm, grant("alice", "bob", "READER", 5), at(20))).toMatchObject({ strictlyGreaterThan: at(10) });
    expect(checkRoleChangeCausality(realm, grant("alice", "bob", "READER", 15), at(20))).toMatchObject({ strictlyGreaterThan: at(20) });
    expect(checkRoleChangeCausality(realm, grant("alice", "bob", "READER", 25), at(20))).toMatchObject({ strictlyGreaterThan: at(30) });
  });
});

describe("re-encryption maintenance", () => {
  const realm = realmWith(grant("alice", "bob", "READER", 1), grant("alice", "carol", "OWNER", 2), grant("alice", "dave", "CONTRIBUTOR", 3));
  const everyone = new Set([uid("alice"), uid("bob"), uid("carol"), uid("dave")]);

  it("participants are the members not revoked, the author included", () => {
    expect(reencryptionParticipants(realm, (u) => u === "dave")).toEqual(new Set(["alice", "bob", "carol"]));
    expect(reencryptionParticipants(realmWith(grant("alice", "bob", "READER", 1), grant("alice", "bob", null, 2)), () => false)).toEqual(new Set(["alice"]));
  });

  it("start checks OWNER, then maintenance, then revision, then participants", () => {
    expect(checkReencryptionStart(realm, uid("bob"), 3, [], everyone)).toEqual({ kind: "not_allowed" });
    expect(checkReencryptionStart(realm, uid("zack"), 2, everyone, everyone)).toEqual({ kind: "not_allowed" });
    const inMaintenance = startReencryption(realm, { startedBy: did("alice@dev1"), startedOn: at(5), encryptionRevision: 2 });
    expect(checkReencryptionStart(inMaintenance, uid("carol"), 42, [], everyone)).toEqual({ kind: "in_maintenance" });
    expect(checkReencryptionStart(realm, uid("carol"), 1, [], everyone)).toEqual({ kind: "bad_encryption_revision" });
    expect(checkReencryptionStart(realm, uid("carol"), 3, [], everyone)).toEqual({ kind: "bad_encryption_revision" });
    expect(checkReencryptionStart(realm, uid("carol"), 2, ["alice", "bob", "carol"].map(uid), everyone).kind).toBe("participant_mismatch");
    expect(checkReencryptionStart(realm, uid("carol"), 2, [...everyone, uid("zack")], everyone).kind).toBe("participant_mismatch");
    expect(checkReencryptionStart(realm, uid("carol"), 2, [...everyone].reverse(), everyone)).toEqual({ kind: "ok" });
  });

  it("start bumps the revision and records who started it and when; finish keeps the revision", () => {
    const started = startReencryption(realm, { startedBy: did("carol@dev1"), startedOn: at(7), encryptionRevision: 2 });
    expect(started).toMatchObject({ encryptionRevision: 2, maintenance: { type: "REENCRYPTION", startedBy: "carol@dev1", startedOn: at(7) } });
    expect(started.grants).toBe(realm.grants);
    expect(finishMaintenance(started)).toMatchObject({ encryptionRevision: 2, maintenance: null });
  });

  it("finish checks OWNER, then maintenance, then revision", () => {
    const started = startReencryption(realm, { startedBy: did("carol@dev1"), startedOn: at(7), encryptionRevision: 2 });
    expect(checkReencryptionFinish(started, uid("dave"), 2)).toEqual({ kind: "not_allowed" });
    expect(checkReencryptionFinish(realm, uid("alice"), 2).kind).toBe("not_in_maintenance");
    expect(checkReencryptionFinish(started, uid("alice"), 1)).toEqual({ kind: "bad_encryption_revision" });
    expect(checkReencryptionFinish(started, uid("alice"), 3)).toEqual({ kind: "bad_encryption_revision" });
    expect(checkReencryptionFinish(started, uid("alice"), 2)).toEqual({ kind: "ok" });
  });
});
