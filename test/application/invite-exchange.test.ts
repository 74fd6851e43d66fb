import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import type { AuthenticatedSession, InvitedSession } from "../../src/application/index.js";
import type { InvitationToken, UserID } from "../../src/domain/ids.js";
import { claimerSession, newInvitation, otherUser, setupInvites, type InviteWorld } from "./invite-fixtures.js";

const b = (s: string) => Buffer.from(s);
const key = (c: string) => Buffer.alloc(32, c);
const never = () => new AbortController().signal;
/** Lets pending promise chains run (the memory adapters never touch timers). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

const setup = async () => {
  const w = await setupInvites();
  const token = await newInvitation(w);
  const claimer = await claimerSession(w, token);
  return { w, token, claimer, app: w.t.app };
};

/** The greeter's side of a full exchange, steps 1 to 4 with two step-4 rounds; returns what it received. */
const greeterSide = async (w: InviteWorld, greeter: AuthenticatedSession, token: InvitationToken, signal = never()) => {
  const app = w.t.app;
  const s1 = await app.greeterWaitPeer(greeter, { token, greeterPublicKey: key("g") }, signal);
  const s2a = await app.greeterGetHashedNonce(greeter, { token }, signal);
  const s2b = await app.greeterSendNonce(greeter, { token, greeterNonce: b("greeter-nonce") }, signal);
  const s3a = await app.greeterWaitPeerTrust(greeter, { token }, signal);
  const s3b = await app.greeterSignifyTrust(greeter, { token }, signal);
  const s4a = await app.greeterCommunicate(greeter, { token, payload: b("user-certificates") }, signal);
  const s4b = await app.greeterCommunicate(greeter, { token, payload: b("") }, signal);
  return [s1, s2a, s2b, s3a, s3b, s4a, s4b];
};

/** The claimer's side of the same exchange. */
const claimerSide = async (w: InviteWorld, claimer: InvitedSession, greeterUserId: UserID | null, signal = never()) => {
  const app = w.t.app;
  const s1 = await app.claimerWaitPeer(claimer, { greeterUserId, claimerPublicKey: key("c") }, signal);
  const s2a = await app.claimerSendHashedNonce(claimer, { greeterUserId, claimerHashedNonce: key("h") }, signal);
  const s2b = await app.claimerSendNonce(claimer, { greeterUserId, claimerNonce: b("claimer-nonce") }, signal);
  const s3a = await app.claimerSignifyTrust(claimer, { greeterUserId }, signal);
  const s3b = await app.claimerWaitPeerTrust(claimer, { greeterUserId }, signal);
  const s4a = await app.claimerCommunicate(claimer, { greeterUserId, payload: b("device-keys") }, signal);
  const s4b = await app.claimerCommunicate(claimer, { greeterUserId, payload: b("done") }, signal);
  return [s1, s2a, s2b, s3a, s3b, s4a, s4b];
};

const GREETER_RECEIVES = [
  { kind: "ok", claimerPublicKey: key("c") },
  { kind: "ok", claimerHashedNonce: key("h") },
  { kind: "ok", claimerNonce: b("claimer-nonce") },
  { kind: "ok" },
  { kind: "ok" },
  { kind: "ok", payload: b("device-keys") },
  { kind: "ok", payload: b("done") },
];
const CLAIMER_RECEIVES = [
  { kind: "ok", greeterPublicKey: key("g") },
  { kind: "ok", greeterNonce: b("greeter-nonce") },
  { kind: "ok" },
  { kind: "ok" },
  { kind: "ok" },
  { kind: "ok", payload: b("user-certificates") },
  { kind: "ok", payload: b("") },
];

