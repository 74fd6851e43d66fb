import { describe, expect, it } from "vitest";
import type { UserRevocation } from "../../src/application/ports/index.js";
import { DeviceLabel, type HumanHandle, type OrganizationID } from "../../src/domain/ids.js";
import type { DateTime } from "../../src/domain/time.js";
import type { HumanFindItem, HumanSearch, User, UserSummary } from "../../src/domain/user/index.js";
import {
  at,
  bytes,
  device,
  did,
  newOrganizationId,
  pause,
  race,
  runAndRollBack,
  seedOrganization,
  seedUser,
  uid,
  user,
  useFixture,
  type Make,
  type PersistencePorts,
} from "./fixtures.js";

type Ports = Pick<PersistencePorts, "uow" | "organizations" | "users">;

/** The {@link UserSummary} fields of a user (a repository may return more). */
const summary = (u: UserSummary | null | undefined): UserSummary | null =>
  u ? { userId: u.userId, humanHandle: u.humanHandle, profile: u.profile, revokedOn: u.revokedOn } : null;

const label = (raw: string): DeviceLabel => {
  const parsed = DeviceLabel.parse(raw);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

const revocation = (revokedOn = at(50), certifier = did("alice@dev1")): UserRevocation => ({ revokedOn, certificate: bytes("revoked-user-certificate", 16), certifier });

const revoked = (u: User, r: UserRevocation): User => ({ ...u, revokedOn: r.revokedOn, revokedUserCertificate: r.certificate, revokedUserCertifier: r.certifier });

const search = (overrides: Partial<HumanSearch> = {}): HumanSearch => ({ query: null, omitRevoked: false, omitNonHuman: false, page: 1, perPage: 100, ...overrides });

/**
 * `UserRepository`: users and devices, the store's last word on duplicates, revocation, the handshake lookup,
 * summaries, email checks judged at a date, admission facts under the creation's locks, `human_find` in the store,
 * and trustchain reads.
 */
export function userRepositoryContract(make: Make<Ports>): void {
  describe("UserRepository contract", () => {
    const fixture = useFixture(make);

    const withOrganization = async () => {
      const p = fixture.current();
      const org = await seedOrganization(p);
      return { ...p, org: org.id, organization: org };
    };

    const revoke = (p: Ports, org: OrganizationID, name: string, on: DateTime, certifier = did("alice@dev1")) =>
      p.uow.run(org, (tx) => p.users.revoke(tx, org, uid(name), revocation(on, certifier)));

    describe("create and the handshake lookup", () => {
      it("creates a user with its first device and reads them back", async () => {
        const { uow, users, org, organization } = await withOrganization();
        const alice = user(uid("alice"), { profile: "ADMIN", createdOn: at(3.5) });
        const dev = device(did("alice@dev1"), { deviceLabel: label("Laptop of Alice"), createdOn: at(3.5) });
        expect(await uow.run(org, (tx) => users.create(tx, org, alice, dev))).toBe("ok");
        expect(await users.getAuthentication(org, dev.deviceId)).toEqual({ organization, device: { user: alice, device: dev } });
      });

      it("answers null for an unknown organization, and no device for an unknown device or user", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice");
        expect(await p.users.getAuthentication(newOrganizationId(), did("alice@dev1"))).toBeNull();
        expect(await p.users.getAuthentication(p.org, did("alice@dev2"))).toEqual({ organization: p.organization, device: null });
        expect(await p.users.getAuthentication(p.org, did("bob@dev1"))).toEqual({ organization: p.organization, device: null });
        expect(await p.users.getUserWithDevicesAndTrustchain(p.org, uid("bob"))).toBeNull();
        expect(await p.users.getUserWithDevicesAndTrustchain(newOrganizationId(), uid("alice"))).toBeNull();
      });

      it("gives the organization as it is now in the handshake lookup", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice");
        await p.uow.run(p.org, (tx) => p.organizations.update(tx, p.org, { isExpired: true }));
        expect((await p.users.getAuthentication(p.org, did("alice@dev1")))?.organization).toEqual({ ...p.organization, isExpired: true });
      });

      it("refuses a taken user id (already_exists) and writes nothing of the second attempt", async () => {
        const p = await withOrganization();
        const { user: alice } = await seedUser(p, p.org, "alice");
        const again = user(uid("alice"), { email: "other@example.com" });
        const outcome = await p.uow.run(p.org, (tx) => p.users.create(tx, p.org, again, device(did("alice@dev9"))));
        expect(outcome).toBe("already_exists");
        expect((await p.users.getAuthentication(p.org, did("alice@dev9")))?.device).toBeNull();
        expect((await p.users.getAuthentication(p.org, did("alice@dev1")))?.device?.user).toEqual(alice);
        expect(await p.users.isEmailTaken(p.org, "other@example.com", at(10))).toBe(false);
      });

      it("refuses an email held by a user without revocation (human_handle_already_taken)", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice", { user: { email: "shared@example.com" } });
        const bob = user(uid("bob"), { email: "shared@example.com" });
        expect(await p.uow.run(p.org, (tx) => p.users.create(tx, p.org, bob, device(did("bob@dev1"))))).toBe("human_handle_already_taken");
        expect((await p.users.getAuthentication(p.org, did("bob@dev1")))?.device).toBeNull();
        expect(await p.users.getSummary(p.org, uid("bob"))).toBeNull();
      });

      it("accepts the email of a user with a revocation (even a future one), and users without human handle", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice", { user: { profile: "ADMIN" } });
        await seedUser(p, p.org, "past", { user: { email: "past@example.com" } });
        await seedUser(p, p.org, "future", { user: { email: "future@example.com" } });
        await revoke(p, p.org, "past", at(50));
        await revoke(p, p.org, "future", at(10_000_000));
        for (const [name, email] of [["bob", "past@example.com"], ["carol", "future@example.com"]] as const)
          expect(await p.uow.run(p.org, (tx) => p.users.create(tx, p.org, user(uid(name), { email }), device(did(`${name}@dev1`))))).toBe("ok");
        for (const name of ["nobody1", "nobody2"])
          expect(await p.uow.run(p.org, (tx) => p.users.create(tx, p.org, user(uid(name), { email: null }), device(did(`${name}@dev1`))))).toBe("ok");
      });

      it("keeps emails and user ids per organization", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice", { user: { email: "shared@example.com" } });
        const other = (await seedOrganization(p)).id;
        const alice = user(uid("alice"), { email: "shared@example.com" });
        expect(await p.uow.run(other, (tx) => p.users.create(tx, other, alice, device(did("alice@dev1"))))).toBe("ok");
        expect((await p.users.getAuthentication(other, did("alice@dev1")))?.device?.user).toEqual(alice);
      });

      it("lets exactly one of 10 concurrent creations with one email through, even without reading first", async () => {
        const p = await withOrganization();
        const outcomes = await race(10, (i) =>
          p.uow.run(p.org, (tx) => p.users.create(tx, p.org, user(uid(`racer${i}`), { email: "race@example.com" }), device(did(`racer${i}@dev1`)))),
        );
        expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
        expect(outcomes.filter((o) => o === "human_handle_already_taken")).toHaveLength(9);
        const found = await p.users.getSummaries(p.org, Array.from({ length: 10 }, (_, i) => uid(`racer${i}`)));
        expect([...found.keys()]).toEqual([uid(`racer${outcomes.indexOf("ok")}`)]);
      });
    });

    describe("devices and revocation", () => {
      it("adds devices to an existing user; user_not_found and already_exists otherwise", async () => {
        const p = await withOrganization();
        const { user: alice } = await seedUser(p, p.org, "alice");
        const dev2 = device(did("alice@dev2"), { deviceCertifier: did("alice@dev1"), createdOn: at(5) });
        expect(await p.uow.run(p.org, (tx) => p.users.createDevice(tx, p.org, dev2))).toBe("ok");
        expect((await p.users.getAuthentication(p.org, dev2.deviceId))?.device).toEqual({ user: alice, device: dev2 });
        expect(await p.uow.run(p.org, (tx) => p.users.createDevice(tx, p.org, device(did("alice@dev2"))))).toBe("already_exists");
        expect((await p.users.getAuthentication(p.org, dev2.deviceId))?.device?.device).toEqual(dev2);
        expect(await p.uow.run(p.org, (tx) => p.users.createDevice(tx, p.org, device(did("bob@dev1"))))).toBe("user_not_found");
        expect((await p.users.getAuthentication(p.org, did("bob@dev1")))?.device).toBeNull();
      });

      it("records a revocation once; not_found and already_revoked otherwise", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice", { user: { profile: "ADMIN" } });
        const { user: bob } = await seedUser(p, p.org, "bob", { certifier: did("alice@dev1") });
        const first = revocation(at(60.25));
        expect(await p.uow.run(p.org, (tx) => p.users.revoke(tx, p.org, uid("bob"), first))).toBe("ok");
        expect((await p.users.getAuthentication(p.org, did("bob@dev1")))?.device?.user).toEqual(revoked(bob, first));
        expect(await p.uow.run(p.org, (tx) => p.users.revoke(tx, p.org, uid("bob"), revocation(at(70))))).toBe("already_revoked");
        expect((await p.users.getAuthentication(p.org, did("bob@dev1")))?.device?.user).toEqual(revoked(bob, first));
        expect(await p.uow.run(p.org, (tx) => p.users.revoke(tx, p.org, uid("carol"), revocation()))).toBe("not_found");
      });

      it("counts a future-dated revocation as a revocation (already_revoked)", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice", { user: { profile: "ADMIN" } });
        await seedUser(p, p.org, "bob");
        await revoke(p, p.org, "bob", at(10_000_000));
        expect(await revoke(p, p.org, "bob", at(10))).toBe("already_revoked");
        expect((await p.users.getSummary(p.org, uid("bob")))?.revokedOn).toEqual(at(10_000_000));
      });

      it("lets one of 10 concurrent revocations, and one of 10 concurrent creations of a device id, through", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice", { user: { profile: "ADMIN" } });
        await seedUser(p, p.org, "bob");
        const revocations = await race(10, (i) => revoke(p, p.org, "bob", at(100 + i)));
        expect(revocations.filter((o) => o === "ok")).toHaveLength(1);
        expect(revocations.filter((o) => o === "already_revoked")).toHaveLength(9);
        expect((await p.users.getSummary(p.org, uid("bob")))?.revokedOn).toEqual(at(100 + revocations.indexOf("ok")));
        const devices = await race(10, (i) => p.uow.run(p.org, (tx) => p.users.createDevice(tx, p.org, device(did("alice@dev2"), { createdOn: at(i) }))));
        expect(devices.filter((o) => o === "ok")).toHaveLength(1);
        expect(devices.filter((o) => o === "already_exists")).toHaveLength(9);
        expect((await p.users.getAuthentication(p.org, did("alice@dev2")))?.device?.device.createdOn).toEqual(at(devices.indexOf("ok")));
      });

      it("shows a transaction its own writes, and nobody after a rollback", async () => {
        const p = await withOrganization();
        const { user: alice } = await seedUser(p, p.org, "alice");
        await runAndRollBack(p.uow, p.org, async (tx) => {
          expect(await p.users.create(tx, p.org, user(uid("bob")), device(did("bob@dev1")))).toBe("ok");
          expect(await p.users.createDevice(tx, p.org, device(did("alice@dev2")))).toBe("ok");
          expect(await p.users.revoke(tx, p.org, uid("alice"), revocation())).toBe("ok");
          expect([...(await p.users.getSummaries(p.org, [uid("alice"), uid("bob")], tx)).keys()].sort()).toEqual(["alice", "bob"]);
          expect((await p.users.getSummary(p.org, uid("alice"), tx))?.revokedOn).toEqual(at(50));
          expect(await p.users.isEmailTaken(p.org, "bob@example.com", at(10), tx)).toBe(true);
        });
        expect((await p.users.getAuthentication(p.org, did("bob@dev1")))?.device).toBeNull();
        expect((await p.users.getAuthentication(p.org, did("alice@dev2")))?.device).toBeNull();
        expect((await p.users.getAuthentication(p.org, did("alice@dev1")))?.device?.user).toEqual(alice);
        expect(await p.users.getSummary(p.org, uid("bob"))).toBeNull();
        expect(summary(await p.users.getSummary(p.org, uid("alice")))).toEqual(summary(alice));
        const bob = user(uid("bob"), { email: "alice@example.com" });
        expect(await p.uow.run(p.org, (tx) => p.users.create(tx, p.org, bob, device(did("bob@dev1"))))).toBe("human_handle_already_taken");
      });
    });

    describe("summaries and emails", () => {
      it("gives one user's summary, or null for an unknown user or organization", async () => {
        const p = await withOrganization();
        const { user: alice } = await seedUser(p, p.org, "alice", { user: { profile: "OUTSIDER", humanHandle: { email: "a@example.com", label: "Alice É." } } });
        const { user: bot } = await seedUser(p, p.org, "bot", { user: { email: null } });
        expect(summary(await p.users.getSummary(p.org, uid("alice")))).toEqual(summary(alice));
        expect(summary(await p.users.getSummary(p.org, uid("bot")))).toEqual(summary(bot));
        expect(await p.users.getSummary(p.org, uid("carol"))).toBeNull();
        expect(await p.users.getSummary(newOrganizationId(), uid("alice"))).toBeNull();
        await seedUser(p, p.org, "admin", { user: { profile: "ADMIN" } });
        await revoke(p, p.org, "alice", at(77.000001), did("admin@dev1"));
        expect(summary(await p.users.getSummary(p.org, uid("alice")))).toEqual({ ...summary(alice), revokedOn: at(77.000001) });
      });

      it("gives the summaries of the users that exist among those asked for", async () => {
        const p = await withOrganization();
        const seeded = [];
        for (const name of ["alice", "bob", "carol"]) seeded.push((await seedUser(p, p.org, name)).user);
        const found = await p.users.getSummaries(p.org, [uid("carol"), uid("nobody"), uid("alice")]);
        expect(found.size).toBe(2);
        expect(summary(found.get(uid("alice")))).toEqual(summary(seeded[0]));
        expect(summary(found.get(uid("carol")))).toEqual(summary(seeded[2]));
        expect(found.has(uid("nobody"))).toBe(false);
        expect((await p.users.getSummaries(p.org, [])).size).toBe(0);
        expect((await p.users.getSummaries(newOrganizationId(), [uid("alice")])).size).toBe(0);
      });

      it("judges an email taken at `now`: revoked at or before it frees the email, a later revocation does not", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice", { user: { profile: "ADMIN", email: "alice@example.com" } });
        await seedUser(p, p.org, "bob", { user: { email: "bob@example.com" } });
        await revoke(p, p.org, "bob", at(100));
        expect(await p.users.isEmailTaken(p.org, "alice@example.com", at(100))).toBe(true);
        expect(await p.users.isEmailTaken(p.org, "bob@example.com", at(99.999999))).toBe(true);
        expect(await p.users.isEmailTaken(p.org, "bob@example.com", at(100))).toBe(false);
        expect(await p.users.isEmailTaken(p.org, "bob@example.com", at(101))).toBe(false);
        expect(await p.users.isEmailTaken(p.org, "carol@example.com", at(100))).toBe(false);
        expect(await p.users.isEmailTaken(p.org, "ALICE@example.com", at(100))).toBe(false);
        expect(await p.users.isEmailTaken(newOrganizationId(), "alice@example.com", at(100))).toBe(false);
      });
    });

    describe("admission facts", () => {
      const facts = (p: Ports, org: OrganizationID, userId: string, email: string | null, now: DateTime, countActiveUsers = true) =>
        p.uow.run(org, (tx) => p.users.admissionFacts(tx, org, { userId: uid(userId), email, now, countActiveUsers }));

      it("counts the users without any revocation, future-dated ones included, and only when asked", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice", { user: { profile: "ADMIN" } });
        await seedUser(p, p.org, "bot", { user: { email: null } });
        await seedUser(p, p.org, "past");
        await seedUser(p, p.org, "future");
        await seedUser(p, p.org, "later", { user: { createdOn: at(10_000_000) } });
        await revoke(p, p.org, "past", at(50));
        await revoke(p, p.org, "future", at(10_000_000));
        expect((await facts(p, p.org, "new", "new@example.com", at(100))).activeUsers).toBe(3);
        expect((await facts(p, p.org, "new", "new@example.com", at(100), false)).activeUsers).toBeNull();
        const empty = (await seedOrganization(p)).id;
        expect(await facts(p, empty, "new", "new@example.com", at(100))).toEqual({ activeUsers: 0, userIdTaken: false, emailTaken: false });
      });

      it("tells whether the user id is taken, revoked users included", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice", { user: { profile: "ADMIN" } });
        await seedUser(p, p.org, "bob");
        await revoke(p, p.org, "bob", at(50));
        expect((await facts(p, p.org, "alice", "x@example.com", at(100))).userIdTaken).toBe(true);
        expect((await facts(p, p.org, "bob", "y@example.com", at(100))).userIdTaken).toBe(true);
        expect((await facts(p, p.org, "carol", null, at(100))).userIdTaken).toBe(false);
      });

      it("judges the email at `now`: revoked at or before it frees the email, a future revocation does not", async () => {
        const p = await withOrganization();
        await seedUser(p, p.org, "alice", { user: { profile: "ADMIN", email: "alice@example.com" } });
        await seedUser(p, p.org, "past", { user: { email: "past@example.com" } });
        await seedUser(p, p.org, "now", { user: { email: "now@example.com" } });
        await seedUser(p, p.org, "future", { user: { email: "future@example.com" } });
        await revoke(p, p.org, "past", at(50));
        await revoke(p, p.org, "now", at(100));
        await revoke(p, p.org, "future", at(100.000001));
        const taken = async (email: string | null) => (await facts(p, p.org, "newcomer", email, at(100))).emailTaken;
        expect(await taken("alice@example.com")).toBe(true);
        expect(await taken("past@example.com")).toBe(false);
        expect(await taken("now@example.com")).toBe(false);
        expect(await taken("future@example.com")).toBe(true);
        expect(await taken("nobody@example.com")).toBe(false);
        expect(await taken(null)).toBe(false);
        const other = (await seedOrganization(p)).id;
        expect((await facts(p, other, "newcomer", "alice@example.com", at(100))).emailTaken).toBe(false);
      });

      it("sees the users created earlier in the same transaction", async () => {
        const p = await withOrganization();
        const seen = await p.uow.run(p.org, async (tx) => {
          await p.users.create(tx, p.org, user(uid("alice"), { email: "alice@example.com" }), device(did("alice@dev1")));
          return p.users.admissionFacts(tx, p.org, { userId: uid("alice"), email: "alice@example.com", now: at(100), countActiveUsers: true });
        });
        expect(seen).toEqual({ activeUsers: 1, userIdTaken: true, emailTaken: true });
      });

      it("lets exactly one of 10 concurrent checked creations with one email through; the others see the email taken", async () => {
        const p = await withOrganization();
        const outcomes = await race(10, (i) =>
          p.uow.run(p.org, async (tx) => {
            const name = `racer${i}`;
            const seen = await p.users.admissionFacts(tx, p.org, { userId: uid(name), email: "race@example.com", now: at(100), countActiveUsers: false });
            if (seen.emailTaken) return "email_taken";
            await pause(1);
            return p.users.create(tx, p.org, user(uid(name), { email: "race@example.com" }), device(did(`${name}@dev1`)));
          }),
        );
        expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
        expect(outcomes.filter((o) => o === "email_taken")).toHaveLength(9);
      });

      it("never exceeds an active users limit under 10 concurrent checked creations", async () => {
        const p = await withOrganization();
        await p.uow.run(p.org, (tx) => p.organizations.update(tx, p.org, { activeUsersLimit: 3 }));
        await seedUser(p, p.org, "alice", { user: { profile: "ADMIN" } });
        const outcomes = await race(10, (i) =>
          p.uow.run(p.org, async (tx) => {
            const name = `racer${i}`;
            const seen = await p.users.admissionFacts(tx, p.org, { userId: uid(name), email: `${name}@example.com`, now: at(100), countActiveUsers: true });
            if (seen.activeUsers! >= 3) return "limit_reached";
            await pause(1);
            return p.users.create(tx, p.org, user(uid(name)), device(did(`${name}@dev1`)));
          }),
        );
        expect(outcomes.filter((o) => o === "ok")).toHaveLength(2);
        expect(outcomes.filter((o) => o === "limit_reached")).toHaveLength(8);
        expect((await p.organizations.stats(p.org, at(1000))).activeUsers).toBe(3);
      });

      it("lets exactly one of 10 concurrent checked creations of one user id through", async () => {
        const p = await withOrganization();
        const outcomes = await race(10, (i) =>
          p.uow.run(p.org, async (tx) => {
            const seen = await p.users.admissionFacts(tx, p.org, { userId: uid("racer"), email: `racer${i}@example.com`, now: at(100), countActiveUsers: false });
            if (seen.userIdTaken) return "user_id_taken";
            await pause(1);
            return p.users.create(tx, p.org, user(uid("racer"), { email: `racer${i}@example.com` }), device(did("racer@dev1"), { createdOn: at(i) }));
          }),
        );
        expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
        expect(outcomes.filter((o) => o === "user_id_taken" || o === "already_exists")).toHaveLength(9);
        const winner = outcomes.indexOf("ok");
        expect((await p.users.getSummary(p.org, uid("racer")))?.humanHandle?.email).toBe(`racer${winner}@example.com`);
      });
    });

    describe("findHumans", () => {
      const NOW = at(100);

      /** Seeds the search's users; returns the expected item of each user id, in `human_find` order. */
      const population = async () => {
        const p = await withOrganization();
        const people: [string, HumanHandle | null][] = [
          ["u-zed", { label: "Zed", email: "z@ex.org" }],
          ["u-alice", { label: "Alice Liddell", email: "alice@wonder.land" }],
          ["nohandle-b", null],
          ["u-bob", { label: "bob Marley", email: "bob@music.org" }],
          ["u-adam2", { label: "adam", email: "adam2@ex.org" }],
          ["u-emoji", { label: "😀 Smiley", email: "smile@ex.org" }],
          ["u-adam1", { label: "Adam", email: "adam1@ex.org" }],
          ["u-emile", { label: "Émile Zola", email: "emile@ex.org" }],
          ["u-fw", { label: "\u{FF21}nna", email: "fw@ex.org" }],
          ["u-pct", { label: "100% sure", email: "pct@ex.org" }],
          ["u-snake", { label: "snake_case fan", email: "snake@ex.org" }],
          ["u-alexcia", { label: "Alexcia Smith", email: "alexcia@ex.org" }],
          ["u-dave", { label: "Dave Gone", email: "dave@ex.org" }],
          ["u-erin", { label: "Erin Later", email: "erin@ex.org" }],
          ["u-frank", { label: "Frank Now", email: "frank@ex.org" }],
          ["zorro", { label: "Mask", email: "m@ex.org" }],
          ["nohandle-a", null],
        ];
        for (const [name, humanHandle] of people) await seedUser(p, p.org, name, { user: { humanHandle, profile: name === "u-alice" ? "ADMIN" : "STANDARD" } });
        await revoke(p, p.org, "u-dave", at(50), did("u-alice@dev1"));
        await revoke(p, p.org, "u-frank", NOW, did("u-alice@dev1"));
        await revoke(p, p.org, "u-erin", at(1000), did("u-alice@dev1"));
        const handles = new Map(people);
        const item = (name: string): HumanFindItem => ({ userId: uid(name), humanHandle: handles.get(name)!, revoked: name === "u-dave" || name === "u-frank" });
        const order = [
          "u-pct",
          "u-adam1",
          "u-adam2",
          "u-alexcia",
          "u-alice",
          "u-bob",
          "u-dave",
          "u-erin",
          "u-frank",
          "zorro",
          "u-snake",
          "u-zed",
          "u-emile",
          "u-fw",
          "u-emoji",
          "nohandle-a",
          "nohandle-b",
        ];
        const find = (s: Partial<HumanSearch>, now = NOW) => p.users.findHumans(p.org, search(s), now);
        const found = async (query: string, s: Partial<HumanSearch> = {}) => (await find({ query, ...s })).results.map((r) => r.userId as string);
        return { ...p, item, order, find, found };
      };

      it("lists everyone without a query: handles first by lower-cased label in code point order, ties and the rest by user id", async () => {
        const s = await population();
        const everyone = { results: s.order.map(s.item), total: s.order.length };
        expect(await s.find({})).toEqual(everyone);
        expect(await s.find({ query: "" })).toEqual(everyone);
        expect(await s.find({ query: "   " })).toEqual(everyone);
      });

      it("finds nobody for a query holding a NUL (no stored text can), rather than failing", async () => {
        const s = await population();
        expect(await s.find({ query: "a\0b" })).toEqual({ results: [], total: 0 });
        expect(await s.find({ query: "\0" })).toEqual({ results: [], total: 0 });
      });

      it("judges revocation at `now`", async () => {
        const s = await population();
        const revokedAt = async (now: DateTime) => (await s.find({}, now)).results.filter((r) => r.revoked).map((r) => r.userId as string).sort();
        expect(await revokedAt(at(49.999999))).toEqual([]);
        expect(await revokedAt(at(99.999999))).toEqual(["u-dave"]);
        expect(await revokedAt(at(100))).toEqual(["u-dave", "u-frank"]);
        expect(await revokedAt(at(1000))).toEqual(["u-dave", "u-erin", "u-frank"]);
      });

      it("finds the query's words in order, ignoring case, in the label or the email", async () => {
        const s = await population();
        expect(await s.found("alice")).toEqual(["u-alice"]);
        expect(await s.found("ALICE")).toEqual(["u-alice"]);
        expect(await s.found("alice liddell")).toEqual(["u-alice"]);
        expect(await s.found("ali   DELL")).toEqual(["u-alice"]);
        expect(await s.found("liddell alice")).toEqual([]);
        expect(await s.found("wonder.land")).toEqual(["u-alice"]);
        expect(await s.found("music")).toEqual(["u-bob"]);
        expect(await s.found("marley bob")).toEqual([]);
        expect(await s.found("adam")).toEqual(["u-adam1", "u-adam2"]);
        expect(await s.found("ÉMILE")).toEqual(["u-emile"]);
        expect(await s.found("\u{FF41}")).toEqual(["u-fw"]);
        expect(await s.found("😀")).toEqual(["u-emoji"]);
        expect(await s.find({ query: "alice" })).toEqual({ results: [s.item("u-alice")], total: 1 });
      });

      it("searches the user id of users without human handle only", async () => {
        const s = await population();
        expect(await s.found("nohandle")).toEqual(["nohandle-a", "nohandle-b"]);
        expect(await s.found("HANDLE-a")).toEqual(["nohandle-a"]);
        expect(await s.found("zorro")).toEqual([]);
        expect(await s.found("u-alice")).toEqual([]);
      });

      it("gives no special meaning to %, _ or \\", async () => {
        const s = await population();
        expect(await s.found("%")).toEqual(["u-pct"]);
        expect(await s.found("0% s")).toEqual(["u-pct"]);
        expect(await s.found("_")).toEqual(["u-snake"]);
        expect(await s.found("e_c")).toEqual(["u-snake"]);
        expect(await s.found("\\")).toEqual([]);
        expect(await s.found("\\%")).toEqual([]);
        expect(await s.found("%%")).toEqual([]);
      });

      it("leaves out users revoked at `now`, or users without human handle, when asked", async () => {
        const s = await population();
        const notRevoked = s.order.filter((name) => name !== "u-dave" && name !== "u-frank");
        expect(await s.find({ omitRevoked: true })).toEqual({ results: notRevoked.map(s.item), total: notRevoked.length });
        const humans = s.order.filter((name) => !name.startsWith("nohandle"));
        expect(await s.find({ omitNonHuman: true })).toEqual({ results: humans.map(s.item), total: humans.length });
        const both = notRevoked.filter((name) => humans.includes(name));
        expect(await s.find({ omitRevoked: true, omitNonHuman: true })).toEqual({ results: both.map(s.item), total: both.length });
        expect(await s.found("gone", { omitRevoked: true })).toEqual([]);
        expect(await s.found("later", { omitRevoked: true })).toEqual(["u-erin"]);
        expect(await s.found("now", { omitRevoked: true })).toEqual([]);
        expect(await s.found("handle", { omitNonHuman: true })).toEqual([]);
      });

      it("cuts pages of `perPage` results, with the total over every page", async () => {
        const s = await population();
        for (let page = 1; page <= 5; page++)
          expect(await s.find({ page, perPage: 5 })).toEqual({ results: s.order.slice((page - 1) * 5, page * 5).map(s.item), total: 17 });
        expect(await s.find({ page: 2, perPage: 1 })).toEqual({ results: [s.item(s.order[1]!)], total: 17 });
        expect(await s.find({ query: "ex.org", page: 2, perPage: 4 })).toEqual({
          results: ["u-dave", "u-erin", "u-frank", "zorro"].map(s.item),
          total: 13,
        });
      });

      it("finds nobody in an unknown organization, and only the users of the organization asked for", async () => {
        const s = await population();
        expect(await s.users.findHumans(newOrganizationId(), search(), NOW)).toEqual({ results: [], total: 0 });
        const other = (await seedOrganization(s)).id;
        await seedUser(s, other, "u-alice", { user: { humanHandle: { label: "Other Alice", email: "alice@wonder.land" } } });
        expect(await s.users.findHumans(other, search({ query: "alice" }), NOW)).toEqual({
          results: [{ userId: uid("u-alice"), humanHandle: { label: "Other Alice", email: "alice@wonder.land" }, revoked: false }],
          total: 1,
        });
        expect(await s.found("other")).toEqual([]);
      });
    });

    describe("trustchain", () => {
      it("reads a user with its devices in creation order and the trustchain behind them", async () => {
        const p = await withOrganization();
        const { user: alice, devices: aliceDevices } = await seedUser(p, p.org, "alice", { user: { profile: "ADMIN", createdOn: at(1) } });
        const { user: carol, devices: carolDevices } = await seedUser(p, p.org, "carol", {
          user: { profile: "ADMIN", createdOn: at(2) },
          certifier: did("alice@dev1"),
        });
        const { user: bob, devices: bobDevices } = await seedUser(p, p.org, "bob", { user: { createdOn: at(3) }, certifier: did("alice@dev1") });
        const bobDev2 = device(did("bob@dev2"), { deviceCertifier: did("bob@dev1"), createdOn: at(4) });
        const bobDev0 = device(did("bob@dev0"), { deviceCertifier: did("bob@dev1"), createdOn: at(5) });
        for (const dev of [bobDev2, bobDev0]) expect(await p.uow.run(p.org, (tx) => p.users.createDevice(tx, p.org, dev))).toBe("ok");
        const r = revocation(at(6), did("carol@dev1"));
        await p.uow.run(p.org, (tx) => p.users.revoke(tx, p.org, uid("bob"), r));
        const revokedBob = revoked(bob, r);

        const read = await p.users.getUserWithDevicesAndTrustchain(p.org, uid("bob"));
        expect(read?.user).toEqual(revokedBob);
        expect(read?.devices).toEqual([bobDevices[0], bobDev2, bobDev0]);
        expect(read?.trustchain).toEqual([
          { user: alice, device: aliceDevices[0] },
          { user: carol, device: carolDevices[0] },
          { user: revokedBob, device: bobDevices[0] },
        ]);

        const root = await p.users.getUserWithDevicesAndTrustchain(p.org, uid("alice"));
        expect(root).toEqual({ user: alice, devices: aliceDevices, trustchain: [] });
      });
    });
  });
}
