import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createWireEngine } from "../../src/adapters/protocol/engine.js";
import { unpackWire } from "../../src/adapters/protocol/wire.js";
import { EVENT_QUEUE_CAPACITY } from "../../src/application/events/index.js";
import type { InvitedSession } from "../../src/application/index.js";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";
import { authenticate, bootstrapOrganization, buildTestApp, deviceId, orgId, seedInvitation, type TestApp, type TestAppOptions } from "../support/app.js";

/**
 * Status audit at the wire engine (`engine.ts`, the generic replies of `registry.ts`): the replies no other test
 * asserted for a family or a configuration — `unknown_command` for the commands of the schema without a handler
 * (`ping` outside debug mode, archiving), the generic replies of the invited family, the anonymous steps (HTTP 404,
 * 415, 460, `bad_message` in a 200), the handshake's `bad_protocol` for a text or malformed answer, and the
 * connection closed (1008) instead of a reply when an event queue overflowed.
 */

type Step = Awaited<ReturnType<ReturnType<typeof createWireEngine>["command"]>>;

/** The reply map of a served step (fails on a close or no reply). */
const replyOf = (step: Step): Record<string, unknown> => {
  if (step === null || "close" in step) throw new Error(`expected a reply, got ${JSON.stringify(step)}`);
  const reply = unpackWire(step.frame) as Record<string, unknown>;
  expect(reply["status"]).toBe(step.status);
  return reply;
};

const setup = async (options: TestAppOptions = {}) => {
  const t = buildTestApp(options);
  const org = await bootstrapOrganization(t);
  const alice = await authenticate(t, org);
  const engine = createWireEngine(t.app);
  const send = async (frame: Buffer | string, session: Parameters<typeof engine.command>[0] = alice, signal = new AbortController().signal) =>
    engine.command(session, typeof frame === "string" ? Buffer.from(frame) : frame, typeof frame === "string", { newRequest: signal, closed: new AbortController().signal }, () => {});
  return { t, org, alice, engine, send };
};

const invitedSession = async (t: TestApp, organizationId: ReturnType<typeof orgId>, greeterUserId: Parameters<typeof seedInvitation>[2]["greeterUserId"]) => {
  const invitation = await seedInvitation(t, organizationId, { greeterUserId, type: "DEVICE", claimerEmail: null });
  const admitted = await t.app.admitInvited({ organizationId, invitationType: "DEVICE", token: invitation.token, clientApiVersion: { major: 2, revision: 5 } });
  if (admitted.kind !== "ok") throw new Error(admitted.kind);
  return admitted.session as InvitedSession;
};

const UNKNOWN_COMMAND = { status: "unknown_command", reason: "Unknown command" };
const INVALID_MSG_FORMAT = { status: "invalid_msg_format", reason: "Invalid message format" };

describe("authenticated family: unknown_command for schema commands without a handler", () => {
  it("ping answers unknown_command outside debug mode (Parsec v2.16.3 serves it only in debug), ok in debug mode", async () => {
    const off = await setup({ debug: false });
    expect(replyOf(await off.send(pack({ cmd: "ping", ping: "x" })))).toEqual(UNKNOWN_COMMAND);
    const on = await setup({ debug: true });
    expect(replyOf(await on.send(pack({ cmd: "ping", ping: "x" })))).toEqual({ status: "ok", pong: "x" });
  });

  it("realm_update_archiving (no archiving storage) answers unknown_command, archiving_config ok with no realm", async () => {
    const { send } = await setup();
    expect(replyOf(await send(pack({ cmd: "archiving_config" })))).toEqual({ status: "ok", archiving_config: [] });
    expect(replyOf(await send(pack({ cmd: "realm_update_archiving", archiving_certificate: Buffer.from("c") })))).toEqual(UNKNOWN_COMMAND);
    // A malformed request of a schema command is bad_message, as for a served one (decoding comes first).
    expect(replyOf(await send(pack({ cmd: "realm_update_archiving" })))).toMatchObject({ status: "bad_message", reason: expect.any(String) });
  });
});

describe("invited family: the generic replies", () => {
  it("invalid_msg_format, unknown_command (an authenticated command, a schema command without a handler), bad_message, then ok", async () => {
    const { t, org, alice, send } = await setup({ debug: false });
    const claimer = await invitedSession(t, org.organizationId, alice.userId);
    expect(replyOf(await send('{"cmd": "invite_info"}', claimer))).toEqual(INVALID_MSG_FORMAT);
    expect(replyOf(await send(pack(["invite_info"]), claimer))).toEqual(INVALID_MSG_FORMAT);
    expect(replyOf(await send(Buffer.from([0xc1]), claimer))).toEqual(INVALID_MSG_FORMAT);
    expect(replyOf(await send(pack({ cmd: "vlob_read" }), claimer))).toEqual(UNKNOWN_COMMAND);
    expect(replyOf(await send(pack({ cmd: "ping", ping: "x" }), claimer))).toEqual(UNKNOWN_COMMAND);
    expect(replyOf(await send(pack({ cmd: "invite_shamir_recovery_reveal", reveal_token: new WireUuid(randomUUID().replace(/-/g, "")) }), claimer))).toEqual(
      UNKNOWN_COMMAND,
    );
    expect(replyOf(await send(pack({ cmd: "invite_1_claimer_wait_peer" }), claimer))).toMatchObject({ status: "bad_message", reason: expect.any(String) });
    expect(replyOf(await send(pack({ cmd: "invite_info" }), claimer))).toMatchObject({ status: "ok", type: "DEVICE" });
  });
});

