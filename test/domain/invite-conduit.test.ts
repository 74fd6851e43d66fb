import { describe, expect, it } from "vitest";
import { INITIAL_CONDUIT, conduitListen, conduitTalk, conduitWithdraw, type Conduit, type ConduitListen, type ConduitState } from "../../src/domain/invite/index.js";

const b = (s: string) => Buffer.from(s);

/** Talks first: posted (throws otherwise). */
const post = (conduit: Conduit, side: "greeter" | "claimer", state: ConduitState, payload: Buffer): { conduit: Conduit; listen: ConduitListen } => {
  const step = conduitTalk(conduit, side, state, payload);
  if (step.kind !== "posted") throw new Error(`expected posted, got ${step.kind}`);
  return step;
};

/** Talks second: completed (throws otherwise). */
const complete = (conduit: Conduit, side: "greeter" | "claimer", state: ConduitState, payload: Buffer): { conduit: Conduit; peerPayload: Uint8Array } => {
  const step = conduitTalk(conduit, side, state, payload);
  if (step.kind !== "completed") throw new Error(`expected completed, got ${step.kind}`);
  return step;
};

describe("conduit rules", () => {
  it("completes an exchange at the second talk: the second talker gets the first's payload at once, the first then receives", () => {
    const g = post(INITIAL_CONDUIT, "greeter", "1_WAIT_PEERS", b("G"));
    expect(g.conduit).toMatchObject({ state: "1_WAIT_PEERS", greeterPayload: b("G"), claimerPayload: null, generation: 0 });
    expect(conduitListen(g.conduit, g.listen)).toEqual({ kind: "waiting" });
    const c = complete(g.conduit, "claimer", "1_WAIT_PEERS", b("C"));
    expect(c.peerPayload).toEqual(b("G"));
    expect(c.conduit).toEqual({
      state: "2_1_CLAIMER_HASHED_NONCE",
      greeterPayload: null,
      claimerPayload: null,
      generation: 1,
      last: { state: "1_WAIT_PEERS", greeterPayload: b("G"), claimerPayload: b("C") },
    });
    expect(conduitListen(c.conduit, g.listen)).toEqual({ kind: "received", peerPayload: b("C") });
  });

  it("lets the first talker receive as long as the next exchange has not completed, even if the peer already talked in it", () => {
    const g = post(INITIAL_CONDUIT, "greeter", "1_WAIT_PEERS", b("G"));
    const c = complete(g.conduit, "claimer", "1_WAIT_PEERS", b("C"));
    const ahead = post(c.conduit, "claimer", "2_1_CLAIMER_HASHED_NONCE", b("hash"));
    expect(conduitListen(ahead.conduit, g.listen)).toEqual({ kind: "received", peerPayload: b("C") });
  });

  it("answers invalid_state to a talk in another state, or a second talk in the same state, except at step 1 which resets", () => {
    expect(conduitTalk(INITIAL_CONDUIT, "greeter", "2_2_GREETER_NONCE", b(""))).toEqual({ kind: "invalid_state" });
    expect(conduitTalk(INITIAL_CONDUIT, "greeter", "3_1_CLAIMER_TRUST", b(""))).toEqual({ kind: "invalid_state" });
    const g = post(INITIAL_CONDUIT, "greeter", "1_WAIT_PEERS", b("G"));
    const mid: Conduit = { state: "3_1_CLAIMER_TRUST", greeterPayload: b(""), claimerPayload: null, generation: 5, last: null };
    expect(conduitTalk(mid, "greeter", "3_1_CLAIMER_TRUST", b(""))).toEqual({ kind: "invalid_state" });
    const reset = post(mid, "claimer", "1_WAIT_PEERS", b("C2"));
    expect(reset.conduit).toEqual({ state: "1_WAIT_PEERS", greeterPayload: null, claimerPayload: b("C2"), generation: 6, last: null });
    expect(conduitListen(reset.conduit, g.listen)).toEqual({ kind: "invalid_state" });
    const again = post(g.conduit, "greeter", "1_WAIT_PEERS", b("G2"));
    expect(again.conduit).toEqual({ state: "1_WAIT_PEERS", greeterPayload: b("G2"), claimerPayload: null, generation: 1, last: null });
    expect(conduitListen(again.conduit, g.listen)).toEqual({ kind: "invalid_state" });
  });

  it("tells a side that talks the step after the conduit's current one to wait (not_yet)", () => {
    const g = post(INITIAL_CONDUIT, "greeter", "1_WAIT_PEERS", b("G"));
    const c = complete(g.conduit, "claimer", "1_WAIT_PEERS", b("C"));
    const hashed = post(c.conduit, "claimer", "2_1_CLAIMER_HASHED_NONCE", b("hash"));
    expect(conduitTalk(hashed.conduit, "claimer", "2_2_GREETER_NONCE", b(""))).toEqual({ kind: "not_yet" });
    // The side that has not posted in the current step waits too (its previous command may still post for it).
    expect(conduitTalk(hashed.conduit, "greeter", "2_2_GREETER_NONCE", b("n"))).toEqual({ kind: "not_yet" });
    // Two steps ahead, or a step behind, stays invalid.
    expect(conduitTalk(hashed.conduit, "claimer", "2_3_CLAIMER_NONCE", b("n"))).toEqual({ kind: "invalid_state" });
    expect(conduitTalk(hashed.conduit, "claimer", "1_WAIT_PEERS", b("k"))).toMatchObject({ kind: "posted" });
    // Once the peer answers, the next step is a normal talk.
    const answered = complete(hashed.conduit, "greeter", "2_1_CLAIMER_HASHED_NONCE", b(""));
    expect(conduitTalk(answered.conduit, "claimer", "2_2_GREETER_NONCE", b(""))).toMatchObject({ kind: "posted" });
  });

  it("answers invalid_state to a first talker whose conduit was reset after the peer talked, or whose exchange is two moves behind", () => {
    const g = post(INITIAL_CONDUIT, "greeter", "1_WAIT_PEERS", b("G"));
    const c = complete(g.conduit, "claimer", "1_WAIT_PEERS", b("C"));
    const restarted = post(c.conduit, "greeter", "1_WAIT_PEERS", b("G2"));
    expect(conduitListen(restarted.conduit, g.listen)).toEqual({ kind: "invalid_state" });
    const two = complete(post(c.conduit, "claimer", "2_1_CLAIMER_HASHED_NONCE", b("h")).conduit, "greeter", "2_1_CLAIMER_HASHED_NONCE", b(""));
    expect(conduitListen(two.conduit, g.listen)).toEqual({ kind: "invalid_state" });
  });

  it("withdraws the payload of a side that stopped waiting, unless its exchange completed or the conduit moved on", () => {
    const g = post(INITIAL_CONDUIT, "greeter", "1_WAIT_PEERS", b("G"));
    expect(conduitWithdraw(g.conduit, g.listen)).toEqual(INITIAL_CONDUIT);
    const c = complete(g.conduit, "claimer", "1_WAIT_PEERS", b("C"));
    expect(conduitWithdraw(c.conduit, g.listen)).toBeNull();
    const restarted = post(INITIAL_CONDUIT, "claimer", "1_WAIT_PEERS", b("K"));
    expect(conduitWithdraw({ ...restarted.conduit, generation: 3 }, restarted.listen)).toBeNull();
  });

  it("repeats step 4 as many times as needed, telling rounds apart by generation even with equal payloads", () => {
    let conduit: Conduit = { state: "4_COMMUNICATE", greeterPayload: null, claimerPayload: null, generation: 12, last: null };
    for (const round of ["a", "b", "b"]) {
      const g = post(conduit, "greeter", "4_COMMUNICATE", b(`g${round}`));
      expect(conduitListen(g.conduit, g.listen)).toEqual({ kind: "waiting" });
      const c = complete(g.conduit, "claimer", "4_COMMUNICATE", b(`c${round}`));
      expect(c.peerPayload).toEqual(b(`g${round}`));
      expect(conduitListen(c.conduit, g.listen)).toEqual({ kind: "received", peerPayload: b(`c${round}`) });
      conduit = c.conduit;
      expect(conduit.state).toBe("4_COMMUNICATE");
    }
    expect(conduit.generation).toBe(15);
  });

  it("walks the seven states in Parsec's order", () => {
    const states = [] as string[];
    let conduit = INITIAL_CONDUIT;
    for (let i = 0; i < 7; i++) {
      states.push(conduit.state);
      const g = post(conduit, "greeter", conduit.state, b("g"));
      conduit = complete(g.conduit, "claimer", conduit.state, b("c")).conduit;
    }
    expect(states).toEqual([
      "1_WAIT_PEERS",
      "2_1_CLAIMER_HASHED_NONCE",
      "2_2_GREETER_NONCE",
      "2_3_CLAIMER_NONCE",
      "3_1_CLAIMER_TRUST",
      "3_2_GREETER_TRUST",
      "4_COMMUNICATE",
    ]);
    expect(conduit.state).toBe("4_COMMUNICATE");
    expect(conduit.generation).toBe(7);
  });
});
