import { describe, expect, it } from "vitest";
import { DeviceID, RealmID, SequesterServiceID, UserID, type RealmRole } from "../../src/domain/ids.js";
import { accessOf, type MaintenanceType, type Realm, type RealmAccess } from "../../src/domain/realm/index.js";
import type { Parsed } from "../../src/domain/result.js";
import { DateTime } from "../../src/domain/time.js";
import {
  checkNewVersion,
  checkRealmReadAccess,
  checkSequesterBlob,
  checkVlobMaintenanceAccess,
  checkVlobReadAccess,
  checkVlobWriteAccess,
  selectVersion,
  versionSelector,
  type VlobAtom,
  type VlobHead,
} from "../../src/domain/vlob/index.js";

const valueOf = <T>(parsed: Parsed<T>): T => {
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};
const T0 = DateTime.parseRfc3339("2024-01-01T00:00:00Z")!;
const at = (seconds: number) => T0.addSeconds(seconds);
const user = (name: string) => valueOf(UserID.parse(name));
const ALICE = valueOf(DeviceID.parse("alice@dev1"));

const realmWith = (grants: [string, RealmRole | null, number][], maintenance: MaintenanceType | null = null, encryptionRevision = 1): Realm => ({
  id: valueOf(RealmID.parse("0000000000000000000000000000000a")),
  createdOn: T0,
  encryptionRevision,
  maintenance: maintenance && { type: maintenance, startedBy: ALICE, startedOn: T0 },
  grants: grants.map(([name, role, on]) => ({ userId: user(name), role, certificate: Buffer.alloc(0), grantedBy: ALICE, grantedOn: at(on) })),
});

const ROLES: [string, RealmRole, number][] = [
  ["owner", "OWNER", 0],
  ["manager", "MANAGER", 0],
  ["contributor", "CONTRIBUTOR", 0],
  ["reader", "READER", 0],
];

describe("checkVlobWriteAccess", () => {
  const realm = realmWith([...ROLES, ["former", "OWNER", 0], ["former", null, 1]]);

  it("OWNER, MANAGER, CONTRIBUTOR write; READER, former members and strangers do not", () => {
    for (const name of ["owner", "manager", "contributor"]) expect(checkVlobWriteAccess(accessOf(realm, user(name)), 1, at(10))).toEqual({ kind: "ok" });
    for (const name of ["reader", "former", "stranger"]) expect(checkVlobWriteAccess(accessOf(realm, user(name)), 1, at(10))).toEqual({ kind: "not_allowed" });
  });

  it("requires a timestamp strictly after the writer's last role change", () => {
    const r = realmWith([["owner", "OWNER", 0], ["owner", "MANAGER", 5]]);
    expect(checkVlobWriteAccess(accessOf(r, user("owner")), 1, at(5))).toEqual({ kind: "require_greater_timestamp", strictlyGreaterThan: at(5) });
    expect(checkVlobWriteAccess(accessOf(r, user("owner")), 1, at(4))).toEqual({ kind: "require_greater_timestamp", strictlyGreaterThan: at(5) });
    expect(checkVlobWriteAccess(accessOf(r, user("owner")), 1, at(5.000001))).toEqual({ kind: "ok" });
  });

  it("checks in Parsec's order: role, causality, maintenance, revision", () => {
    const busy = realmWith([["owner", "OWNER", 10]], "REENCRYPTION", 2);
    expect(checkVlobWriteAccess(accessOf(busy, user("stranger")), 7, at(0))).toEqual({ kind: "not_allowed" });
    expect(checkVlobWriteAccess(accessOf(busy, user("owner")), 7, at(0))).toMatchObject({ kind: "require_greater_timestamp" });
    expect(checkVlobWriteAccess(accessOf(busy, user("owner")), 7, at(20))).toEqual({ kind: "in_maintenance" });
    expect(checkVlobWriteAccess(accessOf(realmWith([["owner", "OWNER", 0]]), user("owner")), 7, at(20))).toEqual({ kind: "bad_encryption_revision" });
  });
});

describe("access rules on a bare RealmAccess view", () => {
  const view = (lastGrant: RealmAccess["lastGrant"], maintenance: MaintenanceType | null = null, encryptionRevision = 1): RealmAccess => ({
    realmId: valueOf(RealmID.parse("0000000000000000000000000000000a")),
    encryptionRevision,
    maintenance: maintenance && { type: maintenance, startedBy: ALICE, startedOn: T0 },
    lastGrant,
  });

  it("read the last grant and the realm state of the view alone", () => {
    expect(checkVlobWriteAccess(view({ role: "CONTRIBUTOR", grantedOn: at(1) }), 1, at(2))).toEqual({ kind: "ok" });
    expect(checkVlobWriteAccess(view({ role: "CONTRIBUTOR", grantedOn: at(2) }), 1, at(2))).toEqual({ kind: "require_greater_timestamp", strictlyGreaterThan: at(2) });
    expect(checkVlobWriteAccess(view({ role: null, grantedOn: at(1) }), 1, at(2))).toEqual({ kind: "not_allowed" });
    expect(checkVlobWriteAccess(view(null), 1, at(2))).toEqual({ kind: "not_allowed" });
    expect(checkVlobReadAccess(view({ role: "READER", grantedOn: at(1) }, "REENCRYPTION", 4), 3)).toEqual({ kind: "ok" });
    expect(checkRealmReadAccess(view({ role: null, grantedOn: at(1) }))).toEqual({ kind: "not_allowed" });
    expect(checkVlobMaintenanceAccess(view({ role: "OWNER", grantedOn: at(1) }, "REENCRYPTION", 4), 4)).toEqual({ kind: "ok" });
  });
});

