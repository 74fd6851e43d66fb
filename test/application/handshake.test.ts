import { describe, expect, it } from "vitest";
import type { AuthenticatedAnswer } from "../../src/application/index.js";
import type { ApiVersion } from "../../src/domain/handshake/index.js";
import { InvitationToken } from "../../src/domain/ids.js";
import { pack } from "../../src/domain/serialization/msgpack.js";
import {
  authenticatedAnswer,
  bootstrapOrganization,
  buildTestApp,
  deviceId,
  newChallenge,
  orgId,
  revokeUserInStore,
  seedInvitation,
  signChallenge,
  type BootstrappedOrganization,
  type TestApp,
} from "../support/app.js";
import { ed25519Sign, randomEd25519 } from "../support/certificates.js";

const BAD_IDENTITY = { kind: "bad_identity", help: "Invalid handshake information" };
const RVK_MISMATCH = { kind: "rvk_mismatch", help: "No organization, or root verify key mismatch" };
const EXPIRED = { kind: "organization_expired", help: "Trial organization has expired" };
const REVOKED = { kind: "revoked_device", help: "Device has been revoked" };
const BAD_SIGNATURE = { kind: "bad_protocol", help: "Invalid answer signature" };
const incompatible = (v: ApiVersion) => ({
  kind: "bad_protocol",
  help: `No overlap between client API versions {${v.major}.${v.revision}} and server API versions {2.10, 3.4}`,
});

const setup = async (): Promise<{ t: TestApp; org: BootstrappedOrganization }> => {
  const t = buildTestApp();
  const org = await bootstrapOrganization(t, "CoolOrg");
  return { t, org };
};

/** A valid answer of `org`'s first device, with optional faults. */
const answer = (org: BootstrappedOrganization, overrides: Partial<AuthenticatedAnswer> = {}): AuthenticatedAnswer => ({
  ...authenticatedAnswer(org, undefined, overrides.challenge),
  ...overrides,
});

describe("authenticateDevice: ok", () => {
  it("accepts the 2.5+ signed form {type: signed_answer, answer: challenge} and opens a full session", async () => {
    const { t, org } = await setup();
    const challenge = newChallenge();
    const payload = pack({ type: "signed_answer", answer: challenge });
    const signed = Buffer.concat([ed25519Sign(org.deviceKey.signingKey, payload), payload]);
    const outcome = await t.app.authenticateDevice(answer(org, { challenge, answer: signed }));
    expect(outcome).toEqual({
      kind: "ok",
      session: {
        kind: "authenticated",
        organizationId: org.organizationId,
        deviceId: org.deviceId,
        userId: org.userId,
        profile: "ADMIN",
        humanHandle: org.humanHandle,
        deviceLabel: org.deviceLabel,
        verifyKey: org.deviceKey.verifyKey,
        publicKey: org.userPublicKey,
        sequesterAuthorityCertificate: null,
        apiVersion: { major: 2, revision: 10 },
        clientApiVersion: { major: 2, revision: 5 },
      },
    });
  });

  it("accepts the 2.0–2.4 raw-challenge form", async () => {
    const { t, org } = await setup();
    const challenge = newChallenge();
    const signed = Buffer.concat([ed25519Sign(org.deviceKey.signingKey, challenge), challenge]);
    const outcome = await t.app.authenticateDevice(answer(org, { challenge, answer: signed, clientApiVersion: { major: 2, revision: 0 } }));
    expect(outcome.kind).toBe("ok");
  });

  it("settles the API version: 2.10 for a [2, x] client, 3.4 for a [3, x] client", async () => {
    const { t, org } = await setup();
    for (const [client, server] of [
      [{ major: 2, revision: 0 }, { major: 2, revision: 10 }],
      [{ major: 2, revision: 99 }, { major: 2, revision: 10 }],
      [{ major: 3, revision: 0 }, { major: 3, revision: 4 }],
      [{ major: 3, revision: 7 }, { major: 3, revision: 4 }],
    ] as const) {
      const outcome = await t.app.authenticateDevice(answer(org, { clientApiVersion: client }));
      expect(outcome.kind === "ok" && [outcome.session.apiVersion, outcome.session.clientApiVersion]).toEqual([server, client]);
    }
  });

  it("accepts a user whose revocation lies in the future", async () => {
    const { t, org } = await setup();
    revokeUserInStore(t, org.organizationId, org.userId, t.clock.now().addSeconds(60));
    expect((await t.app.authenticateDevice(answer(org))).kind).toBe("ok");
    t.clock.advance(60);
    expect(await t.app.authenticateDevice(answer(org))).toEqual(REVOKED);
  });
});

