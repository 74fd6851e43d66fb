import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceCertificate, revokedUserCertificate, userCertificate } from "../support/certificates.js";
import {
  connectAuthenticated,
  connectInvited,
  expectSession,
  type AuthenticatedConnectOptions,
  type CloseInfo,
  type InvitedConnectOptions,
  type ParsecSession,
  type WireMap,
} from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import type { TestServer } from "../support/server.js";
import { aliceOptions, createBootstrappedOrganization, now, uniqueOrganizationId, within } from "./helpers.js";
import {
  bounded,
  deviceCreateFields,
  newDevice,
  readableEml,
  rpc,
  runClaimer,
  runGreeter,
  sasMaterial,
  startServerWithMailbox,
  tokenHex,
  userCreateFields,
  wireToken,
  type MockedEmail,
  type NewDevice,
} from "./users-invitations-helpers.js";

/**
 * Users and invitations end to end, over real WebSockets against a real server on 127.0.0.1: a user enrolled by
 * email invitation and SAS exchange, a second device enrolled the same way, the user revoked while connected, and
 * the edges of the invitation protocol (claimer reconnecting mid-exchange, deletion while connected, permissions).
 */
describe.skipIf(!fixtures)("users and invitations over the real transport", () => {
  const f = fixtures!;
  let server: TestServer & { readonly emails: readonly MockedEmail[] };
  const sessions: ParsecSession<"authenticated" | "invited">[] = [];

  /** Remembers `session` so that afterAll closes it whatever happens. */
  const track = <S extends ParsecSession<"authenticated" | "invited">>(session: S): S => (sessions.push(session), session);

  const authenticated = async (options: AuthenticatedConnectOptions) => track(expectSession(await bounded(connectAuthenticated(options), "authenticated handshake")));
  const invited = async (organizationId: string, invitationType: "USER" | "DEVICE", token: string) =>
    track(expectSession(await bounded(connectInvited(invitedOptions(organizationId, invitationType, token)), "invited handshake")));
  const invitedOptions = (organizationId: string, invitationType: "USER" | "DEVICE", token: string): InvitedConnectOptions => ({
    url: server.wsUrl,
    organizationId,
    invitationType,
    token,
    timeoutMs: 5_000,
  });
  const deviceOptions = (organizationId: string, device: NewDevice): AuthenticatedConnectOptions => ({
    url: server.wsUrl,
    organizationId,
    deviceId: device.deviceId,
    signingKey: device.signingKey,
    rootVerifyKey: f.organization.rootVerifyKey,
    timeoutMs: 5_000,
  });

  /** Polls `invite_list` until `token` has `status` (bounded): claimer presence is recorded asynchronously. */
  const waitForInvitationStatus = async (greeter: ParsecSession<"authenticated">, token: string, status: string): Promise<WireMap> =>
    bounded(
      (async () => {
        for (;;) {
          const list = await rpc(greeter, "invite_list");
          const item = (list["invitations"] as WireMap[]).find((i) => tokenHex(i["token"]) === token);
          if (item?.["status"] === status) return item;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })(),
      `invitation ${token} becoming ${status}`,
    );

  beforeAll(async () => {
    server = await startServerWithMailbox();
  });

  afterAll(async () => {
    await Promise.allSettled(sessions.map((s) => within(2_000, s.close(), "closing a session")));
    await server?.stop();
  });

  describe("CoolOrg: zack enrolled by alice, a second device, then revoked", () => {
    const organizationId = f.organization.id;
    const zackHandle = { email: "zack@example.com", label: "Zack" };
    const zackPublicKey = randomBytes(32);
    const zackDev1 = newDevice("zack@dev1", "Zack's laptop");
    const zackDev2 = newDevice("zack@dev2", "Zack's phone");
    let alice: ParsecSession<"authenticated">;
    let userToken: string;
    let claimer: ParsecSession<"invited">;
    let zackCertificates: ReturnType<typeof userCreateFields>;
    let zack1: ParsecSession<"authenticated">;
    let zack2: ParsecSession<"authenticated">;

    beforeAll(async () => {
      await createBootstrappedOrganization(server, f, organizationId);
      alice = await authenticated(aliceOptions(server, f, organizationId));
    });

    it("alice invites zack@example.com by email: email_sent SUCCESS, the mocked .eml holds the claim URL, invite_list shows it IDLE", async () => {
      const before = Date.now();
      const reply = await rpc(alice, "invite_new", { type: "USER", claimer_email: zackHandle.email, send_email: true });
      expect(reply).toMatchObject({ status: "ok", email_sent: "SUCCESS" });
      userToken = tokenHex(reply["token"]);
      expect(userToken).toMatch(/^[0-9a-f]{32}$/);

      const email = server.emails.find((e) => e.to === zackHandle.email);
      expect(email, "an email to zack was written").toBeDefined();
      const eml = readableEml(await readFile(email!.file, "utf8"));
      expect(eml).toMatch(/^To: zack@example\.com$/m);
      expect(eml).toMatch(/^Reply-To: .*alice@example\.com/m);
      expect(eml).toContain(`parsec://localhost/${organizationId}?no_ssl=true&action=claim_user&token=${userToken}`);

      const list = await rpc(alice, "invite_list");
      expect(list["status"]).toBe("ok");
      const invitations = list["invitations"] as WireMap[];
      expect(invitations).toHaveLength(1);
      expect(invitations[0]).toMatchObject({ type: "USER", claimer_email: zackHandle.email, status: "IDLE" });
      expect(tokenHex(invitations[0]!["token"])).toBe(userToken);
      const createdOn = (invitations[0]!["created_on"] as { epochSeconds: number }).epochSeconds * 1000;
      expect(createdOn).toBeGreaterThanOrEqual(before - 1_000);
      expect(createdOn).toBeLessThanOrEqual(Date.now() + 1_000);
    });

    it("the claimer connects with the INVITED handshake: the invitation becomes READY; invite_info names alice", async () => {
      claimer = await invited(organizationId, "USER", userToken);
      await waitForInvitationStatus(alice, userToken, "READY");
      expect(await rpc(claimer, "invite_info")).toEqual({
        status: "ok",
        type: "USER",
        claimer_email: zackHandle.email,
        greeter_user_id: "alice",
        greeter_human_handle: [f.alice.humanHandle.email, f.alice.humanHandle.label],
      });
    });

    it("alice and the claimer run the SAS exchange in parallel; each side receives exactly what the other posted", async () => {
      const m = sasMaterial();
      const [greeterGot, claimerGot] = await Promise.all([runGreeter(alice, userToken, m.greeter), runClaimer(claimer, m.claimer, "alice")]);
      expect(greeterGot).toEqual({
        claimerPublicKey: m.claimer.publicKey,
        claimerHashedNonce: m.claimer.hashedNonce,
        claimerNonce: m.claimer.nonce,
        payloads: m.claimer.payloads,
      });
      expect(claimerGot).toEqual({ greeterPublicKey: m.greeter.publicKey, greeterNonce: m.greeter.nonce, payloads: m.greeter.payloads });
    });

    it("alice creates zack (STANDARD) and deletes the invitation FINISHED: the server closes the claimer's session", async () => {
      zackCertificates = userCreateFields(
        { deviceId: f.alice.deviceId, signingKey: f.alice.signingKey },
        { userId: "zack", humanHandle: zackHandle, publicKey: zackPublicKey, profile: "STANDARD" },
        zackDev1,
        now(),
      );
      expect(await rpc(alice, "user_create", zackCertificates)).toEqual({ status: "ok" });
      expect(claimer.channel.isClosed).toBe(false);

      expect(await rpc(alice, "invite_delete", { token: wireToken(userToken), reason: "FINISHED" })).toEqual({ status: "ok" });
      const close = await within(1_000, claimer.closed, "the claimer's session closing");
      expect(close.code).toBe(1008);
      expect((await rpc(alice, "invite_list"))["invitations"]).toEqual([]);
      expect(await rpc(alice, "invite_delete", { token: wireToken(userToken), reason: "FINISHED" })).toEqual({ status: "already_deleted" });
      const again = await bounded(connectInvited(invitedOptions(organizationId, "USER", userToken)), "invited handshake");
      expect(again.ok ? "ok" : again.result).toBe("bad_identity");
      // zack is now a member: inviting the same email again is refused.
      expect(await rpc(alice, "invite_new", { type: "USER", claimer_email: zackHandle.email, send_email: false })).toEqual({ status: "already_member" });
    });

    it("zack@dev1 logs in with its own key, pings, and reads alice's and his own user", async () => {
      zack1 = await authenticated(deviceOptions(organizationId, zackDev1));
      expect(await rpc(zack1, "ping", { ping: "zack here" })).toEqual({ status: "ok", pong: "zack here" });

      const aliceUser = await rpc(zack1, "user_get", { user_id: "alice" });
      expect(aliceUser).toMatchObject({ status: "ok", revoked_user_certificate: null });
      expect(aliceUser["device_certificates"]).toHaveLength(1);

      const self = await rpc(zack1, "user_get", { user_id: "zack" });
      expect(self).toMatchObject({ status: "ok", revoked_user_certificate: null });
      expect(self["user_certificate"]).toEqual(zackCertificates.user_certificate);
      expect(self["device_certificates"]).toEqual([zackCertificates.device_certificate]);
      // The trustchain holds alice, who certified zack.
      const trustchain = self["trustchain"] as { users: Buffer[]; devices: Buffer[]; revoked_users: Buffer[] };
      expect(trustchain.users.length).toBeGreaterThanOrEqual(1);
      expect(trustchain.devices.length).toBeGreaterThanOrEqual(1);
      expect(trustchain.revoked_users).toEqual([]);

      expect(await rpc(zack1, "user_get", { user_id: "nobody" })).toEqual({ status: "not_found" });
    });

    it("zack enrols zack@dev2 with a DEVICE invitation and a parallel SAS exchange; zack@dev2 logs in", async () => {
      const reply = await rpc(zack1, "invite_new", { type: "DEVICE", send_email: false });
      expect(reply).toMatchObject({ status: "ok", email_sent: "SUCCESS" });
      const deviceToken = tokenHex(reply["token"]);
      expect((await rpc(zack1, "invite_list"))["invitations"]).toMatchObject([{ type: "DEVICE", status: "IDLE" }]);
      // alice does not see zack's invitation.
      expect((await rpc(alice, "invite_list"))["invitations"]).toEqual([]);

      const deviceClaimer = await invited(organizationId, "DEVICE", deviceToken);
      await waitForInvitationStatus(zack1, deviceToken, "READY");
      expect(await rpc(deviceClaimer, "invite_info")).toEqual({
        status: "ok",
        type: "DEVICE",
        greeter_user_id: "zack",
        greeter_human_handle: [zackHandle.email, zackHandle.label],
      });

      const m = sasMaterial();
      // This claimer omits greeter_user_id, as clients older than API 2.9 do.
      const [greeterGot, claimerGot] = await Promise.all([runGreeter(zack1, deviceToken, m.greeter), runClaimer(deviceClaimer, m.claimer)]);
      expect(greeterGot).toEqual({
        claimerPublicKey: m.claimer.publicKey,
        claimerHashedNonce: m.claimer.hashedNonce,
        claimerNonce: m.claimer.nonce,
        payloads: m.claimer.payloads,
      });
      expect(claimerGot).toEqual({ greeterPublicKey: m.greeter.publicKey, greeterNonce: m.greeter.nonce, payloads: m.greeter.payloads });

      const dev2 = deviceCreateFields({ deviceId: zackDev1.deviceId, signingKey: zackDev1.signingKey }, zackDev2, now());
      expect(await rpc(zack1, "device_create", dev2)).toEqual({ status: "ok" });
      expect(await rpc(zack1, "invite_delete", { token: wireToken(deviceToken), reason: "FINISHED" })).toEqual({ status: "ok" });
      expect((await within(1_000, deviceClaimer.closed, "the device claimer's session closing")).code).toBe(1008);

      zack2 = await authenticated(deviceOptions(organizationId, zackDev2));
      expect(await rpc(zack2, "ping", { ping: "dev2" })).toEqual({ status: "ok", pong: "dev2" });
      const self = await rpc(zack2, "user_get", { user_id: "zack" });
      expect(self["device_certificates"]).toEqual([zackCertificates.device_certificate, dev2.device_certificate]);
    });

    it("alice revokes zack: both of zack's sessions close within 1 s, alice's stays; zack@dev1 is refused with revoked_device", async () => {
      const revoked = revokedUserCertificate(f.alice.signingKey, { author: f.alice.deviceId, timestamp: now(), userId: "zack" });
      const closes: Promise<CloseInfo>[] = [zack1.closed, zack2.closed];
      expect(await rpc(alice, "user_revoke", { revoked_user_certificate: revoked })).toEqual({ status: "ok" });
      const codes = (await within(1_000, Promise.all(closes), "zack's sessions closing")).map((c) => c.code);
      expect(codes).toEqual([1008, 1008]);
      expect(alice.channel.isClosed).toBe(false);

      const refused = await bounded(connectAuthenticated(deviceOptions(organizationId, zackDev1)), "zack@dev1 handshake");
      expect(refused.ok).toBe(false);
      expect(!refused.ok && refused.result).toBe("revoked_device");
      if (!refused.ok) await within(1_000, refused.closed, "refused handshake closing");

      const user = await rpc(alice, "user_get", { user_id: "zack" });
      expect(user).toMatchObject({ status: "ok", revoked_user_certificate: revoked });

      const find = (omitRevoked: boolean) =>
        rpc(alice, "human_find", { query: null, omit_revoked: omitRevoked, omit_non_human: false, page: 1, per_page: 100 });
      const active = await find(true);
      expect(active["status"]).toBe("ok");
      expect((active["results"] as WireMap[]).map((r) => r["user_id"])).toEqual(["alice"]);
      const all = await find(false);
      expect(all["results"]).toEqual(
        expect.arrayContaining([{ user_id: "zack", human_handle: [zackHandle.email, zackHandle.label], revoked: true }]),
      );
      expect(await rpc(alice, "user_revoke", { revoked_user_certificate: revoked })).toMatchObject({ status: "already_revoked" });
    });
  });

  describe("invitation edges", () => {
    let organizationId: string;
    let alice: ParsecSession<"authenticated">;

    beforeAll(async () => {
      organizationId = await createBootstrappedOrganization(server, f, uniqueOrganizationId("Edges"));
      alice = await authenticated(aliceOptions(server, f, organizationId));
    });

    const newUserInvitation = async (email: string): Promise<string> => {
      const reply = await rpc(alice, "invite_new", { type: "USER", claimer_email: email, send_email: false });
      expect(reply).toMatchObject({ status: "ok", email_sent: "SUCCESS" });
      return tokenHex(reply["token"]);
    };

    it("a claimer that reconnects after step 2 restarts at step 1 with the greeter and completes", async () => {
      const token = await newUserInvitation("yves@example.com");
      // The greeter runs the exchange on its own session: alice's first session stays free for invite_list while a step blocks.
      const greeter = await authenticated(aliceOptions(server, f, organizationId));
      const first = await invited(organizationId, "USER", token);
      await waitForInvitationStatus(alice, token, "READY");
      const before = sasMaterial();
      const t = wireToken(token);

      // Steps 1 and 2 on both sides.
      const [g1, c1] = await Promise.all([
        rpc(greeter, "invite_1_greeter_wait_peer", { token: t, greeter_public_key: before.greeter.publicKey }),
        rpc(first, "invite_1_claimer_wait_peer", { claimer_public_key: before.claimer.publicKey }),
      ]);
      expect(g1).toEqual({ status: "ok", claimer_public_key: before.claimer.publicKey });
      expect(c1).toEqual({ status: "ok", greeter_public_key: before.greeter.publicKey });
      // The claimer's 2a completes only once the greeter sent its nonce (2b); the greeter's 2b once the claimer revealed its nonce.
      const claimer2a = rpc(first, "invite_2a_claimer_send_hashed_nonce", { claimer_hashed_nonce: before.claimer.hashedNonce });
      const g2a = await rpc(greeter, "invite_2a_greeter_get_hashed_nonce", { token: t });
      const greeter2b = rpc(greeter, "invite_2b_greeter_send_nonce", { token: t, greeter_nonce: before.greeter.nonce });
      const c2a = await claimer2a;
      const [g2b, c2b] = await Promise.all([greeter2b, rpc(first, "invite_2b_claimer_send_nonce", { claimer_nonce: before.claimer.nonce })]);
      expect(g2a).toEqual({ status: "ok", claimer_hashed_nonce: before.claimer.hashedNonce });
      expect(c2a).toEqual({ status: "ok", greeter_nonce: before.greeter.nonce });
      expect(g2b).toEqual({ status: "ok", claimer_nonce: before.claimer.nonce });
      expect(c2b).toEqual({ status: "ok" });

      // The greeter waits at step 3 while the claimer goes away: the invitation falls back to IDLE, the greeter keeps waiting.
      let greeterStep3Answered = false;
      const greeterStep3 = bounded(greeter.send("invite_3a_greeter_wait_peer_trust", { token: t }), "greeter step 3a").finally(
        () => (greeterStep3Answered = true),
      );
      await bounded(first.close(), "claimer close");
      await waitForInvitationStatus(alice, token, "IDLE");
      expect(greeterStep3Answered).toBe(false);

      // The claimer comes back and restarts at step 1: the greeter's step 3 learns that the exchange was reset.
      const second = await invited(organizationId, "USER", token);
      await waitForInvitationStatus(alice, token, "READY");
      const after = sasMaterial();
      const claimerRun = runClaimer(second, after.claimer, "alice");
      claimerRun.catch(() => undefined);
      expect(await greeterStep3).toEqual({ status: "invalid_state" });
      const [greeterGot, claimerGot] = await Promise.all([runGreeter(greeter, token, after.greeter), claimerRun]);
      expect(greeterGot).toEqual({
        claimerPublicKey: after.claimer.publicKey,
        claimerHashedNonce: after.claimer.hashedNonce,
        claimerNonce: after.claimer.nonce,
        payloads: after.claimer.payloads,
      });
      expect(claimerGot).toEqual({ greeterPublicKey: after.greeter.publicKey, greeterNonce: after.greeter.nonce, payloads: after.greeter.payloads });

      expect(await rpc(alice, "invite_delete", { token: t, reason: "FINISHED" })).toEqual({ status: "ok" });
      expect((await within(1_000, second.closed, "claimer closing")).code).toBe(1008);
    });

    it("invite_delete while the claimer is connected (and waiting at step 1) closes its session", async () => {
      const token = await newUserInvitation("xena@example.com");
      const t = wireToken(token);
      const claimer = await invited(organizationId, "USER", token);
      await waitForInvitationStatus(alice, token, "READY");
      expect(await rpc(claimer, "ping", { ping: "still here" })).toEqual({ status: "ok", pong: "still here" });
      const claimerWaiting = claimer.send("invite_1_claimer_wait_peer", { claimer_public_key: randomBytes(32) });
      claimerWaiting.catch(() => undefined);

      expect(await rpc(alice, "invite_delete", { token: t, reason: "CANCELLED" })).toEqual({ status: "ok" });
      expect((await within(1_000, claimer.closed, "claimer closing")).code).toBe(1008);
      await expect(bounded(claimerWaiting, "claimer step 1")).rejects.toThrow(/closed/i);
      expect((await rpc(alice, "invite_list"))["invitations"]).toEqual([]);
      const again = await bounded(connectInvited(invitedOptions(organizationId, "USER", token)), "invited handshake");
      expect(again.ok ? "ok" : again.result).toBe("bad_identity");
    });

    it("a greeter waiting at step 1 with no claimer is answered already_deleted when the invitation is deleted", async () => {
      const token = await newUserInvitation("victor@example.com");
      const t = wireToken(token);
      const greeter = await authenticated(aliceOptions(server, f, organizationId));
      const greeterWaiting = rpc(greeter, "invite_1_greeter_wait_peer", { token: t, greeter_public_key: randomBytes(32) });
      // Let the greeter's step reach the server before the deletion (either order must give already_deleted).
      await rpc(alice, "invite_list");
      expect(await rpc(alice, "invite_delete", { token: t, reason: "CANCELLED" })).toEqual({ status: "ok" });
      expect(await greeterWaiting).toEqual({ status: "already_deleted" });
      expect(await rpc(greeter, "invite_2a_greeter_get_hashed_nonce", { token: t })).toEqual({ status: "already_deleted" });
    });

    it("a STANDARD user asking invite_new USER gets not_allowed; DEVICE is allowed", async () => {
      const timestamp = now();
      const bob = f.bob;
      const sign = { deviceId: f.alice.deviceId, signingKey: f.alice.signingKey };
      const user = (humanHandle: typeof bob.humanHandle | null) =>
        userCertificate(sign.signingKey, { author: sign.deviceId, timestamp, userId: bob.userId, humanHandle, publicKey: bob.publicKey, profile: "STANDARD" });
      const device = (deviceLabel: string | null) =>
        deviceCertificate(sign.signingKey, { author: sign.deviceId, timestamp, deviceId: bob.deviceId, deviceLabel, verifyKey: bob.verifyKey });
      expect(
        await rpc(alice, "user_create", {
          user_certificate: user(bob.humanHandle),
          device_certificate: device(bob.deviceLabel),
          redacted_user_certificate: user(null),
          redacted_device_certificate: device(null),
        }),
      ).toEqual({ status: "ok" });

      const bobSession = await authenticated(aliceOptions(server, f, organizationId, { deviceId: bob.deviceId, signingKey: bob.signingKey }));
      expect(await rpc(bobSession, "invite_new", { type: "USER", claimer_email: "walter@example.com", send_email: false })).toEqual({ status: "not_allowed" });
      expect(await rpc(bobSession, "invite_new", { type: "DEVICE", send_email: false })).toMatchObject({ status: "ok" });
      expect((await rpc(bobSession, "invite_list"))["invitations"]).toMatchObject([{ type: "DEVICE", status: "IDLE" }]);
    });

    it("message_get answers ok with an empty list", async () => {
      expect(await rpc(alice, "message_get", { offset: 0 })).toEqual({ status: "ok", messages: [] });
    });
  });

  it("the server logged no internal error along the way", () => {
    expect(server.loggedErrors).toEqual([]);
  });
});
