import { describe, expect, it } from "vitest";
import type { DeviceID, HumanHandle, UserID, UserProfile } from "../../src/domain/ids.js";
import { DateTime } from "../../src/domain/time.js";
import {
  assembleTrustchain,
  checkUserAdmission,
  compareHumans,
  countsAsActiveUser,
  findHumans,
  isRevoked,
  matchesHumanQuery,
  trustchainRoots,
  walkTrustchain,
  type Device,
  type TrustchainLink,
  type User,
  type UserSummary,
} from "../../src/domain/user/index.js";

const now = DateTime.fromEpochMicroseconds(1_700_000_000_000_000);
const uid = (raw: string) => raw as UserID;
const did = (raw: string) => raw as DeviceID;

const summary = (userId: string, humanHandle: HumanHandle | null = null, revokedOn: DateTime | null = null, profile: UserProfile = "STANDARD"): UserSummary => ({
  userId: uid(userId),
  humanHandle,
  profile,
  revokedOn,
});
const handle = (label: string, email = `${label.toLowerCase().replace(/\s/g, ".")}@example.com`): HumanHandle => ({ email, label });

describe("isRevoked / countsAsActiveUser", () => {
  it("a revocation counts from its timestamp on; any revocation frees a place in the active users limit", () => {
    expect(isRevoked({ revokedOn: null }, now)).toBe(false);
    expect(isRevoked({ revokedOn: now }, now)).toBe(true);
    expect(isRevoked({ revokedOn: now.addSeconds(0.000001) }, now)).toBe(false);
    expect(countsAsActiveUser({ revokedOn: null })).toBe(true);
    expect(countsAsActiveUser({ revokedOn: now.addSeconds(100) })).toBe(false);
  });
});

describe("checkUserAdmission", () => {
  const settings = { userProfileOutsiderAllowed: true, activeUsersLimit: null };
  const newUser = { userId: uid("bob"), humanHandle: handle("Bob"), profile: "STANDARD" as const };

  it("ok in an empty organization", () => {
    expect(checkUserAdmission({ settings, users: [], newUser, now })).toEqual({ kind: "ok" });
  });

  it("checks, in order: outsider allowed, active users limit, user id, email", () => {
    const users = [summary("bob", handle("Bob"))];
    const all = { userProfileOutsiderAllowed: false, activeUsersLimit: 1 };
    const outsider = { ...newUser, profile: "OUTSIDER" as const };
    expect(checkUserAdmission({ settings: all, users, newUser: outsider, now }).kind).toBe("not_allowed");
    expect(checkUserAdmission({ settings: all, users, newUser, now }).kind).toBe("active_users_limit_reached");
    expect(checkUserAdmission({ settings, users, newUser, now })).toEqual({ kind: "already_exists", reason: "User `bob` already exists" });
    expect(checkUserAdmission({ settings, users, newUser: { ...newUser, userId: uid("bob2") }, now })).toEqual({
      kind: "already_exists",
      reason: "Human handle `bob@example.com` already corresponds to a non-revoked user",
    });
  });

  it("outsiders pass when allowed; other profiles always pass that check", () => {
    const closed = { ...settings, userProfileOutsiderAllowed: false };
    expect(checkUserAdmission({ settings, users: [], newUser: { ...newUser, profile: "OUTSIDER" }, now }).kind).toBe("ok");
    for (const profile of ["ADMIN", "STANDARD"] as const) expect(checkUserAdmission({ settings: closed, users: [], newUser: { ...newUser, profile }, now }).kind).toBe("ok");
  });

  it("counts only users without revocation against the limit", () => {
    const users = [summary("a"), summary("b", null, now.addSeconds(-1)), summary("c", null, now.addSeconds(60))];
    expect(checkUserAdmission({ settings: { ...settings, activeUsersLimit: 2 }, users, newUser, now }).kind).toBe("ok");
    expect(checkUserAdmission({ settings: { ...settings, activeUsersLimit: 1 }, users, newUser, now }).kind).toBe("active_users_limit_reached");
    expect(checkUserAdmission({ settings: { ...settings, activeUsersLimit: 0 }, users: [], newUser, now }).kind).toBe("active_users_limit_reached");
  });

  it("an email is free once its holder is revoked (at now), compared exactly; labels may repeat; no handle never clashes", () => {
    const bobHandle = handle("Bob");
    expect(checkUserAdmission({ settings, users: [summary("old", bobHandle, now)], newUser, now }).kind).toBe("ok");
    expect(checkUserAdmission({ settings, users: [summary("old", bobHandle, now.addSeconds(1))], newUser, now }).kind).toBe("already_exists");
    expect(checkUserAdmission({ settings, users: [summary("x", handle("Bob", "other@example.com"))], newUser, now }).kind).toBe("ok");
    expect(checkUserAdmission({ settings, users: [summary("x", handle("Bob", "BOB@example.com"))], newUser, now }).kind).toBe("ok");
    expect(checkUserAdmission({ settings, users: [summary("x")], newUser: { ...newUser, humanHandle: null }, now }).kind).toBe("ok");
  });
});

