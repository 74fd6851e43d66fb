import { describe, expect, it } from "vitest";
import type { Tx } from "../../src/application/ports/index.js";
import { at, bytes, did, newOrganizationId, pause, race, range, runAndRollBack, seedOrganizationWithUsers, uid, useFixture, type Make, type PersistencePorts } from "./fixtures.js";

/** `MessageRepository`: per-recipient inboxes with dense 1-based indexes (also under concurrency and rollbacks), listed oldest first after an offset. */
export function messageRepositoryContract(make: Make<Pick<PersistencePorts, "uow" | "organizations" | "users" | "messages">>): void {
  describe("MessageRepository contract", () => {
    const fixture = useFixture(make);

    /** A fresh organization with users alice, bob and carol. */
    const withUsers = () => seedOrganizationWithUsers(fixture.current(), ["alice", "bob", "carol"]);

    it("indexes each recipient's messages from 1, independently of other recipients", async () => {
      const { uow, messages, org } = await withUsers();
      const post = (recipient: string, n: number) =>
        uow.run(org, (tx) => messages.post(tx, org, uid(recipient), { sender: did("alice@dev1"), timestamp: at(n), body: bytes(`m${n}`) }));
      expect(await post("bob", 1)).toBe(1);
      expect(await post("bob", 2)).toBe(2);
      expect(await post("carol", 3)).toBe(1);
      expect(await post("bob", 4)).toBe(3);
      expect(await post("carol", 5)).toBe(2);
    });

    it("lists a recipient's messages oldest first, with sender, timestamp and body as posted", async () => {
      const { uow, messages, org } = await withUsers();
      const posted = [
        { sender: did("alice@dev1"), timestamp: at(30.000001), body: bytes("first", 32) },
        { sender: did("carol@dev1"), timestamp: at(10), body: bytes("second", 32) },
        { sender: did("alice@dev1"), timestamp: at(20), body: Buffer.alloc(0) },
      ];
      for (const message of posted) await uow.run(org, (tx) => messages.post(tx, org, uid("bob"), message));
      expect(await messages.list(org, uid("bob"), 0)).toEqual(posted.map((message, i) => ({ index: i + 1, ...message })));
    });

    it("skips the first `offset` messages", async () => {
      const { uow, messages, org } = await withUsers();
      for (let n = 1; n <= 5; n++)
        await uow.run(org, (tx) => messages.post(tx, org, uid("bob"), { sender: did("alice@dev1"), timestamp: at(n), body: bytes(`m${n}`) }));
      expect((await messages.list(org, uid("bob"), 2)).map((m) => m.index)).toEqual([3, 4, 5]);
      expect((await messages.list(org, uid("bob"), 4)).map((m) => m.body.toString())).toEqual(["m5"]);
      expect(await messages.list(org, uid("bob"), 5)).toEqual([]);
      expect(await messages.list(org, uid("bob"), 50)).toEqual([]);
    });

    it("gives an empty inbox for a user without messages or an unknown organization", async () => {
      const { uow, messages, org } = await withUsers();
      await uow.run(org, (tx) => messages.post(tx, org, uid("bob"), { sender: did("alice@dev1"), timestamp: at(1), body: bytes("m") }));
      expect(await messages.list(org, uid("carol"), 0)).toEqual([]);
      expect(await messages.list(newOrganizationId(), uid("bob"), 0)).toEqual([]);
    });

    it("keeps inboxes per organization", async () => {
      const p = await withUsers();
      const other = (await seedOrganizationWithUsers(p, ["alice", "bob"])).org;
      await p.uow.run(p.org, (tx) => p.messages.post(tx, p.org, uid("bob"), { sender: did("alice@dev1"), timestamp: at(1), body: bytes("here") }));
      const index = await p.uow.run(other, (tx) => p.messages.post(tx, other, uid("bob"), { sender: did("alice@dev1"), timestamp: at(2), body: bytes("there") }));
      expect(index).toBe(1);
      expect((await p.messages.list(other, uid("bob"), 0)).map((m) => m.body.toString())).toEqual(["there"]);
    });

    it("forgets a rolled-back post: the index is given again", async () => {
      const { uow, messages, org } = await withUsers();
      await uow.run(org, (tx) => messages.post(tx, org, uid("bob"), { sender: did("alice@dev1"), timestamp: at(1), body: bytes("kept") }));
      await runAndRollBack(uow, org, async (tx) => {
        expect(await messages.post(tx, org, uid("bob"), { sender: did("alice@dev1"), timestamp: at(2), body: bytes("lost") })).toBe(2);
      });
      expect((await messages.list(org, uid("bob"), 0)).map((m) => m.body.toString())).toEqual(["kept"]);
      const index = await uow.run(org, (tx) => messages.post(tx, org, uid("bob"), { sender: did("alice@dev1"), timestamp: at(3), body: bytes("again") }));
      expect(index).toBe(2);
    });

    it("gives distinct consecutive indexes to 20 concurrent posts to one recipient, each message at its index", async () => {
      const { uow, messages, org } = await withUsers();
      const indexes = await race(20, (n) =>
        uow.run(org, async (tx) => {
          await pause(1);
          return messages.post(tx, org, uid("bob"), { sender: did("alice@dev1"), timestamp: at(n), body: bytes(`m${n}`) });
        }),
      );
      expect([...indexes].sort((a, b) => a - b)).toEqual(range(1, 20));
      const listed = await messages.list(org, uid("bob"), 0);
      expect(listed.map((m) => m.index)).toEqual(range(1, 20));
      for (const [n, index] of indexes.entries()) expect(listed[index - 1]?.body.toString()).toBe(`m${n}`);
    });

    it("keeps indexes dense per recipient under concurrent posts to several recipients, some rolled back", async () => {
      const { uow, messages, org } = await withUsers();
      const recipients = ["alice", "bob", "carol"] as const;
      const outcomes = await race(30, (n) => {
        const recipient = uid(recipients[n % 3]!);
        const post = (tx: Tx) =>
          messages.post(tx, org, recipient, { sender: did("alice@dev1"), timestamp: at(n), body: bytes(`m${n}`) });
        if (n % 5 === 4) return runAndRollBack(uow, org, post).then(() => null);
        return uow.run(org, post);
      });
      for (const [r, name] of recipients.entries()) {
        const kept = outcomes.filter((index, n) => n % 3 === r && index !== null);
        expect([...kept].sort((a, b) => a! - b!)).toEqual(range(1, kept.length));
        expect((await messages.list(org, uid(name), 0)).map((m) => m.index)).toEqual(range(1, kept.length));
      }
    });
  });
}
