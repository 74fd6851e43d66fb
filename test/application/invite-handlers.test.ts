import { describe, expect, it } from "vitest";
import { inviteClaimerHandlers, inviteGreeterHandlers } from "../../src/adapters/protocol/handlers/invite.js";
import { claimerSession, newInvitation, setupInvites } from "./invite-fixtures.js";
import { handlerContext } from "../support/world.js";

const key = (c: string) => Buffer.alloc(32, c);

describe("invitation handlers (outcome → reply)", () => {
  it("maps invite_new, invite_list, invite_delete and invite_info to their schema replies", async () => {
    const w = await setupInvites();
    const ctx = handlerContext(w.t, w.alice);
    const created = await inviteGreeterHandlers.invite_new(ctx, { cmd: "invite_new", type: "USER", claimer_email: "zack@example.com", send_email: false });
    expect(created).toEqual({ status: "ok", token: expect.any(String), email_sent: "SUCCESS" });
    const token = (created as { token: Parameters<typeof claimerSession>[1] }).token;
    expect(await inviteGreeterHandlers.invite_new(ctx, { cmd: "invite_new", type: "SHAMIR_RECOVERY", claimer_user_id: w.alice.userId, send_email: false })).toEqual({
      status: "shamir_recovery_not_setup",
    });
    expect(await inviteGreeterHandlers.invite_list(ctx)).toEqual({
      status: "ok",
      invitations: [{ type: "USER", token, created_on: w.t.clock.now(), claimer_email: "zack@example.com", status: "IDLE" }],
    });
    const claimer = await claimerSession(w, token, "USER");
    expect(await inviteClaimerHandlers.invite_info({ ...ctx, session: claimer })).toEqual({
      status: "ok",
      type: "USER",
      claimer_email: "zack@example.com",
      greeter_user_id: w.alice.userId,
      greeter_human_handle: w.alice.humanHandle,
    });
    expect(await inviteGreeterHandlers.invite_delete(ctx, { cmd: "invite_delete", token, reason: "CANCELLED" })).toEqual({ status: "ok" });
    expect(await inviteGreeterHandlers.invite_delete(ctx, { cmd: "invite_delete", token, reason: "CANCELLED" })).toEqual({ status: "already_deleted" });
  });

  it("sends no reply for a cancelled step, and the step's fields or bare error status otherwise", async () => {
    const w = await setupInvites();
    const token = await newInvitation(w);
    const claimer = await claimerSession(w, token);
    const controller = new AbortController();
    const waiting = inviteClaimerHandlers.invite_1_claimer_wait_peer(
      handlerContext(w.t, claimer, controller.signal),
      { cmd: "invite_1_claimer_wait_peer", claimer_public_key: key("c") },
    );
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect(await waiting).toBeNull();

    const signal = new AbortController().signal;
    const [claimed, greeter] = await Promise.all([
      inviteClaimerHandlers.invite_1_claimer_wait_peer(
        handlerContext(w.t, claimer, signal),
        { cmd: "invite_1_claimer_wait_peer", greeter_user_id: w.alice.userId, claimer_public_key: key("c") },
      ),
      inviteGreeterHandlers.invite_1_greeter_wait_peer(handlerContext(w.t, w.alice, signal), { cmd: "invite_1_greeter_wait_peer", token, greeter_public_key: key("g") }),
    ]);
    expect(greeter).toEqual({ status: "ok", claimer_public_key: key("c") });
    expect(claimed).toEqual({ status: "ok", greeter_public_key: key("g") });
    expect(
      await inviteGreeterHandlers.invite_3b_greeter_signify_trust(handlerContext(w.t, w.alice, signal), { cmd: "invite_3b_greeter_signify_trust", token }),
    ).toEqual({ status: "invalid_state" });
  });
});
