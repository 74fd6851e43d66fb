import { describe, expect, it } from "vitest";
import type { DeviceID, HumanHandle, UserID, UserProfile } from "../../src/domain/ids.js";
import { DateTime } from "../../src/domain/time.js";
import {
  admissionFactsFrom,
  assembleTrustchain,
  checkUserAdmission,
  compareHumans,
  countsAsActiveUser,
  findHumans,
  humanQueryWords,
  isRevoked,
  matchesHumanQuery,
  trustchainRoots,
  walkTrustchain,
  type AdmissionFacts,
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
  type Settings = { userProfileOutsiderAllowed: boolean; activeUsersLimit: number | null };
  type NewUser = typeof newUser | { userId: UserID; humanHandle: HumanHandle | null; profile: UserProfile };
  /** The admission of `user` among `users`, with the facts a memory store computes from the list. */
  const admit = (settings: Settings, users: readonly UserSummary[], user: NewUser = newUser) =>
    checkUserAdmission({
      settings,
      facts: admissionFactsFrom(users, { userId: user.userId, email: user.humanHandle?.email ?? null }, now, settings.activeUsersLimit !== null),
      newUser: user,
    });
  const facts = (fields: Partial<AdmissionFacts> = {}): AdmissionFacts => ({ activeUsers: null, userIdTaken: false, emailTaken: false, ...fields });

  it("ok in an empty organization", () => {
    expect(admit(settings, [])).toEqual({ kind: "ok" });
    expect(checkUserAdmission({ settings, facts: facts(), newUser })).toEqual({ kind: "ok" });
  });

  it("checks, in order: outsider allowed, active users limit, user id, email", () => {
    const users = [summary("bob", handle("Bob"))];
    const all = { userProfileOutsiderAllowed: false, activeUsersLimit: 1 };
    const outsider = { ...newUser, profile: "OUTSIDER" as const };
    expect(admit(all, users, outsider).kind).toBe("not_allowed");
    expect(admit(all, users).kind).toBe("active_users_limit_reached");
    expect(admit(settings, users)).toEqual({ kind: "already_exists", reason: "User `bob` already exists" });
    expect(admit(settings, users, { ...newUser, userId: uid("bob2") })).toEqual({
      kind: "already_exists",
      reason: "Human handle `bob@example.com` already corresponds to a non-revoked user",
    });
  });

  it("checks the facts in the same order, each alone", () => {
    const every = facts({ activeUsers: 1, userIdTaken: true, emailTaken: true });
    const all = { userProfileOutsiderAllowed: false, activeUsersLimit: 1 };
    expect(checkUserAdmission({ settings: all, facts: every, newUser: { ...newUser, profile: "OUTSIDER" } })).toEqual({
      kind: "not_allowed",
      reason: "The organization does not allow users with the OUTSIDER profile.",
    });
    expect(checkUserAdmission({ settings: all, facts: every, newUser })).toEqual({
      kind: "active_users_limit_reached",
      reason: "The organization's active users limit is reached.",
    });
    expect(checkUserAdmission({ settings, facts: every, newUser }).kind).toBe("already_exists");
    expect(checkUserAdmission({ settings, facts: facts({ userIdTaken: true }), newUser })).toEqual({ kind: "already_exists", reason: "User `bob` already exists" });
    expect(checkUserAdmission({ settings, facts: facts({ emailTaken: true }), newUser })).toEqual({
      kind: "already_exists",
      reason: "Human handle `bob@example.com` already corresponds to a non-revoked user",
    });
  });

  it("compares the active users fact with the limit: below passes, at or above is reached", () => {
    const limited = (limit: number) => ({ ...settings, activeUsersLimit: limit });
    expect(checkUserAdmission({ settings: limited(3), facts: facts({ activeUsers: 2 }), newUser }).kind).toBe("ok");
    expect(checkUserAdmission({ settings: limited(3), facts: facts({ activeUsers: 3 }), newUser }).kind).toBe("active_users_limit_reached");
    expect(checkUserAdmission({ settings: limited(3), facts: facts({ activeUsers: 4 }), newUser }).kind).toBe("active_users_limit_reached");
    expect(checkUserAdmission({ settings: limited(0), facts: facts({ activeUsers: 0 }), newUser }).kind).toBe("active_users_limit_reached");
    expect(checkUserAdmission({ settings, facts: facts({ activeUsers: 1_000_000 }), newUser }).kind).toBe("ok");
  });

  it("ignores an email fact for a user without human handle", () => {
    expect(checkUserAdmission({ settings, facts: facts({ emailTaken: true }), newUser: { ...newUser, humanHandle: null } })).toEqual({ kind: "ok" });
  });

  it("outsiders pass when allowed; other profiles always pass that check", () => {
    const closed = { ...settings, userProfileOutsiderAllowed: false };
    expect(admit(settings, [], { ...newUser, profile: "OUTSIDER" }).kind).toBe("ok");
    for (const profile of ["ADMIN", "STANDARD"] as const) expect(admit(closed, [], { ...newUser, profile }).kind).toBe("ok");
  });

  it("counts only users without revocation against the limit", () => {
    const users = [summary("a"), summary("b", null, now.addSeconds(-1)), summary("c", null, now.addSeconds(60))];
    expect(admit({ ...settings, activeUsersLimit: 2 }, users).kind).toBe("ok");
    expect(admit({ ...settings, activeUsersLimit: 1 }, users).kind).toBe("active_users_limit_reached");
    expect(admit({ ...settings, activeUsersLimit: 0 }, []).kind).toBe("active_users_limit_reached");
  });

  it("an email is free once its holder is revoked (at now), compared exactly; labels may repeat; no handle never clashes", () => {
    const bobHandle = handle("Bob");
    expect(admit(settings, [summary("old", bobHandle, now)]).kind).toBe("ok");
    expect(admit(settings, [summary("old", bobHandle, now.addSeconds(1))]).kind).toBe("already_exists");
    expect(admit(settings, [summary("x", handle("Bob", "other@example.com"))]).kind).toBe("ok");
    expect(admit(settings, [summary("x", handle("Bob", "BOB@example.com"))]).kind).toBe("ok");
    expect(admit(settings, [summary("x")], { ...newUser, humanHandle: null }).kind).toBe("ok");
  });
});

