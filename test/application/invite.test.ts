import { describe, expect, it } from "vitest";
import type { EmailSender, OutgoingEmail } from "../../src/application/ports/index.js";
import { DateTime } from "../../src/domain/time.js";
import { claimerSession, newInvitation, otherUser, setupInvites, statusEvents } from "./invite-fixtures.js";

describe("invite_new", () => {
  it("creates a USER invitation with a 16-byte random token, publishes IDLE, sends no email unless asked", async () => {
    const w = await setupInvites();
    const outcome = await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "zack@example.com", sendEmail: false });
    expect(outcome).toEqual({ kind: "ok", token: expect.stringMatching(/^[0-9a-f]{32}$/), emailSent: "SUCCESS" });
    if (outcome.kind !== "ok") return;
    expect(statusEvents(w)).toEqual([[outcome.token, "IDLE", w.alice.userId]]);
    expect(w.t.sentEmails).toEqual([]);
    expect(await w.t.deps.invitations.get(w.org.organizationId, outcome.token)).toMatchObject({
      type: "USER",
      greeterUserId: w.alice.userId,
      greeterHumanHandle: w.alice.humanHandle,
      claimerEmail: "zack@example.com",
      createdOn: w.t.clock.now(),
      status: "IDLE",
      deleted: null,
    });
  });

  it("answers not_allowed to a USER invitation by a STANDARD or OUTSIDER user, who may still invite a device", async () => {
    const w = await setupInvites();
    for (const profile of ["STANDARD", "OUTSIDER"] as const) {
      const greeter = otherUser(w, profile.toLowerCase(), { profile });
      expect(await w.t.app.inviteNew(greeter, { type: "USER", claimerEmail: "zack@example.com", sendEmail: false })).toEqual({ kind: "not_allowed" });
      expect((await w.t.app.inviteNew(greeter, { type: "DEVICE", sendEmail: false })).kind).toBe("ok");
    }
  });

  it("answers already_member for the email of a user not revoked, ok once that user is revoked", async () => {
    const w = await setupInvites();
    otherUser(w, "bob", { stored: true });
    expect(await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "bob@example.com", sendEmail: true })).toEqual({ kind: "already_member" });
    expect(await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "alice@example.com", sendEmail: false })).toEqual({ kind: "already_member" });
    expect(w.t.sentEmails).toEqual([]);
    expect(statusEvents(w)).toEqual([]);

    otherUser(w, "bob", { stored: true, revokedOn: w.t.clock.now() });
    expect((await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "bob@example.com", sendEmail: false })).kind).toBe("ok");
  });

  it("counts a revocation dated in the future as not yet effective", async () => {
    const w = await setupInvites();
    otherUser(w, "bob", { stored: true, revokedOn: w.t.clock.now().addSeconds(60) });
    expect(await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "bob@example.com", sendEmail: false })).toEqual({ kind: "already_member" });
  });

  it("reuses the greeter's invitation not deleted for the same claimer email, without a new event", async () => {
    const w = await setupInvites();
    const first = await newInvitation(w, w.alice, "USER", "zack@example.com");
    w.t.clock.advance(10);
    expect(await newInvitation(w, w.alice, "USER", "zack@example.com")).toBe(first);
    const other = await newInvitation(w, w.alice, "USER", "other@example.com");
    expect(other).not.toBe(first);
    expect(statusEvents(w).map(([token]) => token)).toEqual([first, other]);

    const bobAdmin = otherUser(w, "bob", { profile: "ADMIN" });
    expect(await newInvitation(w, bobAdmin, "USER", "zack@example.com")).not.toBe(first);

    expect(await w.t.app.deleteInvitation(w.alice, { token: first, reason: "FINISHED" })).toEqual({ kind: "ok" });
    const renewed = await newInvitation(w, w.alice, "USER", "zack@example.com");
    expect(renewed).not.toBe(first);
  });

  it("creates one invitation for two concurrent calls for one claimer email (one token, one IDLE event)", async () => {
    const w = await setupInvites();
    const request = { type: "USER", claimerEmail: "zack@example.com", sendEmail: false } as const;
    const outcomes = await Promise.all([w.t.app.inviteNew(w.alice, request), w.t.app.inviteNew(w.alice, request)]);
    const tokens = outcomes.map((o) => (o.kind === "ok" ? o.token : o.kind));
    expect(tokens[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(tokens[1]).toBe(tokens[0]);
    expect(statusEvents(w)).toEqual([[tokens[0], "IDLE", w.alice.userId]]);
    expect((await w.t.app.listInvitations(w.alice)).invitations.map((i) => i.token)).toEqual([tokens[0]]);
    const devices = await Promise.all([1, 2, 3].map(() => w.t.app.inviteNew(w.alice, { type: "DEVICE", sendEmail: false })));
    expect(new Set(devices.map((o) => (o.kind === "ok" ? o.token : o.kind))).size).toBe(1);
    expect((await w.t.app.listInvitations(w.alice)).invitations).toHaveLength(2);
  });

  it("reuses the greeter's DEVICE invitation not deleted, and no USER invitation for it", async () => {
    const w = await setupInvites();
    const user = await newInvitation(w, w.alice, "USER");
    const device = await newInvitation(w, w.alice, "DEVICE");
    expect(device).not.toBe(user);
    expect(await newInvitation(w, w.alice, "DEVICE")).toBe(device);
    await w.t.app.deleteInvitation(w.alice, { token: device, reason: "CANCELLED" });
    expect(await newInvitation(w, w.alice, "DEVICE")).not.toBe(device);
  });

  it("answers shamir_recovery_not_setup to SHAMIR_RECOVERY (no Shamir setup is stored) and creates nothing", async () => {
    const w = await setupInvites();
    const bob = otherUser(w, "bob", { stored: true });
    for (const sendEmail of [false, true])
      expect(await w.t.app.inviteNew(w.alice, { type: "SHAMIR_RECOVERY", claimerUserId: bob.userId, sendEmail })).toEqual({
        kind: "shamir_recovery_not_setup",
      });
    expect(statusEvents(w)).toEqual([]);
  });

  it("answers shamir_recovery_not_setup, as Parsec v2.16.3 does, to a DEVICE invitation to email for a greeter without human handle", async () => {
    const w = await setupInvites({}, { humanHandle: null });
    expect(w.alice.humanHandle).toBeNull();
    expect(await w.t.app.inviteNew(w.alice, { type: "DEVICE", sendEmail: true })).toEqual({ kind: "shamir_recovery_not_setup" });
    expect(statusEvents(w)).toEqual([]);
    expect((await w.t.app.listInvitations(w.alice)).invitations).toEqual([]);
    expect((await w.t.app.inviteNew(w.alice, { type: "DEVICE", sendEmail: false })).kind).toBe("ok");
  });
});