describe("trustchain", () => {
  const cert = (name: string) => Buffer.from(name);
  const user = (userId: string, userCertifier: string | null, revokedUserCertifier: string | null = null): User => ({
    userId: uid(userId),
    humanHandle: null,
    profile: "ADMIN",
    publicKey: Buffer.alloc(32),
    userCertificate: cert(`<${userId} user>`),
    redactedUserCertificate: cert(`<${userId} redacted user>`),
    userCertifier: userCertifier === null ? null : did(userCertifier),
    createdOn: now,
    revokedOn: revokedUserCertifier === null ? null : now,
    revokedUserCertificate: revokedUserCertifier === null ? null : cert(`<${userId} revoked>`),
    revokedUserCertifier: revokedUserCertifier === null ? null : did(revokedUserCertifier),
  });
  const device = (deviceId: string, deviceCertifier: string | null): Device => ({
    deviceId: did(deviceId),
    deviceLabel: null,
    verifyKey: Buffer.alloc(32),
    deviceCertificate: cert(`<${deviceId} device>`),
    redactedDeviceCertificate: cert(`<${deviceId} redacted device>`),
    deviceCertifier: deviceCertifier === null ? null : did(deviceCertifier),
    createdOn: now,
  });

  /** root → godfrey@dev1 → roger@dev1 → mike@dev1 → mike@dev2 ; godfrey@dev1 → philippe@dev1 → philippe@dev2 ; roger revoked by philippe@dev1, mike by philippe@dev2. */
  const users = new Map<string, User>([
    ["godfrey", user("godfrey", null)],
    ["roger", user("roger", "godfrey@dev1", "philippe@dev1")],
    ["mike", user("mike", "roger@dev1", "philippe@dev2")],
    ["philippe", user("philippe", "godfrey@dev1")],
  ]);
  const devices = new Map<string, Device>([
    ["godfrey@dev1", device("godfrey@dev1", null)],
    ["roger@dev1", device("roger@dev1", "godfrey@dev1")],
    ["mike@dev1", device("mike@dev1", "roger@dev1")],
    ["mike@dev2", device("mike@dev2", "mike@dev1")],
    ["philippe@dev1", device("philippe@dev1", "godfrey@dev1")],
    ["philippe@dev2", device("philippe@dev2", "philippe@dev1")],
  ]);
  const lookup = (id: DeviceID): TrustchainLink | null => {
    const d = devices.get(id);
    const u = users.get(id.split("@")[0]!);
    return d && u ? { user: u, device: d } : null;
  };
  const text = (buffers: readonly Buffer[]) => buffers.map((b) => b.toString()).sort();

  it("starts from the user's certifier, its revoker and its devices' certifiers", () => {
    const mike = users.get("mike")!;
    expect(trustchainRoots(mike, [devices.get("mike@dev1")!, devices.get("mike@dev2")!])).toEqual(["roger@dev1", "philippe@dev2", "roger@dev1", "mike@dev1"]);
    expect(trustchainRoots(users.get("godfrey")!, [devices.get("godfrey@dev1")!])).toEqual([]);
  });

  it("walks certifiers and revokers recursively, each device once, depth first", () => {
    const mike = users.get("mike")!;
    const links = walkTrustchain(trustchainRoots(mike, [devices.get("mike@dev1")!, devices.get("mike@dev2")!]), lookup);
    expect(links.map((l) => l.device.deviceId)).toEqual(["roger@dev1", "godfrey@dev1", "philippe@dev1", "philippe@dev2", "mike@dev1"]);
  });

  it("assembles Parsec's deep trustchain: users once, revocations of revoked members, full or redacted", () => {
    const mike = users.get("mike")!;
    const links = walkTrustchain(trustchainRoots(mike, [devices.get("mike@dev1")!, devices.get("mike@dev2")!]), lookup);
    const full = assembleTrustchain(links, false);
    expect(text(full.devices)).toEqual(["<godfrey@dev1 device>", "<mike@dev1 device>", "<philippe@dev1 device>", "<philippe@dev2 device>", "<roger@dev1 device>"]);
    expect(text(full.users)).toEqual(["<godfrey user>", "<mike user>", "<philippe user>", "<roger user>"]);
    expect(text(full.revokedUsers)).toEqual(["<mike revoked>", "<roger revoked>"]);
    const redacted = assembleTrustchain(links, true);
    expect(text(redacted.devices)).toEqual([
      "<godfrey@dev1 redacted device>",
      "<mike@dev1 redacted device>",
      "<philippe@dev1 redacted device>",
      "<philippe@dev2 redacted device>",
      "<roger@dev1 redacted device>",
    ]);
    expect(text(redacted.users)).toEqual(["<godfrey redacted user>", "<mike redacted user>", "<philippe redacted user>", "<roger redacted user>"]);
    expect(text(redacted.revokedUsers)).toEqual(["<mike revoked>", "<roger revoked>"]);
  });

  it("skips unknown devices and terminates on cycles", () => {
    const cyclic = new Map<string, TrustchainLink>([
      ["a@d", { user: user("a", "b@d"), device: device("a@d", "b@d") }],
      ["b@d", { user: user("b", "a@d", "ghost@d"), device: device("b@d", "a@d") }],
    ]);
    const links = walkTrustchain([did("a@d"), did("nobody@d")], (id) => cyclic.get(id) ?? null);
    expect(links.map((l) => l.device.deviceId)).toEqual(["a@d", "b@d"]);
    expect(walkTrustchain([], lookup)).toEqual([]);
  });
});