describe("authenticateDevice: each failure", () => {
  it("bad_identity: unknown organization", async () => {
    const { t, org } = await setup();
    expect(await t.app.authenticateDevice(answer(org, { organizationId: orgId("NoSuchOrg") }))).toEqual(BAD_IDENTITY);
  });

  it("bad_identity: unknown device (other device of the user, unknown user)", async () => {
    const { t, org } = await setup();
    expect(await t.app.authenticateDevice(answer(org, { deviceId: deviceId(`${org.userId}@dev2`) }))).toEqual(BAD_IDENTITY);
    expect(await t.app.authenticateDevice(answer(org, { deviceId: deviceId("mallory@dev1") }))).toEqual(BAD_IDENTITY);
  });

  it("bad_identity: an organization created but not bootstrapped", async () => {
    const { t, org } = await setup();
    await t.app.createOrganization({ organizationId: orgId("Fresh") });
    expect(await t.app.authenticateDevice(answer(org, { organizationId: orgId("Fresh") }))).toEqual(BAD_IDENTITY);
  });

  it("rvk_mismatch: another root verify key", async () => {
    const { t, org } = await setup();
    expect(await t.app.authenticateDevice(answer(org, { rootVerifyKey: randomEd25519().verifyKey }))).toEqual(RVK_MISMATCH);
  });

  it("organization_expired", async () => {
    const { t, org } = await setup();
    await t.app.patchOrganization(org.organizationId, { isExpired: true });
    expect(await t.app.authenticateDevice(answer(org))).toEqual(EXPIRED);
    await t.app.patchOrganization(org.organizationId, { isExpired: false });
    expect((await t.app.authenticateDevice(answer(org))).kind).toBe("ok");
  });

  it("revoked_device: the user was revoked (now or earlier)", async () => {
    const { t, org } = await setup();
    revokeUserInStore(t, org.organizationId, org.userId, t.clock.now());
    expect(await t.app.authenticateDevice(answer(org))).toEqual(REVOKED);
  });

  it("bad_protocol: signed by another key", async () => {
    const { t, org } = await setup();
    const challenge = newChallenge();
    const outcome = await t.app.authenticateDevice(answer(org, { challenge, answer: signChallenge(randomEd25519().signingKey, challenge) }));
    expect(outcome).toEqual(BAD_SIGNATURE);
  });

  it("bad_protocol: a valid signature over another challenge (both forms)", async () => {
    const { t, org } = await setup();
    for (const form of ["signed_answer", "raw"] as const) {
      const outcome = await t.app.authenticateDevice(answer(org, { answer: signChallenge(org.deviceKey.signingKey, newChallenge(), form) }));
      expect(outcome).toEqual(BAD_SIGNATURE);
    }
  });

  it("bad_protocol: a signed map of another type, or without the challenge", async () => {
    const { t, org } = await setup();
    const challenge = newChallenge();
    for (const content of [{ type: "other", answer: challenge }, { type: "signed_answer" }, { type: "signed_answer", answer: "text" }, [challenge]]) {
      const payload = pack(content);
      const signed = Buffer.concat([ed25519Sign(org.deviceKey.signingKey, payload), payload]);
      expect(await t.app.authenticateDevice(answer(org, { challenge, answer: signed }))).toEqual(BAD_SIGNATURE);
    }
  });

  it("bad_protocol: truncated answers", async () => {
    const { t, org } = await setup();
    const challenge = newChallenge();
    const full = signChallenge(org.deviceKey.signingKey, challenge);
    for (const cut of [full.subarray(0, full.length - 1), full.subarray(0, 64), full.subarray(0, 10), Buffer.alloc(0)])
      expect(await t.app.authenticateDevice(answer(org, { challenge, answer: cut }))).toEqual(BAD_SIGNATURE);
  });

  it("bad_protocol: an unsupported API major (1.3, 4.0)", async () => {
    const { t, org } = await setup();
    for (const v of [
      { major: 1, revision: 3 },
      { major: 4, revision: 0 },
    ])
      expect(await t.app.authenticateDevice(answer(org, { clientApiVersion: v }))).toEqual(incompatible(v));
  });
});

