import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pack } from "../../src/domain/serialization/msgpack.js";
import {
  admin,
  authenticatedAnswer,
  connectAuthenticated,
  connectChallenged,
  connectInvited,
  expectSession,
  finishHandshake,
  type HandshakeOutcome,
} from "../support/client.js";
import { randomEd25519 } from "../support/certificates.js";
import { fixtures } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { aliceOptions, createBootstrappedOrganization, uniqueOrganizationId, within } from "./helpers.js";

/** Handshakes the server must refuse, each with Parsec's `result`, and the socket closed afterwards. */
describe.skipIf(!fixtures)("WebSocket handshake refusals", () => {
  const f = fixtures!;
  let server: TestServer;
  let organizationId: string;

  beforeAll(async () => {
    server = await startTestServer();
    organizationId = await createBootstrappedOrganization(server, f);
  });
  afterAll(() => server?.stop());

  /** Expects a refusal with `result`, then the server closing the socket promptly. */
  const expectRefused = async (outcome: HandshakeOutcome<"authenticated" | "invited">, result: string) => {
    if (outcome.ok) {
      await outcome.session.close();
      throw new Error(`handshake accepted, expected ${result}`);
    }
    expect(outcome.result).toBe(result);
    expect(typeof outcome.help).toBe("string");
    expect(outcome.help.length).toBeGreaterThan(0);
    const closed = await within(2_000, outcome.closed, "server-side close after a refused handshake");
    expect(closed.code).toBe(1000);
  };

  it("accepts alice (control)", async () => {
    const session = expectSession(await connectAuthenticated(aliceOptions(server, f, organizationId)));
    expect(await session.ping()).toBe("ping");
    await session.close();
  });

  it("answers bad_protocol to an answer signed with another device's key (bob's, for alice's device)", async () => {
    await expectRefused(await connectAuthenticated(aliceOptions(server, f, organizationId, { signingKey: f.bob.signingKey })), "bad_protocol");
  });

  it("answers bad_protocol to alice's answer to the challenge of another connection (replay)", async () => {
    const first = await connectChallenged({ url: server.wsUrl });
    const second = await connectChallenged({ url: server.wsUrl });
    try {
      const replayed = authenticatedAnswer(aliceOptions(server, f, organizationId), first.challenge.challenge);
      await expectRefused(await finishHandshake("authenticated", second, replayed), "bad_protocol");
    } finally {
      await first.channel.close();
    }
  });

  it("answers bad_identity to an unknown device", async () => {
    await expectRefused(await connectAuthenticated(aliceOptions(server, f, organizationId, { deviceId: "zack@dev1" })), "bad_identity");
  });

  it("answers bad_identity to an unknown organization", async () => {
    await expectRefused(await connectAuthenticated(aliceOptions(server, f, uniqueOrganizationId("Nope"))), "bad_identity");
  });

  it("answers rvk_mismatch to a wrong root verify key", async () => {
    await expectRefused(await connectAuthenticated(aliceOptions(server, f, organizationId, { rootVerifyKey: randomEd25519().verifyKey })), "rvk_mismatch");
  });

  it("answers organization_expired once the organization is expired", async () => {
    const expired = await createBootstrappedOrganization(server, f);
    const patched = await admin(server.url, server.administrationToken).patchOrganization(expired, { is_expired: true });
    expect(patched.status).toBe(200);
    await expectRefused(await connectAuthenticated(aliceOptions(server, f, expired)), "organization_expired");
  });

  it.each([
    [[1, 3] as const],
    [[4, 0] as const],
  ])("answers bad_protocol to client API version %j (no shared major)", async (apiVersion) => {
    await expectRefused(await connectAuthenticated(aliceOptions(server, f, organizationId, { apiVersion })), "bad_protocol");
  });

  it("answers bad_protocol to a text frame as answer", async () => {
    const connection = await connectChallenged({ url: server.wsUrl });
    await expectRefused(await finishHandshake("authenticated", connection, '{"handshake": "answer"}'), "bad_protocol");
  });

  it.each([
    ["garbage bytes", Buffer.from([0xc1, 0xff, 0x00, 0x13, 0x37])],
    ["a msgpack array", pack([1, 2, 3])],
    ["a map without handshake", pack({ type: "AUTHENTICATED" })],
    ["an unknown client type", pack({ handshake: "answer", type: "ANONYMOUS", client_api_version: [3, 4], organization_id: "CoolOrg" })],
    ["an answer missing fields", pack({ handshake: "answer", type: "AUTHENTICATED", client_api_version: [3, 4] })],
  ])("answers bad_protocol to %s", async (_, frame) => {
    const connection = await connectChallenged({ url: server.wsUrl });
    await expectRefused(await finishHandshake("authenticated", connection, frame), "bad_protocol");
  });

  describe("invited peers", () => {
    it("answers bad_identity to an unknown organization", async () => {
      const outcome = await connectInvited({
        url: server.wsUrl,
        organizationId: uniqueOrganizationId("Nope"),
        invitationType: "USER",
        token: "0123456789abcdef0123456789abcdef",
      });
      await expectRefused(outcome, "bad_identity");
    });

    it("answers bad_identity to an unknown invitation", async () => {
      const outcome = await connectInvited({ url: server.wsUrl, organizationId, invitationType: "DEVICE", token: "0123456789abcdef0123456789abcdef" });
      await expectRefused(outcome, "bad_identity");
    });

    it("answers organization_expired to any claimer of an expired organization", async () => {
      const expired = await createBootstrappedOrganization(server, f);
      await admin(server.url, server.administrationToken).patchOrganization(expired, { is_expired: true });
      const outcome = await connectInvited({ url: server.wsUrl, organizationId: expired, invitationType: "USER", token: "0123456789abcdef0123456789abcdef" });
      await expectRefused(outcome, "organization_expired");
    });
  });

  it("survives clients leaving before answering, or right after answering", async () => {
    const early = await connectChallenged({ url: server.wsUrl });
    early.channel.ws.terminate();
    await early.channel.closed;
    const late = await connectChallenged({ url: server.wsUrl });
    late.channel.send(authenticatedAnswer(aliceOptions(server, f, organizationId), late.challenge.challenge));
    late.channel.ws.terminate();
    await late.channel.closed;
    const session = expectSession(await connectAuthenticated(aliceOptions(server, f, organizationId)));
    expect(await session.ping()).toBe("ping");
    await session.close();
  });

  it("logged no internal error", () => {
    expect(server.loggedErrors).toEqual([]);
  });
});