describe("invite_new email_sent", () => {
  it("emails a USER invitation to the claimer with the claim URL and the greeter as Reply-To", async () => {
    const w = await setupInvites();
    const outcome = await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "zack@example.com", sendEmail: true });
    expect(outcome).toMatchObject({ kind: "ok", emailSent: "SUCCESS" });
    if (outcome.kind !== "ok") return;
    expect(w.t.sentEmails).toHaveLength(1);
    const email = w.t.sentEmails[0]!;
    expect(email.to).toBe("zack@example.com");
    expect(email.replyTo).toEqual({ name: "User alice", address: "alice@example.com" });
    expect(email.subject).toContain("User alice");
    expect(email.subject).toContain("CoolOrg");
    const url = `parsec://parsec.example.com/CoolOrg?action=claim_user&token=${outcome.token}`;
    expect(email.text).toContain(url);
    expect(email.html).toContain(url.replace("&", "&amp;"));
  });

  it("emails a DEVICE invitation to the greeter, without Reply-To, in the configured language", async () => {
    const w = await setupInvites({ emailLanguage: "fr", backendAddr: { hostname: "localhost", port: 6777, useSsl: false } });
    const outcome = await w.t.app.inviteNew(w.alice, { type: "DEVICE", sendEmail: true });
    expect(outcome).toMatchObject({ kind: "ok", emailSent: "SUCCESS" });
    if (outcome.kind !== "ok") return;
    const email = w.t.sentEmails[0]!;
    expect(email.to).toBe("alice@example.com");
    expect(email.replyTo).toBeUndefined();
    expect(email.subject).toContain("appareil");
    expect(email.text).toContain(`parsec://localhost:6777/CoolOrg?no_ssl=true&action=claim_device&token=${outcome.token}`);
  });

  it("names a greeter without human handle by user id, and sets no Reply-To", async () => {
    const w = await setupInvites({}, { humanHandle: null });
    expect(await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "zack@example.com", sendEmail: true })).toMatchObject({ emailSent: "SUCCESS" });
    const email = w.t.sentEmails[0]!;
    expect(email.subject).toContain("alice");
    expect(email.replyTo).toBeUndefined();
  });

  it("reports NOT_AVAILABLE without a configured server address, and sends nothing", async () => {
    const w = await setupInvites({ backendAddr: null });
    expect(await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "zack@example.com", sendEmail: true })).toMatchObject({
      kind: "ok",
      emailSent: "NOT_AVAILABLE",
    });
    expect(await w.t.app.inviteNew(w.alice, { type: "DEVICE", sendEmail: true })).toMatchObject({ kind: "ok", emailSent: "NOT_AVAILABLE" });
    expect(w.t.sentEmails).toEqual([]);
  });

  const failing = (result: Awaited<ReturnType<EmailSender["send"]>> | "reject"): { sender: EmailSender; tried: OutgoingEmail[] } => {
    const tried: OutgoingEmail[] = [];
    return {
      tried,
      sender: {
        send: async (email) => {
          tried.push(email);
          if (result === "reject") throw new Error("boom");
          return result;
        },
      },
    };
  };

  it("reports BAD_RECIPIENT when the mail server refuses the recipient; the invitation stands", async () => {
    const { sender, tried } = failing({ ok: false, kind: "recipient_refused", reason: "550 no such user" });
    const w = await setupInvites({ email: sender });
    const outcome = await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "zack@example.com", sendEmail: true });
    expect(outcome).toMatchObject({ kind: "ok", emailSent: "BAD_RECIPIENT" });
    expect(tried).toHaveLength(1);
    expect(await w.t.app.inviteNew(w.alice, { type: "DEVICE", sendEmail: true })).toMatchObject({ kind: "ok", emailSent: "BAD_RECIPIENT" });
    expect((await w.t.app.listInvitations(w.alice)).invitations).toHaveLength(2);
  });

  it("reports NOT_AVAILABLE when the mail server is unavailable or the sender rejects", async () => {
    for (const result of [{ ok: false, kind: "server_unavailable", reason: "ECONNREFUSED" } as const, "reject" as const]) {
      const { sender } = failing(result);
      const w = await setupInvites({ email: sender });
      expect(await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "zack@example.com", sendEmail: true })).toMatchObject({
        kind: "ok",
        emailSent: "NOT_AVAILABLE",
      });
    }
  });

  it("sends the email again when an invitation is reused", async () => {
    const w = await setupInvites();
    const a = await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "zack@example.com", sendEmail: true });
    const b = await w.t.app.inviteNew(w.alice, { type: "USER", claimerEmail: "zack@example.com", sendEmail: true });
    expect(a.kind === "ok" && b.kind === "ok" && a.token === b.token).toBe(true);
    expect(w.t.sentEmails).toHaveLength(2);
  });
});