describe("authenticateDevice: the order of the checks", () => {
  it("an unsupported API major wins over an unknown organization", async () => {
    const { t, org } = await setup();
    const v = { major: 1, revision: 3 };
    expect(await t.app.authenticateDevice(answer(org, { organizationId: orgId("NoSuchOrg"), clientApiVersion: v }))).toEqual(incompatible(v));
  });

  it("bad_identity before rvk_mismatch (unknown device + wrong root key)", async () => {
    const { t, org } = await setup();
    const outcome = await t.app.authenticateDevice(
      answer(org, { deviceId: deviceId("mallory@dev1"), rootVerifyKey: randomEd25519().verifyKey }),
    );
    expect(outcome).toEqual(BAD_IDENTITY);
  });

  it("rvk_mismatch before organization_expired (wrong root key + expired)", async () => {
    const { t, org } = await setup();
    await t.app.patchOrganization(org.organizationId, { isExpired: true });
    expect(await t.app.authenticateDevice(answer(org, { rootVerifyKey: randomEd25519().verifyKey }))).toEqual(RVK_MISMATCH);
  });

  it("organization_expired before revoked_device (expired + revoked)", async () => {
    const { t, org } = await setup();
    await t.app.patchOrganization(org.organizationId, { isExpired: true });
    revokeUserInStore(t, org.organizationId, org.userId, t.clock.now());
    expect(await t.app.authenticateDevice(answer(org))).toEqual(EXPIRED);
  });

  it("revoked_device before the signature (revoked + bad signature)", async () => {
    const { t, org } = await setup();
    revokeUserInStore(t, org.organizationId, org.userId, t.clock.now());
    expect(await t.app.authenticateDevice(answer(org, { answer: Buffer.from("garbage") }))).toEqual(REVOKED);
  });

  it("expired + bad signature gives organization_expired; wrong root key + bad signature gives rvk_mismatch", async () => {
    const { t, org } = await setup();
    expect(await t.app.authenticateDevice(answer(org, { rootVerifyKey: randomEd25519().verifyKey, answer: Buffer.alloc(0) }))).toEqual(
      RVK_MISMATCH,
    );
    await t.app.patchOrganization(org.organizationId, { isExpired: true });
    expect(await t.app.authenticateDevice(answer(org, { answer: Buffer.alloc(0) }))).toEqual(EXPIRED);
  });
});