describe("SAS exchange", () => {
  it("runs the four steps between two concurrent peers and swaps every payload", async () => {
    const { w, token, claimer } = await setup();
    const [greeter, claimed] = await Promise.all([greeterSide(w, w.alice, token), claimerSide(w, claimer, w.alice.userId)]);
    expect(greeter).toEqual(GREETER_RECEIVES);
    expect(claimed).toEqual(CLAIMER_RECEIVES);
    expect(w.bus.live).toBe(0);
    // Each exchange writes the conduit twice: the first talker's post, the second talker's completion.
    expect(w.t.published.filter((e) => e.type === "invite.conduit_updated").length).toBe(2 * 8);
  });

  it("works whichever peer arrives first, and for a claimer that omits greeter_user_id (clients before API 2.9)", async () => {
    const { w, token, claimer } = await setup();
    const claiming = claimerSide(w, claimer, null);
    await settle();
    const greeting = greeterSide(w, w.alice, token);
    expect(await Promise.all([greeting, claiming])).toEqual([GREETER_RECEIVES, CLAIMER_RECEIVES]);
  });

  it("leaves the invitation alone at the end: the greeter deletes it (FINISHED) once the claim is done", async () => {
    const { w, token, claimer } = await setup();
    await Promise.all([greeterSide(w, w.alice, token), claimerSide(w, claimer, w.alice.userId)]);
    expect((await w.t.deps.invitations.get(w.org.organizationId, token))!.deleted).toBeNull();
    expect(await w.t.app.deleteInvitation(w.alice, { token, reason: "FINISHED" })).toEqual({ kind: "ok" });
  });

  it("lets the claimer start over at step 1 mid-exchange: the waiting greeter gets invalid_state, restarts, and both complete", async () => {
    const { w, token, claimer, app } = await setup();
    const [g1, c1] = await Promise.all([
      app.greeterWaitPeer(w.alice, { token, greeterPublicKey: key("g") }, never()),
      app.claimerWaitPeer(claimer, { greeterUserId: w.alice.userId, claimerPublicKey: key("c") }, never()),
    ]);
    expect([g1.kind, c1.kind]).toEqual(["ok", "ok"]);

    const greeterWaiting = app.greeterGetHashedNonce(w.alice, { token }, never());
    await settle();
    const claimerAgain = claimerSide(w, claimer, w.alice.userId);
    expect(await greeterWaiting).toEqual({ kind: "invalid_state" });

    expect(await Promise.all([greeterSide(w, w.alice, token), claimerAgain])).toEqual([GREETER_RECEIVES, CLAIMER_RECEIVES]);
    expect(w.bus.live).toBe(0);
  });

  it("answers invalid_state to a step that does not match the conduit's, without waiting", async () => {
    const { w, token, claimer, app } = await setup();
    expect(await app.greeterSendNonce(w.alice, { token, greeterNonce: b("n") }, never())).toEqual({ kind: "invalid_state" });
    expect(await app.claimerSignifyTrust(claimer, { greeterUserId: null }, never())).toEqual({ kind: "invalid_state" });
    expect(w.bus.live).toBe(0);
  });

  it("supersedes a waiting step 1 by a new step 1 of the same side, which answers invalid_state to the first", async () => {
    const { w, token, claimer, app } = await setup();
    const first = app.greeterWaitPeer(w.alice, { token, greeterPublicKey: key("1") }, never());
    await settle();
    const second = app.greeterWaitPeer(w.alice, { token, greeterPublicKey: key("2") }, never());
    expect(await first).toEqual({ kind: "invalid_state" });
    const claimed = await app.claimerWaitPeer(claimer, { greeterUserId: null, claimerPublicKey: key("c") }, never());
    expect(claimed).toEqual({ kind: "ok", greeterPublicKey: key("2") });
    expect(await second).toEqual({ kind: "ok", claimerPublicKey: key("c") });
  });

  it("wakes a waiting peer with already_deleted when the invitation is deleted", async () => {
    const { w, token, claimer, app } = await setup();
    const greeterWaiting = app.greeterWaitPeer(w.alice, { token, greeterPublicKey: key("g") }, never());
    await settle();
    expect(await app.deleteInvitation(w.alice, { token, reason: "CANCELLED" })).toEqual({ kind: "ok" });
    expect(await greeterWaiting).toEqual({ kind: "already_deleted" });

    const other = await newInvitation(w, w.alice, "USER");
    const otherClaimer = await claimerSession(w, other, "USER");
    const claimerWaiting = app.claimerWaitPeer(otherClaimer, { greeterUserId: null, claimerPublicKey: key("c") }, never());
    await settle();
    await app.deleteInvitation(w.alice, { token: other, reason: "CANCELLED" });
    expect(await claimerWaiting).toEqual({ kind: "already_deleted" });
    expect(claimer.invitation.token).toBe(token);
    expect(w.bus.live).toBe(0);
  });
});