describe("admissionFactsFrom", () => {
  const bob = { userId: uid("bob"), email: "bob@example.com" };

  it("counts users without any revocation, only when asked (null otherwise)", () => {
    const users = [summary("a"), summary("b"), summary("c", null, now.addSeconds(-1)), summary("d", null, now)];
    expect(admissionFactsFrom(users, bob, now, true)).toEqual({ activeUsers: 2, userIdTaken: false, emailTaken: false });
    expect(admissionFactsFrom(users, bob, now, false)).toEqual({ activeUsers: null, userIdTaken: false, emailTaken: false });
    expect(admissionFactsFrom([], bob, now, true)).toEqual({ activeUsers: 0, userIdTaken: false, emailTaken: false });
  });

  it("a revocation dated in the future already frees a place in the limit, but does not free the email", () => {
    const users = [summary("old", handle("Bob"), now.addSeconds(60))];
    expect(admissionFactsFrom(users, bob, now, true)).toEqual({ activeUsers: 0, userIdTaken: false, emailTaken: true });
    expect(admissionFactsFrom(users, bob, now.addSeconds(60), true)).toEqual({ activeUsers: 0, userIdTaken: false, emailTaken: false });
  });

  it("an email is freed by a revocation at or before now, and only that email, compared exactly", () => {
    expect(admissionFactsFrom([summary("old", handle("Bob"), now)], bob, now, false).emailTaken).toBe(false);
    expect(admissionFactsFrom([summary("old", handle("Bob"), now.addSeconds(-100))], bob, now, false).emailTaken).toBe(false);
    expect(admissionFactsFrom([summary("old", handle("Bob"), now.addSeconds(0.000001))], bob, now, false).emailTaken).toBe(true);
    expect(admissionFactsFrom([summary("old", handle("Bob"))], bob, now, false).emailTaken).toBe(true);
    expect(admissionFactsFrom([summary("old", handle("Bob", "BOB@example.com"))], bob, now, false).emailTaken).toBe(false);
    expect(admissionFactsFrom([summary("old", handle("Robert", "bob@example.com"))], bob, now, false).emailTaken).toBe(true);
    const revokedAndActive = [summary("old", handle("Bob"), now), summary("new", handle("Bob"))];
    expect(admissionFactsFrom(revokedAndActive, bob, now, false).emailTaken).toBe(true);
  });

  it("a new user without email never clashes; users without handle hold no email", () => {
    expect(admissionFactsFrom([summary("old", handle("Bob"))], { userId: uid("bob"), email: null }, now, false)).toEqual({
      activeUsers: null,
      userIdTaken: false,
      emailTaken: false,
    });
    expect(admissionFactsFrom([summary("robot")], bob, now, false).emailTaken).toBe(false);
  });

  it("a user id stays taken even once revoked", () => {
    expect(admissionFactsFrom([summary("bob", null, now.addSeconds(-100))], bob, now, true)).toEqual({ activeUsers: 0, userIdTaken: true, emailTaken: false });
    expect(admissionFactsFrom([summary("bob2")], bob, now, false).userIdTaken).toBe(false);
  });

  it("reads any iterable of users (a store's map values)", () => {
    const map = new Map([[uid("bob"), summary("bob", handle("Bob"))]]);
    expect(admissionFactsFrom(map.values(), bob, now, true)).toEqual({ activeUsers: 1, userIdTaken: true, emailTaken: true });
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

  it("compareHumans orders labels by code points (PostgreSQL's C collation), not by UTF-16 code units", () => {
    // U+1F600 is the surrogate pair D83D DE00 in UTF-16, which sorts before U+FFFD by code units but after it by code points.
    const astral = summary("a", handle("\u{1F600} smile", "smile@example.com"));
    const replacement = summary("b", handle("\u{FFFD} unknown", "unknown@example.com"));
    const latin = summary("c", handle("zed", "zed@example.com"));
    expect("\u{1F600}" < "\u{FFFD}").toBe(true);
    expect([astral, replacement, latin].sort(compareHumans).map((u) => u.userId)).toEqual(["c", "b", "a"]);
    expect([replacement, latin, astral].sort(compareHumans).map((u) => u.userId)).toEqual(["c", "b", "a"]);
    expect(compareHumans(astral, replacement)).toBe(1);
    expect(compareHumans(replacement, astral)).toBe(-1);
    // User ids too (of users without handle): U+1D49C (a letter, D835 DC9C) after U+FF5A (fullwidth z).
    expect([summary("\u{1D49C}x"), summary("\u{FF5A}x")].sort(compareHumans).map((u) => u.userId)).toEqual(["\u{FF5A}x", "\u{1D49C}x"]);
  });

  it("humanQueryWords: lower-cased words split on any whitespace, empty ones dropped, special characters kept", () => {
    expect(humanQueryWords("Bruce LE")).toEqual(["bruce", "le"]);
    expect(humanQueryWords("  bruce\t \n le\u00a0KungFu  ")).toEqual(["bruce", "le", "kungfu"]);
    expect(humanQueryWords("")).toEqual([]);
    expect(humanQueryWords(" \t\n")).toEqual([]);
    expect(humanQueryWords("%_ a.* ÉLODIE")).toEqual(["%_", "a.*", "élodie"]);
    expect(humanQueryWords("le bruce")).toEqual(["le", "bruce"]);
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