describe("admitInvited", () => {
  const invitedSetup = async () => {
    const { t, org } = await setup();
    const invitation = await seedInvitation(t, org.organizationId, { greeterUserId: org.userId, type: "USER", claimerEmail: "zack@example.com" });
    return { t, org, invitation };
  };

  it("ok: an invited session carrying the invitation", async () => {
    const { t, org, invitation } = await invitedSetup();
    const outcome = await t.app.admitInvited({
      organizationId: org.organizationId,
      invitationType: "USER",
      token: invitation.token,
      clientApiVersion: { major: 3, revision: 1 },
    });
    expect(outcome).toEqual({
      kind: "ok",
      session: {
        kind: "invited",
        organizationId: org.organizationId,
        invitation,
        connectionId: expect.stringMatching(/^[0-9a-f]{24}$/),
        apiVersion: { major: 3, revision: 4 },
        clientApiVersion: { major: 3, revision: 1 },
      },
    });
  });

  it("gives every admitted connection its own connection id, even for one invitation", async () => {
    const { t, org, invitation } = await invitedSetup();
    const admit = () =>
      t.app.admitInvited({ organizationId: org.organizationId, invitationType: "USER", token: invitation.token, clientApiVersion: { major: 2, revision: 5 } });
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const outcome = await admit();
      if (outcome.kind !== "ok") throw new Error(outcome.kind);
      ids.add(outcome.session.connectionId);
    }
    expect(ids.size).toBe(5);
  });

  it("ok for a DEVICE invitation", async () => {
    const { t, org } = await setup();
    const invitation = await seedInvitation(t, org.organizationId, { greeterUserId: org.userId, type: "DEVICE", claimerEmail: null });
    const outcome = await t.app.admitInvited({
      organizationId: org.organizationId,
      invitationType: "DEVICE",
      token: invitation.token,
      clientApiVersion: { major: 2, revision: 1 },
    });
    expect(outcome.kind === "ok" && outcome.session.apiVersion).toEqual({ major: 2, revision: 10 });
  });

  it("bad_identity: unknown organization", async () => {
    const { t, invitation } = await invitedSetup();
    const outcome = await t.app.admitInvited({
      organizationId: orgId("NoSuchOrg"),
      invitationType: "USER",
      token: invitation.token,
      clientApiVersion: { major: 2, revision: 5 },
    });
    expect(outcome).toEqual(BAD_IDENTITY);
  });

  it("bad_identity: unknown token", async () => {
    const { t, org } = await invitedSetup();
    const token = InvitationToken.parse("0123456789abcdef0123456789abcdef");
    if (!token.ok) throw new Error(token.error);
    const outcome = await t.app.admitInvited({
      organizationId: org.organizationId,
      invitationType: "USER",
      token: token.value,
      clientApiVersion: { major: 2, revision: 5 },
    });
    expect(outcome).toEqual({ kind: "bad_identity", help: "Invalid handshake: Invitation not found" });
  });

  it("bad_identity: the token of another organization", async () => {
    const { t, invitation } = await invitedSetup();
    const other = await bootstrapOrganization(t, "OtherOrg");
    const outcome = await t.app.admitInvited({
      organizationId: other.organizationId,
      invitationType: "USER",
      token: invitation.token,
      clientApiVersion: { major: 2, revision: 5 },
    });
    expect(outcome).toEqual({ kind: "bad_identity", help: "Invalid handshake: Invitation not found" });
  });

  it("bad_identity: deleted invitation", async () => {
    const { t, org } = await setup();
    const invitation = await seedInvitation(t, org.organizationId, {
      greeterUserId: org.userId,
      status: "DELETED",
      deleted: { on: t.clock.now(), reason: "CANCELLED" },
    });
    const outcome = await t.app.admitInvited({
      organizationId: org.organizationId,
      invitationType: "USER",
      token: invitation.token,
      clientApiVersion: { major: 2, revision: 5 },
    });
    expect(outcome).toEqual({ kind: "bad_identity", help: "Invalid handshake: Invitation already deleted" });
  });

  it("bad_identity: invitation type mismatch", async () => {
    const { t, org, invitation } = await invitedSetup();
    const outcome = await t.app.admitInvited({
      organizationId: org.organizationId,
      invitationType: "DEVICE",
      token: invitation.token,
      clientApiVersion: { major: 2, revision: 5 },
    });
    expect(outcome).toEqual(BAD_IDENTITY);
  });

  it("organization_expired, checked before the invitation", async () => {
    const { t, org, invitation } = await invitedSetup();
    await t.app.patchOrganization(org.organizationId, { isExpired: true });
    const base = { organizationId: org.organizationId, invitationType: "USER" as const, clientApiVersion: { major: 2, revision: 5 } };
    expect(await t.app.admitInvited({ ...base, token: invitation.token })).toEqual(EXPIRED);
    const unknown = InvitationToken.parse("0123456789abcdef0123456789abcdef");
    if (!unknown.ok) throw new Error(unknown.error);
    expect(await t.app.admitInvited({ ...base, token: unknown.value })).toEqual(EXPIRED);
  });

  it("bad_protocol: unsupported API major", async () => {
    const { t, org, invitation } = await invitedSetup();
    const v = { major: 4, revision: 0 };
    expect(
      await t.app.admitInvited({ organizationId: org.organizationId, invitationType: "USER", token: invitation.token, clientApiVersion: v }),
    ).toEqual(incompatible(v));
  });
});

