import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connectAuthenticated, connectInvited, expectSession, type ParsecSession, type WireMap } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { startTestServer, testStorage, type TestServer } from "../support/server.js";
import { aliceOptions, createBootstrappedOrganization, uniqueOrganizationId, within } from "./helpers.js";
import { bounded, rpc, wireToken } from "./users-invitations-helpers.js";

/**
 * A claimer's connection closing in the middle of the SAS exchange. As in Parsec v2.16.3, only
 * `invite_1_claimer_wait_peer` (and `events_listen`) are cancelled by a closing connection: any other step runs to
 * completion server-side, so that the greeter is not left waiting and the claimer, reconnected, goes on with the next
 * step. Runs on every storage of the run (memory, PostgreSQL).
 */
describe.skipIf(!fixtures)(`claimer connections dropped during the SAS exchange (${testStorage()})`, () => {
  const f = fixtures!;
  let server: TestServer;
  let organizationId: string;
  let greeter: ParsecSession<"authenticated">;
  const sessions: ParsecSession<"authenticated" | "invited">[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    organizationId = await createBootstrappedOrganization(server, f, uniqueOrganizationId("Drops"));
  });

  // A fresh greeter connection per test: a test that fails while a greeter step waits leaves it busy.
  beforeEach(async () => {
    greeter = expectSession(await bounded(connectAuthenticated(aliceOptions(server, f, organizationId)), "greeter's handshake"));
    sessions.push(greeter);
  });

  afterAll(async () => {
    await Promise.allSettled(sessions.map((s) => within(2_000, s.close(), "closing a session")));
    await server?.stop();
    expect(server?.loggedErrors ?? []).toEqual([]);
  });

  const newInvitation = async (): Promise<string> => {
    const reply = await rpc(greeter, "invite_new", { type: "DEVICE", send_email: false });
    expect(reply["status"]).toBe("ok");
    return (reply["token"] as { hex: string }).hex;
  };

  const claimerOn = async (token: string): Promise<ParsecSession<"invited">> => {
    const session = expectSession(
      await bounded(connectInvited({ url: server.wsUrl, organizationId, invitationType: "DEVICE", token, timeoutMs: 5_000 }), "claimer's handshake"),
    );
    sessions.push(session);
    return session;
  };

  /** One step of each side, sent as a pair; `claimer` fields, `greeter` fields (the token is added). */
  interface Pair {
    readonly name: string;
    readonly claimer: readonly [string, WireMap];
    readonly greeter: readonly [string, WireMap];
  }

  const exchange = (): Pair[] => {
    const claimerNonce = randomBytes(64);
    return [
      { name: "1", claimer: ["invite_1_claimer_wait_peer", { claimer_public_key: randomBytes(32) }], greeter: ["invite_1_greeter_wait_peer", { greeter_public_key: randomBytes(32) }] },
      {
        name: "2a",
        claimer: ["invite_2a_claimer_send_hashed_nonce", { claimer_hashed_nonce: createHash("sha256").update(claimerNonce).digest() }],
        greeter: ["invite_2a_greeter_get_hashed_nonce", {}],
      },
      { name: "2b", claimer: ["invite_2b_claimer_send_nonce", { claimer_nonce: claimerNonce }], greeter: ["invite_2b_greeter_send_nonce", { greeter_nonce: randomBytes(64) }] },
      { name: "3a", claimer: ["invite_3a_claimer_signify_trust", {}], greeter: ["invite_3a_greeter_wait_peer_trust", {}] },
      { name: "3b", claimer: ["invite_3b_claimer_wait_peer_trust", {}], greeter: ["invite_3b_greeter_signify_trust", {}] },
      { name: "4", claimer: ["invite_4_claimer_communicate", { payload: randomBytes(100) }], greeter: ["invite_4_greeter_communicate", { payload: Buffer.alloc(0) }] },
      { name: "4 again", claimer: ["invite_4_claimer_communicate", { payload: Buffer.alloc(0) }], greeter: ["invite_4_greeter_communicate", { payload: randomBytes(100) }] },
    ];
  };

  /** Runs each side's steps in order, both sides at once (a side's step may need the peer's next one to complete). */
  const chains = async (claimer: ParsecSession<"invited">, token: string, pairs: readonly Pair[]): Promise<void> => {
    const run = async (side: "claimer" | "greeter") => {
      for (const pair of pairs) {
        const [cmd, fields] = pair[side];
        const reply = side === "claimer" ? await rpc(claimer, cmd, fields) : await rpc(greeter, cmd, { token: wireToken(token), ...fields });
        expect(reply["status"], `${side} ${cmd}`).toBe("ok");
      }
    };
    await bounded(Promise.all([run("claimer"), run("greeter")]), `steps ${pairs.map((p) => p.name).join(", ")}`);
  };

  it("the sequence measured against Parsec: claimer drops in 2a after the greeter's 2a returned; both 2b then answer ok", async () => {
    const token = await newInvitation();
    const [one, twoA, twoB, ...rest] = exchange();
    let claimer = await claimerOn(token);
    await chains(claimer, token, [one!]);
    // The claimer's 2a gives its hashed nonce, then waits for the greeter's nonce (2b) on the same command.
    const pending = claimer.send(twoA!.claimer[0], twoA!.claimer[1]);
    pending.catch(() => undefined);
    expect(await rpc(greeter, twoA!.greeter[0], { token: wireToken(token) })).toMatchObject({ status: "ok" });
    await claimer.close();
    claimer = await claimerOn(token);
    const [claimer2b, greeter2b] = await bounded(
      Promise.all([rpc(claimer, twoB!.claimer[0], twoB!.claimer[1]), rpc(greeter, twoB!.greeter[0], { token: wireToken(token), ...twoB!.greeter[1] })]),
      "both 2b",
    );
    expect(claimer2b).toEqual({ status: "ok" });
    expect(greeter2b).toMatchObject({ status: "ok", claimer_nonce: twoB!.claimer[1]["claimer_nonce"] });
    await chains(claimer, token, rest);
  });

  // Each claimer step that waits for the greeter (the greeter not having sent its matching step yet).
  for (const dropAt of ["2a", "3a", "3b", "4", "4 again"])
    it(`a claimer dropped while its step ${dropAt} waits: the greeter's step ${dropAt} completes, and a new claimer connection goes on`, async () => {
      const token = await newInvitation();
      const pairs = exchange();
      let claimer = await claimerOn(token);
      const at = pairs.findIndex((p) => p.name === dropAt);
      await chains(claimer, token, pairs.slice(0, at));
      const dropped = pairs[at]!;
      const pending = claimer.send(dropped.claimer[0], dropped.claimer[1]);
      pending.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await claimer.close();
      claimer = await claimerOn(token);
      const greeterReply = await rpc(greeter, dropped.greeter[0], { token: wireToken(token), ...dropped.greeter[1] });
      expect(greeterReply["status"]).toBe("ok");
      if (dropped.claimer[0] === "invite_4_claimer_communicate") expect(greeterReply["payload"]).toEqual(dropped.claimer[1]["payload"]);
      await chains(claimer, token, pairs.slice(at + 1));
    });

  it("invite_1_claimer_wait_peer is cancelled by its connection closing: a new claimer restarts the exchange", async () => {
    const token = await newInvitation();
    const [one, ...rest] = exchange();
    const first = await claimerOn(token);
    const pending = first.send(one!.claimer[0], one!.claimer[1]);
    pending.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await first.close();
    const claimer = await claimerOn(token);
    await chains(claimer, token, [{ ...one!, claimer: ["invite_1_claimer_wait_peer", { claimer_public_key: randomBytes(32) }] }, ...rest]);
  });

  it("a new request on the same connection waits for a step in flight instead of cancelling it (not cancellable)", async () => {
    const token = await newInvitation();
    const [one, twoA] = exchange();
    const claimer = await claimerOn(token);
    await chains(claimer, token, [one!]);
    const settled: string[] = [];
    const waiting = claimer.send(twoA!.claimer[0], twoA!.claimer[1]).finally(() => settled.push("2a"));
    const info = claimer.send("invite_info").finally(() => settled.push("info"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Nothing answered yet: the step waits for the greeter, the next request waits for the step.
    expect(settled).toEqual([]);
    expect((await rpc(greeter, twoA!.greeter[0], { token: wireToken(token) }))["status"]).toBe("ok");
    // The claimer's 2a then waits for the greeter's nonce (its second half), which the greeter's 2b gives.
    const greeter2b = greeter.send("invite_2b_greeter_send_nonce", { token: wireToken(token), greeter_nonce: randomBytes(64) });
    greeter2b.catch(() => undefined);
    expect(await bounded(waiting, "the claimer's 2a")).toMatchObject({ status: "ok" });
    expect(await bounded(info, "invite_info after the step")).toMatchObject({ status: "ok", type: "DEVICE" });
    expect(settled).toEqual(["2a", "info"]);
  });
});
