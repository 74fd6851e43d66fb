import { describe, expect, it } from "vitest";
import type { UserID } from "../../src/domain/ids.js";
import { INITIAL_CONDUIT, type Conduit, type Invitation } from "../../src/domain/invite/index.js";
import { at, newOrganizationId, newToken, pause, runAndRollBack, seedOrganizationWithUsers, uid, useFixture, type Make, type PersistencePorts } from "./fixtures.js";

const invitation = (greeterUserId: UserID, overrides: Partial<Invitation> = {}): Invitation => ({
  token: newToken(),
  type: "USER",
  greeterUserId,
  greeterHumanHandle: { email: `${greeterUserId}@example.com`, label: `User ${greeterUserId}` },
  claimerEmail: "zack@example.com",
  createdOn: at(10),
  status: "IDLE",
  deleted: null,
  ...overrides,
});

const deleted = (inv: Invitation, on = at(100)): Invitation => ({ ...inv, status: "DELETED", deleted: { on, reason: "CANCELLED" } });

const plain = (conduit: Conduit) => ({
  state: conduit.state,
  greeterPayload: conduit.greeterPayload === null ? null : Buffer.from(conduit.greeterPayload),
  claimerPayload: conduit.claimerPayload === null ? null : Buffer.from(conduit.claimerPayload),
});

