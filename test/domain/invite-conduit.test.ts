import { describe, expect, it } from "vitest";
import { INITIAL_CONDUIT, conduitListen, conduitTalk, type Conduit, type ConduitListen } from "../../src/domain/invite/index.js";

const b = (s: string) => Buffer.from(s);

const talk = (conduit: Conduit, ...args: Parameters<typeof conduitTalk> extends [Conduit, ...infer R] ? R : never) => {
  const step = conduitTalk(conduit, ...args);
  if (step.kind !== "talked") throw new Error("invalid_state");
  return step;
};

describe("conduit rules", () => {
  it("advances when the second listener sees both payloads; the first talker then receives too", () => {
    const g = talk(INITIAL_CONDUIT, "greeter", "1_WAIT_PEERS", b("G"));
    expect(g.listen.peerPayload).toBeNull();
    expect(conduitListen(g.conduit, g.listen)).toEqual({ kind: "waiting" });
    const c = talk(g.conduit, "claimer", "1_WAIT_PEERS", b("C"));
    expect(c.listen.peerPayload).toEqual(b("G"));
    expect(conduitListen(c.conduit, c.listen)).toEqual({ kind: "waiting" });
    const heard = conduitListen(c.conduit, g.listen);
    expect(heard).toEqual({ kind: "received", peerPayload: b("C"), conduit: { state: "2_1_CLAIMER_HASHED_NONCE", greeterPayload: null, claimerPayload: null } });
    if (heard.kind !== "received") return;
    expect(conduitListen(heard.conduit!, c.listen)).toEqual({ kind: "received", peerPayload: b("G"), conduit: null });
  });

  it("answers invalid_state to a talk in another state, or a second talk in the same state, except at step 1 which resets", () => {
    expect(conduitTalk(INITIAL_CONDUIT, "greeter", "2_1_CLAIMER_HASHED_NONCE", b(""))).toEqual({ kind: "invalid_state" });
    const g = talk(INITIAL_CONDUIT, "greeter", "1_WAIT_PEERS", b("G"));
    const mid: Conduit = { state: "3_1_CLAIMER_TRUST", greeterPayload: b(""), claimerPayload: null };
    expect(conduitTalk(mid, "greeter", "3_1_CLAIMER_TRUST", b(""))).toEqual({ kind: "invalid_state" });
    const reset = talk(mid, "claimer", "1_WAIT_PEERS", b("C2"));
    expect(reset.conduit).toEqual({ state: "1_WAIT_PEERS", greeterPayload: null, claimerPayload: b("C2") });
    expect(reset.listen.peerPayload).toBeNull();
    expect(conduitListen(reset.conduit, g.listen)).toEqual({ kind: "invalid_state" });
    const again = talk(g.conduit, "greeter", "1_WAIT_PEERS", b("G2"));
    expect(again.conduit).toEqual({ state: "1_WAIT_PEERS", greeterPayload: b("G2"), claimerPayload: null });
  });

  it("answers invalid_state to a first talker whose conduit was reset after the peer talked", () => {
    const g = talk(INITIAL_CONDUIT, "greeter", "1_WAIT_PEERS", b("G"));
    const c = talk(g.conduit, "claimer", "1_WAIT_PEERS", b("C"));
    const restarted = talk(c.conduit, "greeter", "1_WAIT_PEERS", b("G2"));
    expect(conduitListen(restarted.conduit, c.listen)).toEqual({ kind: "invalid_state" });
  });

  it("repeats step 4 as many times as needed", () => {
    let conduit: Conduit = { state: "4_COMMUNICATE", greeterPayload: null, claimerPayload: null };
    for (const round of ["a", "b", "c"]) {
      const g = talk(conduit, "greeter", "4_COMMUNICATE", b(`g${round}`));
      const c = talk(g.conduit, "claimer", "4_COMMUNICATE", b(`c${round}`));
      const heard = conduitListen(c.conduit, g.listen as ConduitListen);
      expect(heard).toMatchObject({ kind: "received", peerPayload: b(`c${round}`) });
      if (heard.kind !== "received") return;
      conduit = heard.conduit!;
      expect(conduit.state).toBe("4_COMMUNICATE");
      expect(conduitListen(conduit, c.listen)).toEqual({ kind: "received", peerPayload: b(`g${round}`), conduit: null });
    }
  });

  it("walks the seven states in Parsec's order", () => {
    const states = [] as string[];
    let conduit = INITIAL_CONDUIT;
    for (let i = 0; i < 7; i++) {
      states.push(conduit.state);
      const g = talk(conduit, "greeter", conduit.state, b("g"));
      const c = talk(g.conduit, "claimer", conduit.state, b("c"));
      const heard = conduitListen(c.conduit, g.listen);
      if (heard.kind !== "received") throw new Error(heard.kind);
      conduit = heard.conduit!;
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
  });
});