describe("events_listen: an overflowed queue closes the connection instead of replying", () => {
  it("answers the step close 1008 'Too many pending events'", async () => {
    const { t, org, send } = await setup();
    expect(replyOf(await send(pack({ cmd: "events_subscribe" })))).toEqual({ status: "ok" });
    for (let i = 0; i <= EVENT_QUEUE_CAPACITY; i++)
      await t.deps.events.publishNow({ type: "pinged", organizationId: org.organizationId, author: deviceId("bob@dev1"), ping: `${i}` });
    await t.events.idle();
    expect(await send(pack({ cmd: "events_listen", wait: false }))).toEqual({ close: { code: 1008, reason: "Too many pending events" }, cmd: "events_listen" });
  });
});

describe("handshake: bad_protocol for an answer that is not one", () => {
  it("a text frame, garbage, a map that is no handshake answer", async () => {
    const { engine } = await setup();
    const { challenge } = engine.challenge();
    const text = await engine.handshake(Buffer.from('{"handshake": "answer"}'), challenge, true);
    expect(text).toMatchObject({ ok: false, result: "bad_protocol", reason: "Expected bytes message in websocket" });
    for (const frame of [Buffer.from([0xc1, 0x00]), pack({ handshake: "answer", type: "NOPE" }), pack(["answer"])]) {
      const step = await engine.handshake(frame, challenge, false);
      expect(step).toMatchObject({ ok: false, result: "bad_protocol", reason: expect.stringMatching(/^Invalid handshake answer: /) });
      if (step.ok) throw new Error("accepted");
      expect(unpackWire(step.frame)).toMatchObject({ handshake: "result", result: "bad_protocol" });
    }
  });
});

describe("anonymous steps (HTTP /anonymous/<organization>)", () => {
  const fields = { cmd: "pki_enrollment_info", enrollment_id: new WireUuid("0123456789abcdef0123456789abcdef") };

  it("precheck: 404 unknown (GET, or POST without spontaneous bootstrap), 460 expired, null otherwise", async () => {
    const { t, org, engine } = await setup();
    const unknown = orgId("Unknown");
    expect(await engine.anonymousPrecheck(unknown, "POST")).toBe(404);
    expect(await engine.anonymousPrecheck(unknown, "GET")).toBe(404);
    expect(await engine.anonymousPrecheck(org.organizationId, "POST")).toBeNull();
    expect(await t.app.createOrganization({ organizationId: orgId("Fresh") })).toMatchObject({ kind: "ok" });
    expect(await engine.anonymousPrecheck(orgId("Fresh"), "GET")).toBeNull();
    expect(await t.app.patchOrganization(org.organizationId, { isExpired: true })).toEqual({ kind: "ok" });
    expect(await engine.anonymousPrecheck(org.organizationId, "POST")).toBe(460);
    expect(await engine.anonymousPrecheck(org.organizationId, "GET")).toBe(460);

    const spontaneous = await setup({ spontaneousOrganizationBootstrap: true });
    expect(await spontaneous.engine.anonymousPrecheck(unknown, "POST")).toBeNull();
    expect(await spontaneous.engine.anonymousPrecheck(unknown, "GET")).toBe(404);
  });

  it("415 for a body that is no request, an unknown command, or a schema command without a handler (PKI)", async () => {
    const { org, engine } = await setup();
    for (const body of [Buffer.from([0xc1]), Buffer.alloc(0), pack(["x"]), pack({ cmd: "nope" }), pack({ cmd: "ping", ping: "x" }), pack(fields)])
      expect(await engine.anonymous(org.organizationId, body)).toEqual({ ok: false, httpStatus: 415 });
  });

  it("bad_message in a 200 reply for a malformed organization_bootstrap (as Parsec's api decorator answers)", async () => {
    const { org, engine } = await setup();
    const step = await engine.anonymous(org.organizationId, pack({ cmd: "organization_bootstrap", bootstrap_token: "x" }));
    if (!step.ok) throw new Error(`HTTP ${step.httpStatus}`);
    expect(step.status).toBe("bad_message");
    expect(unpackWire(step.frame)).toMatchObject({ status: "bad_message", reason: expect.any(String) });
  });

  it("with spontaneous bootstrap, 404 for a well-formed command other than organization_bootstrap on an unknown organization", async () => {
    const { engine } = await setup({ spontaneousOrganizationBootstrap: true });
    expect(await engine.anonymous(orgId("Unknown"), pack(fields))).toEqual({ ok: false, httpStatus: 404 });
  });
});
