import { describe, expect, it } from "vitest";
import type { Tx } from "../../src/application/ports/index.js";
import type { OrganizationID, UserID } from "../../src/domain/ids.js";
import { INITIAL_CONDUIT, type Conduit, type Invitation } from "../../src/domain/invite/index.js";
import type { DateTime } from "../../src/domain/time.js";
import {
  at,
  newOrganizationId,
  newToken,
  pause,
  race,
  runAndRollBack,
  seedOrganizationWithUsers,
  uid,
  useFixture,
  type Make,
  type PersistencePorts,
} from "./fixtures.js";

type Ports = Pick<PersistencePorts, "uow" | "organizations" | "users" | "invitations">;

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

const deviceInvitation = (greeterUserId: UserID, overrides: Partial<Invitation> = {}): Invitation =>
  invitation(greeterUserId, { type: "DEVICE", claimerEmail: null, ...overrides });

const deleted = (inv: Invitation, on = at(100), reason: "FINISHED" | "CANCELLED" | "ROTTEN" = "CANCELLED"): Invitation => ({
  ...inv,
  status: "DELETED",
  deleted: { on, reason },
});

const bytesOrNull = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b));
const plain = (conduit: Conduit) => ({
  state: conduit.state,
  greeterPayload: bytesOrNull(conduit.greeterPayload),
  claimerPayload: bytesOrNull(conduit.claimerPayload),
  generation: conduit.generation,
  last: conduit.last && { state: conduit.last.state, greeterPayload: Buffer.from(conduit.last.greeterPayload), claimerPayload: Buffer.from(conduit.last.claimerPayload) },
});

/**
 * `InvitationRepository`: creation or reuse (atomic), deletion, status computed from claimer presence, the greeter's
 * active invitations, and the SAS conduit read under the invitation's lock.
 */