describe("invite_list", () => {
  it("lists the greeter's invitations not deleted, oldest first, with their status", async () => {
    const w = await setupInvites();
    const bob = otherUser(w, "bob", { profile: "ADMIN" });
    const device = await newInvitation(w, w.alice, "DEVICE");
    w.t.clock.advance(1);
    const user = await newInvitation(w, w.alice, "USER", "zack@example.com");
    w.t.clock.advance(1);
    const gone = await newInvitation(w, w.alice, "USER", "gone@example.com");
    await newInvitation(w, bob, "DEVICE");
    await w.t.app.deleteInvitation(w.alice, { token: gone, reason: "ROTTEN" });
    await w.t.app.claimerJoined(await claimerSession(w, user, "USER"));

    const { invitations } = await w.t.app.listInvitations(w.alice);
    expect(invitations.map((i) => [i.token, i.type, i.claimerEmail, i.status])).toEqual([
      [device, "DEVICE", null, "IDLE"],
      [user, "USER", "zack@example.com", "READY"],
    ]);
    expect(invitations[1]!.createdOn.equals(invitations[0]!.createdOn.addSeconds(1))).toBe(true);
    expect((await w.t.app.listInvitations(otherUser(w, "carol"))).invitations).toEqual([]);
  });
});

describe("invite_delete", () => {
  it("deletes with its reason and date, publishes DELETED, then answers already_deleted", async () => {
    const w = await setupInvites();
    const token = await newInvitation(w);
    w.t.clock.advance(5);
    expect(await w.t.app.deleteInvitation(w.alice, { token, reason: "CANCELLED" })).toEqual({ kind: "ok" });
    expect(statusEvents(w).at(-1)).toEqual([token, "DELETED", w.alice.userId]);
    expect(await w.t.deps.invitations.get(w.org.organizationId, token)).toMatchObject({
      status: "DELETED",
      deleted: { on: w.t.clock.now(), reason: "CANCELLED" },
    });
    expect(await w.t.app.deleteInvitation(w.alice, { token, reason: "FINISHED" })).toEqual({ kind: "already_deleted" });
    expect(statusEvents(w).filter(([, status]) => status === "DELETED")).toHaveLength(1);
  });

  it("answers not_found for an unknown token, another greeter's invitation (deleted or not), another organization's", async () => {
    const w = await setupInvites();
    const bob = otherUser(w, "bob", { profile: "ADMIN" });
    const bobs = await newInvitation(w, bob);
    expect(await w.t.app.deleteInvitation(w.alice, { token: "00000000000000000000000000000000" as typeof bobs, reason: "CANCELLED" })).toEqual({
      kind: "not_found",
    });
    expect(await w.t.app.deleteInvitation(w.alice, { token: bobs, reason: "CANCELLED" })).toEqual({ kind: "not_found" });
    await w.t.app.deleteInvitation(bob, { token: bobs, reason: "CANCELLED" });
    expect(await w.t.app.deleteInvitation(w.alice, { token: bobs, reason: "CANCELLED" })).toEqual({ kind: "not_found" });
    expect(await w.t.app.deleteInvitation({ ...bob, organizationId: "OtherOrg" as typeof bob.organizationId }, { token: bobs, reason: "CANCELLED" })).toEqual({
      kind: "not_found",
    });
  });
});

