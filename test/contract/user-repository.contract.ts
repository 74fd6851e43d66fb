import { describe, expect, it } from "vitest";
import type { UserRevocation } from "../../src/application/ports/index.js";
import { DeviceLabel } from "../../src/domain/ids.js";
import type { User, UserSummary } from "../../src/domain/user/index.js";
import {
  at,
  bytes,
  device,
  did,
  newOrganizationId,
  runAndRollBack,
  seedOrganization,
  seedUser,
  uid,
  user,
  useFixture,
  type Make,
  type PersistencePorts,
} from "./fixtures.js";

const summary = (u: UserSummary): UserSummary => ({ userId: u.userId, humanHandle: u.humanHandle, profile: u.profile, revokedOn: u.revokedOn });

const label = (raw: string): DeviceLabel => {
  const parsed = DeviceLabel.parse(raw);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

const revocation = (revokedOn = at(50), certifier = did("alice@dev1")): UserRevocation => ({ revokedOn, certificate: bytes("revoked-user-certificate", 16), certifier });

/** `UserRepository`: users and devices, the store's last word on duplicates, revocation, trustchain reads. */
export function userRepositoryContract(make: Make<Pick<PersistencePorts, "uow" | "organizations" | "users">>): void {
  describe("UserRepository contract", () => {
    const fixture = useFixture(make);

    const withOrganization = async () => {
      const p = fixture.current();
      const org = await seedOrganization(p);
      return { ...p, org: org.id };
    };

    it("creates a user with its first device and reads them back", async () => {
      const { uow, users, org } = await withOrganization();
      const alice = user(uid("alice"), { profile: "ADMIN", createdOn: at(3.5) });
      const dev = device(did("alice@dev1"), { deviceLabel: label("Laptop of Alice"), createdOn: at(3.5) });
      expect(await uow.run(org, (tx) => users.create(tx, org, alice, dev))).toBe("ok");
      expect(await users.getUserWithDevice(org, dev.deviceId)).toEqual({ user: alice, device: dev });
    });

    it("answers null for an unknown device, user or organization", async () => {
      const p = await withOrganization();
      await seedUser(p, p.org, "alice");
      expect(await p.users.getUserWithDevice(p.org, did("alice@dev2"))).toBeNull();
      expect(await p.users.getUserWithDevice(p.org, did("bob@dev1"))).toBeNull();
      expect(await p.users.getUserWithDevice(newOrganizationId(), did("alice@dev1"))).toBeNull();
      expect(await p.users.getUserWithDevicesAndTrustchain(p.org, uid("bob"))).toBeNull();
      expect(await p.users.getUserWithDevicesAndTrustchain(newOrganizationId(), uid("alice"))).toBeNull();
      expect(await p.users.listUserSummaries(newOrganizationId())).toEqual([]);
    });

    it("refuses a taken user id (already_exists) and writes nothing of the second attempt", async () => {
      const p = await withOrganization();
      const { user: alice } = await seedUser(p, p.org, "alice");
      const again = user(uid("alice"), { email: "other@example.com" });
      const outcome = await p.uow.run(p.org, (tx) => p.users.create(tx, p.org, again, device(did("alice@dev9"))));
      expect(outcome).toBe("already_exists");
      expect(await p.users.getUserWithDevice(p.org, did("alice@dev9"))).toBeNull();
      expect((await p.users.getUserWithDevice(p.org, did("alice@dev1")))?.user).toEqual(alice);
    });

    it("refuses an email held by a user without revocation (human_handle_already_taken)", async () => {
      const p = await withOrganization();
      await seedUser(p, p.org, "alice", { user: { email: "shared@example.com" } });
      const bob = user(uid("bob"), { email: "shared@example.com" });
      expect(await p.uow.run(p.org, (tx) => p.users.create(tx, p.org, bob, device(did("bob@dev1"))))).toBe("human_handle_already_taken");
      expect(await p.users.getUserWithDevice(p.org, did("bob@dev1"))).toBeNull();
      expect((await p.users.listUserSummaries(p.org)).map((u) => u.userId)).toEqual(["alice"]);
    });

    it("accepts the email of a revoked user, and users without human handle", async () => {
      const p = await withOrganization();
      await seedUser(p, p.org, "alice", { user: { email: "shared@example.com" } });
      await p.uow.run(p.org, (tx) => p.users.revoke(tx, p.org, uid("alice"), revocation()));
      const bob = user(uid("bob"), { email: "shared@example.com" });
      expect(await p.uow.run(p.org, (tx) => p.users.create(tx, p.org, bob, device(did("bob@dev1"))))).toBe("ok");
      for (const name of ["nobody1", "nobody2"])
        expect(await p.uow.run(p.org, (tx) => p.users.create(tx, p.org, user(uid(name), { email: null }), device(did(`${name}@dev1`))))).toBe("ok");
    });

    it("keeps emails and user ids per organization", async () => {
      const p = await withOrganization();
      await seedUser(p, p.org, "alice", { user: { email: "shared@example.com" } });
      const other = (await seedOrganization(p)).id;
      const alice = user(uid("alice"), { email: "shared@example.com" });
      expect(await p.uow.run(other, (tx) => p.users.create(tx, other, alice, device(did("alice@dev1"))))).toBe("ok");
    });

    it("lets exactly one of concurrent creations with one email through", async () => {
      const p = await withOrganization();
      const names = Array.from({ length: 10 }, (_, i) => `racer${i}`);
      const outcomes = await Promise.all(
        names.map((name) =>
          p.uow.run(p.org, (tx) => p.users.create(tx, p.org, user(uid(name), { email: "race@example.com" }), device(did(`${name}@dev1`)))),
        ),
      );
      expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
      expect(outcomes.filter((o) => o === "human_handle_already_taken")).toHaveLength(9);
      expect(await p.users.listUserSummaries(p.org)).toHaveLength(1);
    });

    it("adds devices to an existing user; user_not_found and already_exists otherwise", async () => {
      const p = await withOrganization();
      const { user: alice } = await seedUser(p, p.org, "alice");
      const dev2 = device(did("alice@dev2"), { deviceCertifier: did("alice@dev1"), createdOn: at(5) });
      expect(await p.uow.run(p.org, (tx) => p.users.createDevice(tx, p.org, dev2))).toBe("ok");
      expect(await p.users.getUserWithDevice(p.org, dev2.deviceId)).toEqual({ user: alice, device: dev2 });
      expect(await p.uow.run(p.org, (tx) => p.users.createDevice(tx, p.org, device(did("alice@dev2"))))).toBe("already_exists");
      expect((await p.users.getUserWithDevice(p.org, dev2.deviceId))?.device).toEqual(dev2);
      expect(await p.uow.run(p.org, (tx) => p.users.createDevice(tx, p.org, device(did("bob@dev1"))))).toBe("user_not_found");
      expect(await p.users.getUserWithDevice(p.org, did("bob@dev1"))).toBeNull();
    });

    it("records a revocation; not_found and already_revoked otherwise", async () => {
      const p = await withOrganization();
      await seedUser(p, p.org, "alice", { user: { profile: "ADMIN" } });
      const { user: bob } = await seedUser(p, p.org, "bob", { certifier: did("alice@dev1") });
      const revoked = revocation(at(60.25));
      expect(await p.uow.run(p.org, (tx) => p.users.revoke(tx, p.org, uid("bob"), revoked))).toBe("ok");
      const expected: User = { ...bob, revokedOn: revoked.revokedOn, revokedUserCertificate: revoked.certificate, revokedUserCertifier: revoked.certifier };
      expect((await p.users.getUserWithDevice(p.org, did("bob@dev1")))?.user).toEqual(expected);
      expect(await p.uow.run(p.org, (tx) => p.users.revoke(tx, p.org, uid("bob"), revocation(at(70))))).toBe("already_revoked");
      expect((await p.users.getUserWithDevice(p.org, did("bob@dev1")))?.user).toEqual(expected);
      expect(await p.uow.run(p.org, (tx) => p.users.revoke(tx, p.org, uid("carol"), revocation()))).toBe("not_found");
    });

    it("lists every user in creation order, revoked ones included", async () => {
      const p = await withOrganization();
      const created: User[] = [];
      for (const [i, name] of ["zoe", "adam", "mike"].entries()) created.push((await seedUser(p, p.org, name, { user: { createdOn: at(10 + i), profile: i === 1 ? "OUTSIDER" : "STANDARD" } })).user);
      await p.uow.run(p.org, (tx) => p.users.revoke(tx, p.org, uid("adam"), revocation(at(40))));
      const listed = await p.users.listUserSummaries(p.org);
      expect(listed.map(summary)).toEqual([
        summary(created[0]!),
        { ...summary(created[1]!), revokedOn: at(40) },
        summary(created[2]!),
      ]);
    });

    it("shows a transaction its own writes, and nobody after a rollback", async () => {
      const p = await withOrganization();
      const { user: alice } = await seedUser(p, p.org, "alice");
      await runAndRollBack(p.uow, p.org, async (tx) => {
        expect(await p.users.create(tx, p.org, user(uid("bob")), device(did("bob@dev1")))).toBe("ok");
        expect(await p.users.createDevice(tx, p.org, device(did("alice@dev2")))).toBe("ok");
        expect(await p.users.revoke(tx, p.org, uid("alice"), revocation())).toBe("ok");
        expect((await p.users.listUserSummaries(p.org, tx)).map((u) => u.userId)).toEqual(["alice", "bob"]);
      });
      expect(await p.users.getUserWithDevice(p.org, did("bob@dev1"))).toBeNull();
      expect(await p.users.getUserWithDevice(p.org, did("alice@dev2"))).toBeNull();
      expect((await p.users.getUserWithDevice(p.org, did("alice@dev1")))?.user).toEqual(alice);
      expect((await p.users.listUserSummaries(p.org)).map(summary)).toEqual([summary(alice)]);
      const bob = user(uid("bob"), { email: "alice@example.com" });
      expect(await p.uow.run(p.org, (tx) => p.users.create(tx, p.org, bob, device(did("bob@dev1"))))).toBe("human_handle_already_taken");
    });

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
      const revoked = revocation(at(6), did("carol@dev1"));
      await p.uow.run(p.org, (tx) => p.users.revoke(tx, p.org, uid("bob"), revoked));
      const revokedBob: User = { ...bob, revokedOn: revoked.revokedOn, revokedUserCertificate: revoked.certificate, revokedUserCertifier: revoked.certifier };

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
}