describe("human_find rules", () => {
  it("matchesHumanQuery: words in order, in label or email, case-insensitive; user id only without handle", () => {
    const bruce = { userId: uid("bruce_le"), humanHandle: handle("Bruce Le", "bruce.le@kungfu.com") };
    for (const query of ["bruce", "BRUCE le", "bruce\t \nle", "e.le@k", "kungfu", "b l", " "]) expect(matchesHumanQuery(bruce, query)).toBe(true);
    for (const query of ["le bruce", "bruce_le", "kungfu bruce", "%", "bruce.*"]) expect(matchesHumanQuery(bruce, query)).toBe(false);
    const anonymous = { userId: uid("bruce_li"), humanHandle: null };
    expect(matchesHumanQuery(anonymous, "Bruce_L")).toBe(true);
    expect(matchesHumanQuery(anonymous, "bruce li")).toBe(true);
    expect(matchesHumanQuery(anonymous, "li bruce")).toBe(false);
  });

  it("compareHumans: lower-cased label, then user id; users without handle last, by user id", () => {
    const list = [
      summary("z_none"),
      summary("b", handle("blacky")),
      summary("a_none"),
      summary("c", handle("Blacky2")),
      summary("a", handle("Blacky")),
      summary("d", handle("alpha")),
    ];
    expect([...list].sort(compareHumans).map((u) => u.userId)).toEqual(["d", "a", "b", "c", "a_none", "z_none"]);
  });

  it("findHumans: filters, counts, pages; revocation judged at now", () => {
    const users = [
      summary("alice", handle("Alice")),
      summary("bob", handle("Bob"), now),
      summary("carol", handle("Carol"), now.addSeconds(10)),
      summary("robot"),
    ];
    const search = { query: null, omitRevoked: false, omitNonHuman: false, page: 1, perPage: 100 };
    expect(findHumans(users, search, now)).toEqual({
      total: 4,
      results: [
        { userId: "alice", humanHandle: handle("Alice"), revoked: false },
        { userId: "bob", humanHandle: handle("Bob"), revoked: true },
        { userId: "carol", humanHandle: handle("Carol"), revoked: false },
        { userId: "robot", humanHandle: null, revoked: false },
      ],
    });
    expect(findHumans(users, { ...search, omitRevoked: true }, now).results.map((r) => r.userId)).toEqual(["alice", "carol", "robot"]);
    expect(findHumans(users, { ...search, omitRevoked: true }, now.addSeconds(10)).results.map((r) => r.userId)).toEqual(["alice", "robot"]);
    expect(findHumans(users, { ...search, omitNonHuman: true, query: "r" }, now).results.map((r) => r.userId)).toEqual(["carol"]);
    expect(findHumans(users, { ...search, query: "ro" }, now).results.map((r) => r.userId)).toEqual(["carol", "robot"]);
    expect(findHumans(users, { ...search, page: 2, perPage: 3 }, now)).toEqual({ total: 4, results: [{ userId: "robot", humanHandle: null, revoked: false }] });
    expect(findHumans(users, { ...search, page: 3, perPage: 3 }, now)).toEqual({ total: 4, results: [] });
    expect(findHumans(users, { ...search, page: Number.MAX_SAFE_INTEGER, perPage: 100 }, now)).toEqual({ total: 4, results: [] });
    expect(findHumans([], search, now)).toEqual({ total: 0, results: [] });
  });
});