describe("SAS exchange across a gap in the event bus", () => {
  /** Records when `promise` settles, to tell a waiting step from a finished one. */
  const track = <T>(promise: Promise<T>) => {
    const state: { done: boolean; value?: T } = { done: false };
    void promise.then((value) => Object.assign(state, { done: true, value }));
    return state;
  };

  it("a waiting step whose peer's update event was lost re-reads the conduit on a gap and completes", async () => {
    const { w, token, claimer, app } = await setup();
    const greeter = track(app.greeterWaitPeer(w.alice, { token, greeterPublicKey: key("g") }, never()));
    await settle();
    w.bus.swallow = (event) => event.type === "invite.conduit_updated";
    const claimed = track(app.claimerWaitPeer(claimer, { greeterUserId: null, claimerPublicKey: key("c") }, never()));
    for (let i = 0; i < 5; i++) await settle();
    await w.t.events.idle();
    expect(w.t.published.filter((e) => e.type === "invite.conduit_updated").length).toBeGreaterThanOrEqual(2);
    // The claimer talked second: it completed the exchange at once. The greeter waits for the update it missed.
    expect([greeter.done, claimed.done]).toEqual([false, true]);
    w.bus.gap(w.org.organizationId);
    for (let i = 0; i < 20 && !(greeter.done && claimed.done); i++) await settle();
    expect(greeter).toEqual({ done: true, value: { kind: "ok", claimerPublicKey: key("c") } });
    expect(claimed).toEqual({ done: true, value: { kind: "ok", greeterPublicKey: key("g") } });
    expect(w.bus.live).toBe(0);
  });

  it("a gap with nothing new leaves the step waiting for its peer", async () => {
    const { w, token, claimer, app } = await setup();
    const greeter = track(app.greeterWaitPeer(w.alice, { token, greeterPublicKey: key("g") }, never()));
    await settle();
    w.bus.gap(w.org.organizationId);
    for (let i = 0; i < 5; i++) await settle();
    expect(greeter.done).toBe(false);
    expect(w.bus.live).toBe(1);
    expect(await app.claimerWaitPeer(claimer, { greeterUserId: null, claimerPublicKey: key("c") }, never())).toEqual({ kind: "ok", greeterPublicKey: key("g") });
    for (let i = 0; i < 20 && !greeter.done; i++) await settle();
    expect(greeter).toEqual({ done: true, value: { kind: "ok", claimerPublicKey: key("c") } });
    expect(w.bus.live).toBe(0);
  });

  it("a step waiting when its invitation is deleted and the event lost answers already_deleted on a gap", async () => {
    const { w, token, app } = await setup();
    const greeter = track(app.greeterWaitPeer(w.alice, { token, greeterPublicKey: key("g") }, never()));
    await settle();
    w.bus.swallow = () => true;
    expect(await app.deleteInvitation(w.alice, { token, reason: "CANCELLED" })).toEqual({ kind: "ok" });
    for (let i = 0; i < 5; i++) await settle();
    expect(greeter.done).toBe(false);
    w.bus.gap(w.org.organizationId);
    for (let i = 0; i < 20 && !greeter.done; i++) await settle();
    expect(greeter).toEqual({ done: true, value: { kind: "already_deleted" } });
  });
});

describe("SAS exchange cancellation", () => {
  it("resolves cancelled when the signal aborts a waiting step, leaving no listener behind", async () => {
    const { w, token, claimer, app } = await setup();
    expect(w.bus.live).toBe(0);
    const controller = new AbortController();
    const waiting = app.claimerWaitPeer(claimer, { greeterUserId: null, claimerPublicKey: key("c") }, controller.signal);
    await settle();
    expect(w.bus.live).toBe(1);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort();
    expect(await waiting).toEqual({ kind: "cancelled" });
    expect(w.bus.live).toBe(0);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);

    const greeterController = new AbortController();
    const greeterWaiting = app.greeterWaitPeer(w.alice, { token, greeterPublicKey: key("g") }, greeterController.signal);
    await settle();
    greeterController.abort();
    expect(await greeterWaiting).toEqual({ kind: "cancelled" });
    expect(w.bus.live).toBe(0);
  });

  it("does nothing for an already aborted signal", async () => {
    const { w, token, app } = await setup();
    const before = w.t.published.length;
    expect(await app.greeterWaitPeer(w.alice, { token, greeterPublicKey: key("g") }, AbortSignal.abort())).toEqual({ kind: "cancelled" });
    expect(w.t.published.length).toBe(before);
    expect(w.bus.live).toBe(0);
  });

  it("removes its abort listener from a signal that outlives the exchange", async () => {
    const { w, token, claimer } = await setup();
    const greeterSignal = new AbortController().signal;
    const claimerSignal = new AbortController().signal;
    await Promise.all([greeterSide(w, w.alice, token, greeterSignal), claimerSide(w, claimer, null, claimerSignal)]);
    expect(getEventListeners(greeterSignal, "abort")).toHaveLength(0);
    expect(getEventListeners(claimerSignal, "abort")).toHaveLength(0);
    expect(w.bus.live).toBe(0);
  });

  it("lets a cancelled claimer start again at step 1 (as a Parsec client does)", async () => {
    const { w, token, claimer, app } = await setup();
    const controller = new AbortController();
    const waiting = app.claimerWaitPeer(claimer, { greeterUserId: null, claimerPublicKey: key("x") }, controller.signal);
    await settle();
    controller.abort();
    expect(await waiting).toEqual({ kind: "cancelled" });
    const claiming = claimerSide(w, claimer, null);
    await settle();
    expect(await Promise.all([greeterSide(w, w.alice, token), claiming])).toEqual([GREETER_RECEIVES, CLAIMER_RECEIVES]);
  });
});