describe("checkSessionValidity", () => {
  const admit = async (t: TestApp, org: BootstrappedOrganization, token: InvitationToken) => {
    const outcome = await t.app.admitInvited({ organizationId: org.organizationId, invitationType: "DEVICE", token, clientApiVersion: { major: 2, revision: 5 } });
    if (outcome.kind !== "ok") throw new Error(outcome.kind);
    return outcome.session;
  };
  const login = async (t: TestApp, org: BootstrappedOrganization) => {
    const outcome = await t.app.authenticateDevice(answer(org));
    if (outcome.kind !== "ok") throw new Error(outcome.kind);
    return outcome.session;
  };

  it("valid: an authenticated session whose organization and user are fine", async () => {
    const { t, org } = await setup();
    expect(await t.app.checkSessionValidity(await login(t, org))).toBe("valid");
  });

  it("revoked: the user was revoked at or before now; a revocation dated later is not yet one", async () => {
    const { t, org } = await setup();
    const session = await login(t, org);
    revokeUserInStore(t, org.organizationId, org.userId, t.clock.now().addSeconds(10));
    expect(await t.app.checkSessionValidity(session)).toBe("valid");
    t.clock.advance(10);
    expect(await t.app.checkSessionValidity(session)).toBe("revoked");
  });

  it("organization_expired: the organization expired (checked before the revocation), or is gone", async () => {
    const { t, org } = await setup();
    const session = await login(t, org);
    await t.app.patchOrganization(org.organizationId, { isExpired: true });
    expect(await t.app.checkSessionValidity(session)).toBe("organization_expired");
    revokeUserInStore(t, org.organizationId, org.userId, t.clock.now());
    expect(await t.app.checkSessionValidity(session)).toBe("organization_expired");
    await t.app.patchOrganization(org.organizationId, { isExpired: false });
    expect(await t.app.checkSessionValidity(session)).toBe("revoked");
    expect(await t.app.checkSessionValidity({ ...session, organizationId: orgId("NoSuchOrg") })).toBe("organization_expired");
  });

  it("invited sessions: valid, invitation_deleted once the greeter deleted the invitation, organization_expired first", async () => {
    const { t, org } = await setup();
    const greeter = await login(t, org);
    const created = await t.app.inviteNew(greeter, { type: "DEVICE", sendEmail: false });
    if (created.kind !== "ok") throw new Error(created.kind);
    const claimer = await admit(t, org, created.token);
    expect(await t.app.checkSessionValidity(claimer)).toBe("valid");
    await t.app.patchOrganization(org.organizationId, { isExpired: true });
    expect(await t.app.checkSessionValidity(claimer)).toBe("organization_expired");
    await t.app.patchOrganization(org.organizationId, { isExpired: false });
    expect(await t.app.deleteInvitation(greeter, { token: created.token, reason: "CANCELLED" })).toEqual({ kind: "ok" });
    expect(await t.app.checkSessionValidity(claimer)).toBe("invitation_deleted");
  });

  it("invitation_deleted for an invitation the organization does not have", async () => {
    const { t, org } = await setup();
    const invitation = await seedInvitation(t, org.organizationId, { greeterUserId: org.userId, type: "DEVICE", claimerEmail: null });
    const claimer = await admit(t, org, invitation.token);
    const unknown = InvitationToken.parse("0123456789abcdef0123456789abcdef");
    if (!unknown.ok) throw new Error(unknown.error);
    expect(await t.app.checkSessionValidity({ ...claimer, invitation: { ...claimer.invitation, token: unknown.value } })).toBe("invitation_deleted");
  });
});