/** `InvitationRepository`: invitations by token, the greeter's active ones, reuse lookup, and the SAS conduit. */
export function invitationRepositoryContract(make: Make<Pick<PersistencePorts, "uow" | "organizations" | "users" | "invitations">>): void {
  describe("InvitationRepository contract", () => {
    const fixture = useFixture(make);

    /** A fresh organization with ADMINs alice and bob. */
    const withGreeters = () => seedOrganizationWithUsers(fixture.current(), ["alice", "bob"], { user: { profile: "ADMIN" } });

    it("answers null for an unknown token or organization", async () => {
      const { invitations, org } = await withGreeters();
      const inv = invitation(uid("alice"));
      await invitations.save(org, inv);
      expect(await invitations.get(org, newToken())).toBeNull();
      expect(await invitations.get(newOrganizationId(), inv.token)).toBeNull();
    });

    it("round-trips USER and DEVICE invitations, deleted ones included", async () => {
      const { invitations, org } = await withGreeters();
      const userInvitation = invitation(uid("alice"), { createdOn: at(10.000001) });
      const deviceInvitation = invitation(uid("bob"), { type: "DEVICE", claimerEmail: null, greeterHumanHandle: null, status: "READY" });
      const gone = deleted(invitation(uid("alice"), { claimerEmail: "old@example.com" }), at(55.5));
      for (const inv of [userInvitation, deviceInvitation, gone]) await invitations.save(org, inv);
      expect(await invitations.get(org, userInvitation.token)).toEqual(userInvitation);
      expect(await invitations.get(org, deviceInvitation.token)).toEqual(deviceInvitation);
      expect(await invitations.get(org, gone.token)).toEqual(gone);
    });

    it("replaces the invitation of the same token", async () => {
      const { invitations, org } = await withGreeters();
      const inv = invitation(uid("alice"));
      await invitations.save(org, inv);
      const ready = { ...inv, status: "READY" as const };
      await invitations.save(org, ready);
      expect(await invitations.get(org, inv.token)).toEqual(ready);
      const finished = deleted(ready);
      await invitations.save(org, finished);
      expect(await invitations.get(org, inv.token)).toEqual(finished);
    });

    it("shows a transaction its own writes, and undoes them on rollback", async () => {
      const { uow, invitations, org } = await withGreeters();
      const kept = invitation(uid("alice"));
      await invitations.save(org, kept);
      const fresh = invitation(uid("alice"), { claimerEmail: "new@example.com" });
      await runAndRollBack(uow, org, async (tx) => {
        await invitations.save(org, fresh, tx);
        await invitations.save(org, deleted(kept), tx);
        expect(await invitations.get(org, fresh.token, tx)).toEqual(fresh);
        expect(await invitations.get(org, kept.token, tx)).toEqual(deleted(kept));
      });
      expect(await invitations.get(org, fresh.token)).toBeNull();
      expect(await invitations.get(org, kept.token)).toEqual(kept);
      expect(await invitations.listActive(org, uid("alice"))).toEqual([kept]);
    });

    it("keeps the writes of a committed transaction", async () => {
      const { uow, invitations, org } = await withGreeters();
      const inv = invitation(uid("alice"));
      await uow.run(org, (tx) => invitations.save(org, inv, tx));
      expect(await invitations.get(org, inv.token)).toEqual(inv);
    });

    it("lists the greeter's invitations that are not deleted, oldest first", async () => {
      const { invitations, org } = await withGreeters();
      const third = invitation(uid("alice"), { createdOn: at(30), claimerEmail: "c@example.com" });
      const first = invitation(uid("alice"), { createdOn: at(10), type: "DEVICE", claimerEmail: null });
      const second = invitation(uid("alice"), { createdOn: at(20), claimerEmail: "b@example.com" });
      const gone = deleted(invitation(uid("alice"), { createdOn: at(15), claimerEmail: "d@example.com" }));
      const bobs = invitation(uid("bob"), { createdOn: at(5) });
      for (const inv of [third, first, gone, bobs, second]) await invitations.save(org, inv);
      expect(await invitations.listActive(org, uid("alice"))).toEqual([first, second, third]);
      expect(await invitations.listActive(org, uid("bob"))).toEqual([bobs]);
      expect(await invitations.listActive(org, uid("carol"))).toEqual([]);
      expect(await invitations.listActive(newOrganizationId(), uid("alice"))).toEqual([]);
    });

    it("finds the oldest reusable invitation: same greeter and type, same email for USER, not deleted", async () => {
      const { uow, invitations, org } = await withGreeters();
      const newer = invitation(uid("alice"), { createdOn: at(40) });
      const older = invitation(uid("alice"), { createdOn: at(20) });
      const oldestDeleted = deleted(invitation(uid("alice"), { createdOn: at(10) }));
      const otherEmail = invitation(uid("alice"), { createdOn: at(5), claimerEmail: "other@example.com" });
      const otherGreeter = invitation(uid("bob"), { createdOn: at(5) });
      const deviceOfAlice = invitation(uid("alice"), { type: "DEVICE", claimerEmail: null, createdOn: at(30) });
      for (const inv of [newer, older, oldestDeleted, otherEmail, otherGreeter, deviceOfAlice]) await invitations.save(org, inv);
      const find = (request: Parameters<typeof invitations.findReusable>[2]) => uow.run(org, (tx) => invitations.findReusable(tx, org, request));
      expect(await find({ greeterUserId: uid("alice"), type: "USER", claimerEmail: "zack@example.com" })).toEqual(older);
      expect(await find({ greeterUserId: uid("alice"), type: "USER", claimerEmail: "Zack@example.com" })).toBeNull();
      expect(await find({ greeterUserId: uid("alice"), type: "DEVICE", claimerEmail: null })).toEqual(deviceOfAlice);
      expect(await find({ greeterUserId: uid("bob"), type: "DEVICE", claimerEmail: null })).toBeNull();
      expect(await find({ greeterUserId: uid("bob"), type: "USER", claimerEmail: "zack@example.com" })).toEqual(otherGreeter);
    });

    it("finds invitations saved earlier in the same transaction", async () => {
      const { uow, invitations, org } = await withGreeters();
      const inv = invitation(uid("alice"), { type: "DEVICE", claimerEmail: null });
      const found = await uow.run(org, async (tx) => {
        await invitations.save(org, inv, tx);
        return invitations.findReusable(tx, org, { greeterUserId: uid("alice"), type: "DEVICE", claimerEmail: null });
      });
      expect(found).toEqual(inv);
    });

    it("gives the initial conduit of an invitation never talked through, then the last one saved", async () => {
      const { uow, invitations, org } = await withGreeters();
      const inv = invitation(uid("alice"));
      await invitations.save(org, inv);
      expect(plain(await uow.run(org, (tx) => invitations.getConduit(tx, org, inv.token)))).toEqual(plain(INITIAL_CONDUIT));
      const talked: Conduit = { state: "2_1_CLAIMER_HASHED_NONCE", greeterPayload: Buffer.from("greeter"), claimerPayload: null };
      await uow.run(org, (tx) => invitations.saveConduit(tx, org, inv.token, talked));
      expect(plain(await uow.run(org, (tx) => invitations.getConduit(tx, org, inv.token)))).toEqual(plain(talked));
      const both: Conduit = { state: "4_COMMUNICATE", greeterPayload: new Uint8Array([1, 2, 3]), claimerPayload: new Uint8Array(0) };
      await uow.run(org, (tx) => invitations.saveConduit(tx, org, inv.token, both));
      expect(plain(await uow.run(org, (tx) => invitations.getConduit(tx, org, inv.token)))).toEqual(plain(both));
    });

    it("keeps conduits per invitation and undoes a conduit write on rollback", async () => {
      const { uow, invitations, org } = await withGreeters();
      const [one, two] = [invitation(uid("alice")), invitation(uid("bob"))];
      for (const inv of [one, two]) await invitations.save(org, inv);
      const saved: Conduit = { state: "3_1_CLAIMER_TRUST", greeterPayload: null, claimerPayload: Buffer.from("claimer") };
      await uow.run(org, (tx) => invitations.saveConduit(tx, org, one.token, saved));
      await runAndRollBack(uow, org, async (tx) => {
        const next: Conduit = { state: "3_2_GREETER_TRUST", greeterPayload: Buffer.from("x"), claimerPayload: null };
        await invitations.saveConduit(tx, org, one.token, next);
        expect(plain(await invitations.getConduit(tx, org, one.token))).toEqual(plain(next));
      });
      expect(plain(await uow.run(org, (tx) => invitations.getConduit(tx, org, one.token)))).toEqual(plain(saved));
      expect(plain(await uow.run(org, (tx) => invitations.getConduit(tx, org, two.token)))).toEqual(plain(INITIAL_CONDUIT));
    });

    it("serialises conduit updates read under the invitation (20 concurrent increments end at 20)", async () => {
      const { uow, invitations, org } = await withGreeters();
      const inv = invitation(uid("alice"));
      await invitations.save(org, inv);
      const increment = () =>
        uow.run(org, async (tx) => {
          expect(await invitations.get(org, inv.token, tx)).not.toBeNull();
          const conduit = await invitations.getConduit(tx, org, inv.token);
          const count = conduit.greeterPayload === null ? 0 : Buffer.from(conduit.greeterPayload).readUInt32BE(0);
          await pause(1);
          const next = Buffer.alloc(4);
          next.writeUInt32BE(count + 1);
          await invitations.saveConduit(tx, org, inv.token, { ...conduit, greeterPayload: next });
        });
      await Promise.all(Array.from({ length: 20 }, increment));
      const final = await uow.run(org, (tx) => invitations.getConduit(tx, org, inv.token));
      expect(Buffer.from(final.greeterPayload!).readUInt32BE(0)).toBe(20);
    });
  });
}