export function invitationRepositoryContract(make: Make<Ports>): void {
  describe("InvitationRepository contract", () => {
    const fixture = useFixture(make);

    /** A fresh organization with ADMINs alice and bob, and helpers that each run one transaction. */
    const withGreeters = async () => {
      const p = await seedOrganizationWithUsers(fixture.current(), ["alice", "bob"], { user: { profile: "ADMIN" } });
      const run = <T>(work: (tx: Tx) => Promise<T>, org: OrganizationID = p.org) => p.uow.run(org, work);
      return {
        ...p,
        run,
        create: (inv: Invitation) => run((tx) => p.invitations.createOrReuse(tx, p.org, inv)),
        /** Creates `inv` (checks it was created) and returns it as stored. */
        seed: async (inv: Invitation) => {
          const result = await run((tx) => p.invitations.createOrReuse(tx, p.org, inv));
          expect(result).toEqual({ created: true, invitation: inv });
          return inv;
        },
        remove: (inv: Invitation, on: DateTime = at(100), reason: "FINISHED" | "CANCELLED" | "ROTTEN" = "CANCELLED") =>
          run((tx) => p.invitations.markDeleted(tx, p.org, inv.token, on, reason)),
        presence: (inv: Invitation, connectionId: string, present: boolean) => run((tx) => p.invitations.setClaimerPresence(tx, p.org, inv.token, connectionId, present)),
        status: async (inv: Invitation) => (await p.invitations.get(p.org, inv.token))?.status,
      };
    };

    describe("create, get and list", () => {
      it("answers null for an unknown token or organization", async () => {
        const s = await withGreeters();
        const inv = await s.seed(invitation(uid("alice")));
        expect(await s.invitations.get(s.org, newToken())).toBeNull();
        expect(await s.invitations.get(newOrganizationId(), inv.token)).toBeNull();
      });

      it("round-trips USER and DEVICE invitations, IDLE when created", async () => {
        const s = await withGreeters();
        const user = await s.seed(invitation(uid("alice"), { createdOn: at(10.000001) }));
        const dev = await s.seed(deviceInvitation(uid("bob"), { greeterHumanHandle: null }));
        expect(await s.invitations.get(s.org, user.token)).toEqual(user);
        expect(await s.invitations.get(s.org, dev.token)).toEqual(dev);
      });

      it("marks an invitation deleted, with its date and reason; the deleted invitation is still read", async () => {
        const s = await withGreeters();
        const [a, b] = [await s.seed(invitation(uid("alice"))), await s.seed(deviceInvitation(uid("alice")))];
        await s.remove(a, at(55.5), "FINISHED");
        await s.remove(b, at(56), "ROTTEN");
        expect(await s.invitations.get(s.org, a.token)).toEqual(deleted(a, at(55.5), "FINISHED"));
        expect(await s.invitations.get(s.org, b.token)).toEqual(deleted(b, at(56), "ROTTEN"));
      });

      it("lists the greeter's invitations that are not deleted, oldest first", async () => {
        const s = await withGreeters();
        const third = await s.seed(invitation(uid("alice"), { createdOn: at(30), claimerEmail: "c@example.com" }));
        const first = await s.seed(deviceInvitation(uid("alice"), { createdOn: at(10) }));
        const gone = await s.seed(invitation(uid("alice"), { createdOn: at(15), claimerEmail: "d@example.com" }));
        const bobs = await s.seed(invitation(uid("bob"), { createdOn: at(5) }));
        const second = await s.seed(invitation(uid("alice"), { createdOn: at(20), claimerEmail: "b@example.com" }));
        await s.remove(gone);
        expect(await s.invitations.listActive(s.org, uid("alice"))).toEqual([first, second, third]);
        expect(await s.invitations.listActive(s.org, uid("bob"))).toEqual([bobs]);
        expect(await s.invitations.listActive(s.org, uid("carol"))).toEqual([]);
        expect(await s.invitations.listActive(newOrganizationId(), uid("alice"))).toEqual([]);
      });

      it("shows a transaction its own writes, and undoes them on rollback", async () => {
        const s = await withGreeters();
        const kept = await s.seed(invitation(uid("alice")));
        const fresh = invitation(uid("alice"), { claimerEmail: "new@example.com" });
        await runAndRollBack(s.uow, s.org, async (tx) => {
          expect(await s.invitations.createOrReuse(tx, s.org, fresh)).toEqual({ created: true, invitation: fresh });
          await s.invitations.markDeleted(tx, s.org, kept.token, at(100), "CANCELLED");
          expect(await s.invitations.setClaimerPresence(tx, s.org, fresh.token, "conn-1", true)).toBe("READY");
          expect(await s.invitations.get(s.org, fresh.token, tx)).toEqual({ ...fresh, status: "READY" });
          expect(await s.invitations.get(s.org, kept.token, tx)).toEqual(deleted(kept));
        });
        expect(await s.invitations.get(s.org, fresh.token)).toBeNull();
        expect(await s.invitations.get(s.org, kept.token)).toEqual(kept);
        expect(await s.invitations.listActive(s.org, uid("alice"))).toEqual([kept]);
        expect(await s.create(fresh)).toEqual({ created: true, invitation: fresh });
      });
    });

    describe("createOrReuse", () => {
      it("reuses the greeter's USER invitation for the same email, and writes nothing", async () => {
        const s = await withGreeters();
        const first = await s.seed(invitation(uid("alice")));
        const again = invitation(uid("alice"), { createdOn: at(40) });
        expect(await s.create(again)).toEqual({ created: false, invitation: first });
        expect(await s.invitations.get(s.org, again.token)).toBeNull();
        expect(await s.invitations.listActive(s.org, uid("alice"))).toEqual([first]);
      });

      it("reuses the greeter's DEVICE invitation", async () => {
        const s = await withGreeters();
        const first = await s.seed(deviceInvitation(uid("alice")));
        expect(await s.create(deviceInvitation(uid("alice"), { createdOn: at(40) }))).toEqual({ created: false, invitation: first });
      });

      it("does not reuse another email (compared exactly), another type, or another greeter's invitation", async () => {
        const s = await withGreeters();
        const zack = await s.seed(invitation(uid("alice")));
        const dev = await s.seed(deviceInvitation(uid("alice")));
        await s.seed(invitation(uid("alice"), { claimerEmail: "other@example.com" }));
        await s.seed(invitation(uid("alice"), { claimerEmail: "Zack@example.com" }));
        await s.seed(invitation(uid("bob")));
        await s.seed(deviceInvitation(uid("bob")));
        expect(await s.invitations.listActive(s.org, uid("alice"))).toHaveLength(4);
        expect(await s.invitations.listActive(s.org, uid("bob"))).toHaveLength(2);
        expect((await s.create(invitation(uid("alice")))).invitation).toEqual(zack);
        expect((await s.create(deviceInvitation(uid("alice")))).invitation).toEqual(dev);
      });

      it("does not reuse a deleted invitation", async () => {
        const s = await withGreeters();
        const [user, dev] = [await s.seed(invitation(uid("alice"))), await s.seed(deviceInvitation(uid("alice")))];
        await s.remove(user);
        await s.remove(dev);
        const [newUser, newDev] = [invitation(uid("alice"), { createdOn: at(200) }), deviceInvitation(uid("alice"), { createdOn: at(201) })];
        expect(await s.create(newUser)).toEqual({ created: true, invitation: newUser });
        expect(await s.create(newDev)).toEqual({ created: true, invitation: newDev });
        expect(await s.invitations.listActive(s.org, uid("alice"))).toEqual([newUser, newDev]);
      });

      it("reuses an invitation created earlier in the same transaction", async () => {
        const s = await withGreeters();
        const inv = deviceInvitation(uid("alice"));
        const results = await s.run(async (tx) => [
          await s.invitations.createOrReuse(tx, s.org, inv),
          await s.invitations.createOrReuse(tx, s.org, deviceInvitation(uid("alice"))),
        ]);
        expect(results).toEqual([
          { created: true, invitation: inv },
          { created: false, invitation: inv },
        ]);
      });

      it("hands out a reused invitation with its current status", async () => {
        const s = await withGreeters();
        const inv = await s.seed(invitation(uid("alice")));
        await s.presence(inv, "conn-1", true);
        expect(await s.create(invitation(uid("alice")))).toEqual({ created: false, invitation: { ...inv, status: "READY" } });
      });

      it("keeps invitations per organization", async () => {
        const s = await withGreeters();
        await s.seed(invitation(uid("alice")));
        const other = (await seedOrganizationWithUsers(s, ["alice"], { user: { profile: "ADMIN" } })).org;
        const theirs = invitation(uid("alice"));
        expect(await s.run((tx) => s.invitations.createOrReuse(tx, other, theirs), other)).toEqual({ created: true, invitation: theirs });
        expect(await s.invitations.listActive(other, uid("alice"))).toEqual([theirs]);
      });

      it("creates one invitation for 20 concurrent calls for one claimer email", async () => {
        const s = await withGreeters();
        const candidates = Array.from({ length: 20 }, (_, i) => invitation(uid("alice"), { createdOn: at(10 + i) }));
        const results = await race(candidates.length, (i) =>
          s.run(async (tx) => {
            await pause(1);
            return s.invitations.createOrReuse(tx, s.org, candidates[i]!);
          }),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const winner = candidates[results.findIndex((r) => r.created)]!;
        for (const result of results) expect(result.invitation).toEqual(winner);
        expect(await s.invitations.listActive(s.org, uid("alice"))).toEqual([winner]);
      });

      it("creates one DEVICE invitation for 20 concurrent calls of one greeter", async () => {
        const s = await withGreeters();
        const results = await race(20, (i) => s.create(deviceInvitation(uid("alice"), { createdOn: at(10 + i) })));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.invitation.token)).size).toBe(1);
        expect(await s.invitations.listActive(s.org, uid("alice"))).toHaveLength(1);
      });
    });

    describe("claimer presence and status", () => {
      it("is READY while one connection is present, IDLE once it left", async () => {
        const s = await withGreeters();
        const inv = await s.seed(invitation(uid("alice")));
        expect(await s.presence(inv, "conn-1", true)).toBe("READY");
        expect(await s.status(inv)).toBe("READY");
        expect(await s.invitations.listActive(s.org, uid("alice"))).toEqual([{ ...inv, status: "READY" }]);
        expect(await s.presence(inv, "conn-1", false)).toBe("IDLE");
        expect(await s.invitations.get(s.org, inv.token)).toEqual(inv);
      });

      it("stays READY until the last of two connections leaves", async () => {
        const s = await withGreeters();
        const inv = await s.seed(invitation(uid("alice")));
        expect(await s.presence(inv, "conn-1", true)).toBe("READY");
        expect(await s.presence(inv, "conn-2", true)).toBe("READY");
        expect(await s.presence(inv, "conn-1", false)).toBe("READY");
        expect(await s.status(inv)).toBe("READY");
        expect(await s.presence(inv, "conn-2", false)).toBe("IDLE");
        expect(await s.status(inv)).toBe("IDLE");
      });

      it("counts a connection once, however often it joins, and ignores one leaving that never joined", async () => {
        const s = await withGreeters();
        const inv = await s.seed(invitation(uid("alice")));
        expect(await s.presence(inv, "conn-1", false)).toBe("IDLE");
        await s.presence(inv, "conn-1", true);
        await s.presence(inv, "conn-1", true);
        expect(await s.presence(inv, "conn-2", false)).toBe("READY");
        expect(await s.presence(inv, "conn-1", false)).toBe("IDLE");
        expect(await s.presence(inv, "conn-1", false)).toBe("IDLE");
      });

      it("keeps presence per invitation", async () => {
        const s = await withGreeters();
        const [one, two] = [await s.seed(invitation(uid("alice"))), await s.seed(deviceInvitation(uid("alice")))];
        await s.presence(one, "conn-1", true);
        expect(await s.status(two)).toBe("IDLE");
        expect(await s.presence(two, "conn-1", true)).toBe("READY");
        expect(await s.presence(one, "conn-1", false)).toBe("IDLE");
        expect(await s.status(two)).toBe("READY");
      });

      it("is DELETED once deleted, claimers present or not", async () => {
        const s = await withGreeters();
        const inv = await s.seed(invitation(uid("alice")));
        await s.presence(inv, "conn-1", true);
        await s.remove(inv);
        expect(await s.invitations.get(s.org, inv.token)).toEqual(deleted(inv));
        expect(await s.presence(inv, "conn-2", true)).toBe("DELETED");
        expect(await s.presence(inv, "conn-1", false)).toBe("DELETED");
        expect(await s.presence(inv, "conn-2", false)).toBe("DELETED");
        expect(await s.status(inv)).toBe("DELETED");
        expect(await s.invitations.listActive(s.org, uid("alice"))).toEqual([]);
      });

      it("undoes a presence change that rolls back", async () => {
        const s = await withGreeters();
        const inv = await s.seed(invitation(uid("alice")));
        await runAndRollBack(s.uow, s.org, async (tx) => {
          expect(await s.invitations.setClaimerPresence(tx, s.org, inv.token, "conn-1", true)).toBe("READY");
        });
        expect(await s.status(inv)).toBe("IDLE");
        await s.presence(inv, "conn-1", true);
        await runAndRollBack(s.uow, s.org, async (tx) => {
          expect(await s.invitations.setClaimerPresence(tx, s.org, inv.token, "conn-1", false)).toBe("IDLE");
        });
        expect(await s.status(inv)).toBe("READY");
      });

      it("ends IDLE after 20 concurrent joins then leaves of distinct connections, READY while any remains", async () => {
        const s = await withGreeters();
        const inv = await s.seed(invitation(uid("alice")));
        const joined = await race(20, (i) => s.presence(inv, `conn-${i}`, true));
        expect(new Set(joined)).toEqual(new Set(["READY"]));
        const left = await race(19, (i) => s.presence(inv, `conn-${i}`, false));
        expect(new Set(left)).toEqual(new Set(["READY"]));
        expect(await s.presence(inv, "conn-19", false)).toBe("IDLE");
      });
    });

    describe("conduit", () => {
      it("gives the initial conduit of an invitation never talked through, then the last one saved", async () => {
        const s = await withGreeters();
        const inv = await s.seed(invitation(uid("alice")));
        const conduit = () => s.run((tx) => s.invitations.getConduit(tx, s.org, inv.token));
        expect(plain(await conduit())).toEqual(plain(INITIAL_CONDUIT));
        const talked: Conduit = {
          state: "2_1_CLAIMER_HASHED_NONCE",
          greeterPayload: Buffer.from("greeter"),
          claimerPayload: null,
          generation: 1,
          last: { state: "1_WAIT_PEERS", greeterPayload: Buffer.from("gk"), claimerPayload: new Uint8Array(0) },
        };
        await s.run((tx) => s.invitations.saveConduit(tx, s.org, inv.token, talked));
        expect(plain(await conduit())).toEqual(plain(talked));
        const both: Conduit = { state: "4_COMMUNICATE", greeterPayload: new Uint8Array([1, 2, 3]), claimerPayload: new Uint8Array(0), generation: 9, last: null };
        await s.run((tx) => s.invitations.saveConduit(tx, s.org, inv.token, both));
        expect(plain(await conduit())).toEqual(plain(both));
      });

      it("keeps conduits per invitation and undoes a conduit write on rollback", async () => {
        const s = await withGreeters();
        const [one, two] = [await s.seed(invitation(uid("alice"))), await s.seed(invitation(uid("bob")))];
        const saved: Conduit = { state: "3_1_CLAIMER_TRUST", greeterPayload: null, claimerPayload: Buffer.from("claimer"), generation: 4, last: null };
        await s.run((tx) => s.invitations.saveConduit(tx, s.org, one.token, saved));
        await runAndRollBack(s.uow, s.org, async (tx) => {
          const next: Conduit = {
            state: "3_2_GREETER_TRUST",
            greeterPayload: Buffer.from("x"),
            claimerPayload: null,
            generation: 5,
            last: { state: "3_1_CLAIMER_TRUST", greeterPayload: Buffer.from("y"), claimerPayload: Buffer.from("claimer") },
          };
          await s.invitations.saveConduit(tx, s.org, one.token, next);
          expect(plain(await s.invitations.getConduit(tx, s.org, one.token))).toEqual(plain(next));
        });
        expect(plain(await s.run((tx) => s.invitations.getConduit(tx, s.org, one.token)))).toEqual(plain(saved));
        expect(plain(await s.run((tx) => s.invitations.getConduit(tx, s.org, two.token)))).toEqual(plain(INITIAL_CONDUIT));
      });

      it("keeps the conduit of a deleted invitation readable", async () => {
        const s = await withGreeters();
        const inv = await s.seed(invitation(uid("alice")));
        const saved: Conduit = { state: "2_2_GREETER_NONCE", greeterPayload: Buffer.from("g"), claimerPayload: Buffer.from("c"), generation: 2, last: null };
        await s.run((tx) => s.invitations.saveConduit(tx, s.org, inv.token, saved));
        await s.remove(inv);
        expect(plain(await s.run((tx) => s.invitations.getConduit(tx, s.org, inv.token)))).toEqual(plain(saved));
      });

      it("serialises conduit updates read under the invitation (20 concurrent increments end at 20)", async () => {
        const s = await withGreeters();
        const inv = await s.seed(invitation(uid("alice")));
        await race(20, () =>
          s.run(async (tx) => {
            expect(await s.invitations.get(s.org, inv.token, tx)).not.toBeNull();
            const conduit = await s.invitations.getConduit(tx, s.org, inv.token);
            const count = conduit.greeterPayload === null ? 0 : Buffer.from(conduit.greeterPayload).readUInt32BE(0);
            await pause(1);
            const next = Buffer.alloc(4);
            next.writeUInt32BE(count + 1);
            await s.invitations.saveConduit(tx, s.org, inv.token, { ...conduit, greeterPayload: next });
          }),
        );
        const final = await s.run((tx) => s.invitations.getConduit(tx, s.org, inv.token));
        expect(Buffer.from(final.greeterPayload!).readUInt32BE(0)).toBe(20);
      });

      it("never interleaves a deletion with a conduit step read under the invitation (10 races)", async () => {
        const s = await withGreeters();
        const invs = await Promise.all(Array.from({ length: 10 }, (_, i) => s.seed(invitation(uid("alice"), { claimerEmail: `c${i}@example.com` }))));
        const results = await Promise.all(
          invs.map(async (inv) => {
            const [step, deleterSaw] = await Promise.all([
              s.run(async (tx) => {
                const read = (await s.invitations.get(s.org, inv.token, tx))!;
                if (read.deleted) return "refused";
                await pause(1);
                await s.invitations.saveConduit(tx, s.org, inv.token, { ...INITIAL_CONDUIT, state: "2_1_CLAIMER_HASHED_NONCE", greeterPayload: Buffer.from("g") });
                return "stepped";
              }),
              s.run(async (tx) => {
                await s.invitations.get(s.org, inv.token, tx);
                const conduit = await s.invitations.getConduit(tx, s.org, inv.token);
                await pause(1);
                await s.invitations.markDeleted(tx, s.org, inv.token, at(100), "CANCELLED");
                return conduit.state;
              }),
            ]);
            return { step, deleterSaw, status: await s.status(inv) };
          }),
        );
        for (const { step, deleterSaw, status } of results) {
          expect(status).toBe("DELETED");
          expect(deleterSaw).toBe(step === "stepped" ? "2_1_CLAIMER_HASHED_NONCE" : "1_WAIT_PEERS");
        }
      });
    });
  });
}
