import { describe, expect, it } from "vitest";
import { checkBlockRead, checkBlockWrite } from "../../src/domain/block/index.js";
import type { DeviceID, RealmID, RealmRole, UserID } from "../../src/domain/ids.js";
import { accessOf, newRealm, withGrant, type MaintenanceType, type Realm, type RealmAccess } from "../../src/domain/realm/index.js";
import { DateTime } from "../../src/domain/time.js";

const T0 = DateTime.fromEpochMicroseconds(1_700_000_000_000_000);
const REALM = "b0000000000000000000000000000001" as RealmID;
const uid = (raw: string) => raw as UserID;
const ALICE = "alice@dev1" as DeviceID;

/** A realm owned by alice, with users `manager`, `contributor` and `reader` in those roles, and `bob`, an OWNER since removed. */
const realmWith = (maintenance: MaintenanceType | null): Realm => {
  const grant = (userId: string, role: RealmRole | null, seconds: number) => ({
    userId: uid(userId),
    role,
    certificate: Buffer.alloc(0),
    grantedBy: ALICE,
    grantedOn: T0.addSeconds(seconds),
  });
  const realm = [grant("manager", "MANAGER", 1), grant("contributor", "CONTRIBUTOR", 2), grant("reader", "READER", 3), grant("bob", "OWNER", 4), grant("bob", null, 5)].reduce(
    withGrant,
    newRealm(REALM, grant("alice", "OWNER", 0)),
  );
  return { ...realm, maintenance: maintenance && { type: maintenance, startedBy: ALICE, startedOn: T0 } };
};

const WRITERS = ["alice", "manager", "contributor"];
const OTHERS = ["reader", "bob", "stranger"];

describe("checkBlockWrite", () => {
  it("OWNER, MANAGER and CONTRIBUTOR create blocks; READER, former members and strangers do not", () => {
    const realm = realmWith(null);
    for (const name of WRITERS) expect(checkBlockWrite(accessOf(realm, uid(name)))).toEqual({ kind: "ok" });
    for (const name of OTHERS) expect(checkBlockWrite(accessOf(realm, uid(name)))).toEqual({ kind: "not_allowed" });
  });

  it("any maintenance forbids it, checked after the role (a non-member learns nothing)", () => {
    for (const type of ["REENCRYPTION", "GARBAGE_COLLECTION"] as const) {
      const realm = realmWith(type);
      for (const name of WRITERS) expect(checkBlockWrite(accessOf(realm, uid(name)))).toEqual({ kind: "in_maintenance" });
      for (const name of OTHERS) expect(checkBlockWrite(accessOf(realm, uid(name)))).toEqual({ kind: "not_allowed" });
    }
  });
});

describe("checkBlockRead", () => {
  it("any member reads, also during a re-encryption; former members and strangers do not", () => {
    for (const maintenance of [null, "REENCRYPTION"] as const) {
      const realm = realmWith(maintenance);
      for (const name of [...WRITERS, "reader"]) expect(checkBlockRead(accessOf(realm, uid(name)))).toEqual({ kind: "ok" });
      for (const name of ["bob", "stranger"]) expect(checkBlockRead(accessOf(realm, uid(name)))).toEqual({ kind: "not_allowed" });
    }
  });

  it("another maintenance forbids reads, checked after the role", () => {
    const realm = realmWith("GARBAGE_COLLECTION");
    expect(checkBlockRead(accessOf(realm, uid("reader")))).toEqual({ kind: "in_maintenance" });
    expect(checkBlockRead(accessOf(realm, uid("stranger")))).toEqual({ kind: "not_allowed" });
  });

  it("needs only the access view, not the realm's grants", () => {
    const view = (role: RealmRole | null): RealmAccess => ({ realmId: REALM, encryptionRevision: 3, maintenance: null, lastGrant: { role, grantedOn: T0 } });
    expect(checkBlockRead(view("READER"))).toEqual({ kind: "ok" });
    expect(checkBlockRead(view(null))).toEqual({ kind: "not_allowed" });
    expect(checkBlockWrite(view("CONTRIBUTOR"))).toEqual({ kind: "ok" });
    expect(checkBlockWrite(view("READER"))).toEqual({ kind: "not_allowed" });
  });
});