describe("invite_info", () => {
  it("describes a USER invitation: claimer email, greeter id and human handle", async () => {
    const w = await setupInvites();
    const token = await newInvitation(w, w.alice, "USER", "zack@example.com");
    expect(await w.t.app.invitationInfo(await claimerSession(w, token, "USER"))).toEqual({
      kind: "ok",
      info: { type: "USER", claimerEmail: "zack@example.com", greeterUserId: w.alice.userId, greeterHumanHandle: w.alice.humanHandle },
    });
  });

  it("describes a DEVICE invitation; a greeter without human handle gives null", async () => {
    const w = await setupInvites({}, { humanHandle: null });
    const token = await newInvitation(w, w.alice, "DEVICE");
    expect(await w.t.app.invitationInfo(await claimerSession(w, token, "DEVICE"))).toEqual({
      kind: "ok",
      info: { type: "DEVICE", greeterUserId: w.alice.userId, greeterHumanHandle: null },
    });
  });
});

describe("claimer presence", () => {
  it("publishes READY when a claimer joins and IDLE when it leaves, recording the status", async () => {
    const w = await setupInvites();
    const token = await newInvitation(w);
    const claimer = await claimerSession(w, token);
    await w.t.app.claimerJoined(claimer);
    expect(statusEvents(w).at(-1)).toEqual([token, "READY", w.alice.userId]);
    expect((await w.t.deps.invitations.get(w.org.organizationId, token))!.status).toBe("READY");
    await w.t.app.claimerLeft(claimer);
    expect(statusEvents(w).map(([, status]) => status)).toEqual(["IDLE", "READY", "IDLE"]);
    expect((await w.t.deps.invitations.get(w.org.organizationId, token))!.status).toBe("IDLE");
  });

  it("counts each claimer connection: READY until the last one of an invitation left, then IDLE", async () => {
    const w = await setupInvites();
    const token = await newInvitation(w);
    const first = await claimerSession(w, token);
    const second = await claimerSession(w, token);
    expect(first.connectionId).not.toBe(second.connectionId);
    const listed = async () => (await w.t.app.listInvitations(w.alice)).invitations.map((i) => [i.token, i.status]);
    await w.t.app.claimerJoined(first);
    await w.t.app.claimerJoined(second);
    expect(await listed()).toEqual([[token, "READY"]]);
    await w.t.app.claimerLeft(first);
    expect(statusEvents(w).at(-1)).toEqual([token, "READY", w.alice.userId]);
    expect(await listed()).toEqual([[token, "READY"]]);
    expect((await w.t.deps.invitations.get(w.org.organizationId, token))!.status).toBe("READY");
    await w.t.app.claimerLeft(second);
    expect(statusEvents(w).at(-1)).toEqual([token, "IDLE", w.alice.userId]);
    expect(await listed()).toEqual([[token, "IDLE"]]);
    expect(statusEvents(w).map(([, status]) => status)).toEqual(["IDLE", "READY", "READY", "READY", "IDLE"]);
  });

  it("counts a connection once: joining twice then leaving once leaves no claimer; leaving again publishes IDLE again", async () => {
    const w = await setupInvites();
    const token = await newInvitation(w);
    const claimer = await claimerSession(w, token);
    await w.t.app.claimerJoined(claimer);
    await w.t.app.claimerJoined(claimer);
    await w.t.app.claimerLeft(claimer);
    expect((await w.t.deps.invitations.get(w.org.organizationId, token))!.status).toBe("IDLE");
    await w.t.app.claimerLeft(claimer);
    expect(statusEvents(w).map(([, status]) => status)).toEqual(["IDLE", "READY", "READY", "IDLE", "IDLE"]);
  });

  it("tells the greeter's subscribed connection, once delivered", async () => {
    const w = await setupInvites();
    const token = await newInvitation(w);
    await w.t.events.idle();
    await w.t.app.subscribeEvents(w.alice);
    await w.t.app.claimerJoined(await claimerSession(w, token));
    const never = new AbortController().signal;
    expect(await w.t.app.listenEvents(w.alice, false, never)).toEqual({ kind: "no_events" });
    await w.t.events.idle();
    expect(await w.t.app.listenEvents(w.alice, false, never)).toMatchObject({ kind: "ok", event: { type: "invite.status_changed", token, status: "READY" } });
  });

  it("ignores a claimer of an invitation the organization does not have", async () => {
    const w = await setupInvites();
    const token = await newInvitation(w);
    const claimer = await claimerSession(w, token);
    const ghost = { ...claimer, invitation: { ...claimer.invitation, token: "0123456789abcdef0123456789abcdef" as typeof token } };
    const before = statusEvents(w).length;
    await w.t.app.claimerJoined(ghost);
    await w.t.app.claimerLeft(ghost);
    expect(statusEvents(w)).toHaveLength(before);
  });

  it("leaves a deleted invitation deleted and publishes nothing for it", async () => {
    const w = await setupInvites();
    const token = await newInvitation(w);
    const claimer = await claimerSession(w, token);
    await w.t.app.deleteInvitation(w.alice, { token, reason: "FINISHED" });
    const before = statusEvents(w).length;
    await w.t.app.claimerJoined(claimer);
    await w.t.app.claimerLeft(claimer);
    expect(statusEvents(w)).toHaveLength(before);
    expect((await w.t.deps.invitations.get(w.org.organizationId, token))!.status).toBe("DELETED");
  });
});

describe("invitation dates", () => {
  it("dates a new invitation with the server clock", async () => {
    const start = DateTime.parseRfc3339("2000-01-02T00:00:00Z")!;
    const w = await setupInvites({ start });
    const token = await newInvitation(w);
    expect((await w.t.deps.invitations.get(w.org.organizationId, token))!.createdOn.equals(start)).toBe(true);
  });
});