/** Each of the twelve commands, called with harmless inputs. */
const greeterCommands = (w: InviteWorld, greeter: AuthenticatedSession, token: InvitationToken) => {
  const app = w.t.app;
  const s = never();
  return {
    invite_1_greeter_wait_peer: () => app.greeterWaitPeer(greeter, { token, greeterPublicKey: key("g") }, s),
    invite_2a_greeter_get_hashed_nonce: () => app.greeterGetHashedNonce(greeter, { token }, s),
    invite_2b_greeter_send_nonce: () => app.greeterSendNonce(greeter, { token, greeterNonce: b("n") }, s),
    invite_3a_greeter_wait_peer_trust: () => app.greeterWaitPeerTrust(greeter, { token }, s),
    invite_3b_greeter_signify_trust: () => app.greeterSignifyTrust(greeter, { token }, s),
    invite_4_greeter_communicate: () => app.greeterCommunicate(greeter, { token, payload: b("p") }, s),
  };
};
const claimerCommands = (w: InviteWorld, claimer: InvitedSession, greeterUserId: UserID | null) => {
  const app = w.t.app;
  const s = never();
  return {
    invite_1_claimer_wait_peer: () => app.claimerWaitPeer(claimer, { greeterUserId, claimerPublicKey: key("c") }, s),
    invite_2a_claimer_send_hashed_nonce: () => app.claimerSendHashedNonce(claimer, { greeterUserId, claimerHashedNonce: key("h") }, s),
    invite_2b_claimer_send_nonce: () => app.claimerSendNonce(claimer, { greeterUserId, claimerNonce: b("n") }, s),
    invite_3a_claimer_signify_trust: () => app.claimerSignifyTrust(claimer, { greeterUserId }, s),
    invite_3b_claimer_wait_peer_trust: () => app.claimerWaitPeerTrust(claimer, { greeterUserId }, s),
    invite_4_claimer_communicate: () => app.claimerCommunicate(claimer, { greeterUserId, payload: b("p") }, s),
  };
};

describe("SAS exchange error statuses of every command", () => {
  it("not_found: unknown token or another greeter's invitation (greeter); a greeter_user_id that is not the greeter (claimer)", async () => {
    const { w, claimer } = await setup();
    const bob = otherUser(w, "bob", { profile: "ADMIN" });
    const bobs = await newInvitation(w, bob);
    for (const [name, call] of [
      ...Object.entries(greeterCommands(w, w.alice, "0123456789abcdef0123456789abcdef" as InvitationToken)),
      ...Object.entries(greeterCommands(w, w.alice, bobs)),
      ...Object.entries(claimerCommands(w, claimer, bob.userId)),
    ])
      expect([name, await call()]).toEqual([name, { kind: "not_found" }]);
    expect(w.bus.live).toBe(0);
  });

  it("already_deleted: the invitation was deleted", async () => {
    const { w, token, claimer, app } = await setup();
    await app.deleteInvitation(w.alice, { token, reason: "ROTTEN" });
    for (const [name, call] of [...Object.entries(greeterCommands(w, w.alice, token)), ...Object.entries(claimerCommands(w, claimer, w.alice.userId))])
      expect([name, await call()]).toEqual([name, { kind: "already_deleted" }]);
  });

  it("invalid_state: every step but 1 on a fresh conduit; step 1 when superseded while waiting", async () => {
    const { w, token, claimer } = await setup();
    const greeter = greeterCommands(w, w.alice, token);
    const claimed = claimerCommands(w, claimer, null);
    for (const [name, call] of [...Object.entries(greeter), ...Object.entries(claimed)]) {
      if (name.startsWith("invite_1_")) continue;
      expect([name, await call()]).toEqual([name, { kind: "invalid_state" }]);
    }
    const app = w.t.app;
    const supersede = async (start: (payload: Buffer, signal: AbortSignal) => Promise<unknown>) => {
      const first = start(key("1"), never());
      await settle();
      const controller = new AbortController();
      const second = start(key("2"), controller.signal);
      expect(await first).toEqual({ kind: "invalid_state" });
      controller.abort();
      expect(await second).toEqual({ kind: "cancelled" });
    };
    await supersede((greeterPublicKey, signal) => app.greeterWaitPeer(w.alice, { token, greeterPublicKey }, signal));
    await supersede((claimerPublicKey, signal) => app.claimerWaitPeer(claimer, { greeterUserId: null, claimerPublicKey }, signal));
    expect(w.bus.live).toBe(0);
  });
});