describe("checkVlobReadAccess / checkRealmReadAccess", () => {
  it("any role reads at the realm's revision", () => {
    const realm = realmWith(ROLES);
    for (const [name] of ROLES) expect(checkVlobReadAccess(accessOf(realm, user(name)), 1)).toEqual({ kind: "ok" });
    expect(checkVlobReadAccess(accessOf(realm, user("stranger")), 1)).toEqual({ kind: "not_allowed" });
    expect(checkVlobReadAccess(accessOf(realm, user("reader")), 2)).toEqual({ kind: "bad_encryption_revision" });
    expect(checkRealmReadAccess(accessOf(realm, user("reader")))).toEqual({ kind: "ok" });
    expect(checkRealmReadAccess(accessOf(realm, user("stranger")))).toEqual({ kind: "not_allowed" });
  });

  it("during a re-encryption to revision 3: 2 reads, 3 is in_maintenance, others bad_encryption_revision", () => {
    const realm = realmWith(ROLES, "REENCRYPTION", 3);
    expect(checkVlobReadAccess(accessOf(realm, user("reader")), 2)).toEqual({ kind: "ok" });
    expect(checkVlobReadAccess(accessOf(realm, user("reader")), 3)).toEqual({ kind: "in_maintenance" });
    for (const revision of [0, 1, 4]) expect(checkVlobReadAccess(accessOf(realm, user("reader")), revision)).toEqual({ kind: "bad_encryption_revision" });
    expect(checkVlobReadAccess(accessOf(realm, user("stranger")), 2)).toEqual({ kind: "not_allowed" });
    expect(checkRealmReadAccess(accessOf(realm, user("reader")))).toEqual({ kind: "ok" });
  });

  it("another maintenance forbids every read", () => {
    const realm = realmWith(ROLES, "GARBAGE_COLLECTION");
    expect(checkVlobReadAccess(accessOf(realm, user("owner")), 1)).toEqual({ kind: "in_maintenance" });
    expect(checkRealmReadAccess(accessOf(realm, user("owner")))).toEqual({ kind: "in_maintenance" });
  });
});

describe("checkVlobMaintenanceAccess", () => {
  it("OWNER only, under re-encryption, at the new revision", () => {
    const realm = realmWith(ROLES, "REENCRYPTION", 2);
    expect(checkVlobMaintenanceAccess(accessOf(realm, user("owner")), 2)).toEqual({ kind: "ok" });
    for (const name of ["manager", "contributor", "reader", "stranger"]) expect(checkVlobMaintenanceAccess(accessOf(realm, user(name)), 2)).toEqual({ kind: "not_allowed" });
    for (const revision of [1, 3]) expect(checkVlobMaintenanceAccess(accessOf(realm, user("owner")), revision)).toEqual({ kind: "bad_encryption_revision" });
    expect(checkVlobMaintenanceAccess(accessOf(realmWith(ROLES), user("owner")), 2)).toEqual({ kind: "not_in_maintenance" });
    expect(checkVlobMaintenanceAccess(accessOf(realmWith(ROLES, "GARBAGE_COLLECTION"), user("owner")), 1)).toEqual({ kind: "not_in_maintenance" });
    expect(checkVlobMaintenanceAccess(accessOf(realmWith(ROLES), user("manager")), 2)).toEqual({ kind: "not_allowed" });
  });
});

describe("checkNewVersion and selectVersion", () => {
  const atom = (seconds: number): VlobAtom => ({ blob: Buffer.from(String(seconds)), author: ALICE, timestamp: at(seconds) });
  const versions = [atom(10), atom(20), atom(20), atom(30)];

  /** The head of `versions`: its last version's number and timestamp. */
  const head: VlobHead = { version: versions.length, timestamp: versions[versions.length - 1]!.timestamp };
  const select = (list: readonly VlobAtom[], version: number | null, timestamp: DateTime | null) => selectVersion(list, versionSelector(version, timestamp));

  it("the next version is exactly last + 1, not older than the last one (equal accepted)", () => {
    expect(checkNewVersion(head, 5, at(30))).toEqual({ kind: "ok" });
    expect(checkNewVersion(head, 5, at(31))).toEqual({ kind: "ok" });
    expect(checkNewVersion(head, 5, at(29))).toEqual({ kind: "require_greater_timestamp", strictlyGreaterThan: at(30) });
    for (const version of [0, 1, 4, 6]) expect(checkNewVersion(head, version, at(40))).toEqual({ kind: "bad_version" });
    expect(checkNewVersion(head, 6, at(0))).toEqual({ kind: "bad_version" });
  });

  it("judges the version before the timestamp, from the head alone", () => {
    const first: VlobHead = { version: 1, timestamp: at(10) };
    expect(checkNewVersion(first, 2, at(10))).toEqual({ kind: "ok" });
    expect(checkNewVersion(first, 2, at(9.999999))).toEqual({ kind: "require_greater_timestamp", strictlyGreaterThan: at(10) });
    expect(checkNewVersion(first, 3, at(9))).toEqual({ kind: "bad_version" });
    expect(checkNewVersion(first, 1, at(20))).toEqual({ kind: "bad_version" });
  });

  it("versionSelector: the version wins over the timestamp; with neither, the latest", () => {
    expect(versionSelector(2, at(0))).toEqual({ kind: "version", version: 2 });
    expect(versionSelector(0, null)).toEqual({ kind: "version", version: 0 });
    expect(versionSelector(null, at(5))).toEqual({ kind: "timestamp", timestamp: at(5) });
    expect(versionSelector(null, null)).toEqual({ kind: "latest" });
  });

  it("by version, by timestamp (the last version at or before it), or the latest", () => {
    expect(select(versions, null, null)).toEqual({ kind: "ok", version: 4 });
    expect(selectVersion(versions, { kind: "latest" })).toEqual({ kind: "ok", version: 4 });
    expect(select(versions, 2, at(0))).toEqual({ kind: "ok", version: 2 });
    for (const version of [0, 5, -1]) expect(select(versions, version, null)).toEqual({ kind: "bad_version" });
    const cases: [number, number | null][] = [[9.999999, null], [10, 1], [19, 1], [20, 3], [29.5, 3], [30, 4], [1000, 4]];
    for (const [seconds, expected] of cases)
      expect(selectVersion(versions, { kind: "timestamp", timestamp: at(seconds) })).toEqual(expected === null ? { kind: "bad_version" } : { kind: "ok", version: expected });
    expect(select([], null, null)).toEqual({ kind: "bad_version" });
    expect(selectVersion([], { kind: "timestamp", timestamp: at(1000) })).toEqual({ kind: "bad_version" });
  });

  it("by timestamp agrees with a linear scan on long histories", () => {
    const long = Array.from({ length: 257 }, (_, i) => atom(Math.floor(i / 3) * 2));
    for (let s = -1; s <= 180; s++) {
      let expected = 0;
      for (let i = 0; i < long.length; i++) if (!long[i]!.timestamp.isAfter(at(s))) expected = i + 1;
      expect(select(long, null, at(s))).toEqual(expected === 0 ? { kind: "bad_version" } : { kind: "ok", version: expected });
    }
  });
});

describe("checkSequesterBlob", () => {
  const service = valueOf(SequesterServiceID.parse("0000000000000000000000000000000b"));
  const other = valueOf(SequesterServiceID.parse("0000000000000000000000000000000c"));
  const blob = (...ids: SequesterServiceID[]) => new Map(ids.map((id) => [id, Buffer.from("s")]));

  it("an organization without authority accepts only a nil blob", () => {
    const setup = { authorityCertificate: null, services: new Map() };
    expect(checkSequesterBlob(setup, null)).toEqual({ kind: "ok" });
    expect(checkSequesterBlob(setup, blob())).toEqual({ kind: "not_a_sequestered_organization" });
    expect(checkSequesterBlob(setup, blob(service))).toEqual({ kind: "not_a_sequestered_organization" });
  });

  it("a sequestered organization requires exactly its enabled services", () => {
    const authority = Buffer.from("<authority>");
    const inconsistency = (certificates: Buffer[]) => ({ kind: "sequester_inconsistency", sequesterAuthorityCertificate: authority, sequesterServicesCertificates: certificates });
    const none = { authorityCertificate: authority, services: new Map() };
    expect(checkSequesterBlob(none, null)).toEqual({ kind: "ok" });
    expect(checkSequesterBlob(none, blob())).toEqual({ kind: "ok" });
    expect(checkSequesterBlob(none, blob(service))).toEqual(inconsistency([]));
    const one = { authorityCertificate: authority, services: new Map([[service, Buffer.from("<service>")]]) };
    expect(checkSequesterBlob(one, blob(service))).toEqual({ kind: "ok" });
    for (const given of [null, blob(), blob(other), blob(service, other)]) expect(checkSequesterBlob(one, given)).toEqual(inconsistency([Buffer.from("<service>")]));
  });
});
