import { randomBytes } from "node:crypto";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createWireEngine } from "../../src/adapters/protocol/engine.js";
import { decodeHandshakeAnswer } from "../../src/adapters/protocol/handshake.js";
import { decodeRequest } from "../../src/adapters/protocol/registry.js";
import { unpackWire } from "../../src/adapters/protocol/wire.js";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";
import { bootstrapOrganization, buildTestApp, login } from "../support/app.js";
import { newUserCertificates, randomEd25519, signPayload } from "../support/certificates.js";
import { addUser } from "../support/world.js";

/**
 * The strict msgpack decoder seen from the wire engine: a request frame holding an extension type Parsec does not
 * define or a key twice answers `bad_message`; a certificate holding one answers `invalid_certification`
 * (`realm_create`, `realm_update_roles`, `user_create`); garbage still answers `invalid_msg_format`, and unknown
 * certificate fields are still accepted (forward compatibility).
 */

/** A msgpack map written entry by entry, so that a key may repeat; values are msgpack bytes or values to pack. */
const rawMap = (entries: readonly (readonly [string, unknown])[]): Buffer => {
  const header = entries.length < 16 ? Buffer.from([0x80 | entries.length]) : Buffer.from([0xde, entries.length >> 8, entries.length & 0xff]);
  return Buffer.concat([header, ...entries.flatMap(([k, v]) => [pack(k), v instanceof RawMsgpack ? v.bytes : pack(v)])]);
};

/** Bytes written as they are inside {@link rawMap}. */
class RawMsgpack {
  constructor(readonly bytes: Buffer) {}
}

const BIGINT_EXT = new RawMsgpack(Buffer.from("d44200", "hex"));

type Step = Awaited<ReturnType<ReturnType<typeof createWireEngine>["command"]>>;

const replyOf = (step: Step): Record<string, unknown> => {
  if (step === null || "close" in step) throw new Error(`expected a reply, got ${JSON.stringify(step)}`);
  return unpackWire(step.frame) as Record<string, unknown>;
};

const setup = async () => {
  const t = buildTestApp();
  const org = await bootstrapOrganization(t);
  const alice = await login(t, org, org.deviceId, org.deviceKey);
  const engine = createWireEngine(t.app);
  const send = async (frame: Buffer, session = alice.session) =>
    replyOf(await engine.command(session, frame, false, { newRequest: new AbortController().signal, closed: new AbortController().signal }, () => {}));
  return { t, org, alice, engine, send };
};

/** The fields of a `realm_role_certificate` by alice, in schema order. */
const roleFields = (w: Awaited<ReturnType<typeof setup>>, realmId: string, userId: string, role: unknown): [string, unknown][] => [
  ["type", "realm_role_certificate"],
  ["author", w.alice.deviceId],
  ["timestamp", w.t.clock.now()],
  ["realm_id", new WireUuid(realmId)],
  ["user_id", userId],
  ["role", role],
];

/** `signature ‖ zlib(map)` signed with alice's key, the map written entry by entry. */
const signedByAlice = (w: Awaited<ReturnType<typeof setup>>, entries: readonly (readonly [string, unknown])[]): Buffer =>
  signPayload(w.alice.key.signingKey, deflateSync(rawMap(entries)));

const newRealmId = (): string => randomBytes(16).toString("hex");

describe("request frames", () => {
  it("a duplicate key answers bad_message naming it, at the top level or nested", async () => {
    const { send } = await setup();
    const realmId = new WireUuid(newRealmId());
    const top = rawMap([
      ["cmd", "realm_status"],
      ["realm_id", realmId],
      ["realm_id", new WireUuid(newRealmId())],
    ]);
    expect(await send(top)).toEqual({ status: "bad_message", reason: expect.stringContaining('duplicate key "realm_id"') });
    const cmdTwice = rawMap([
      ["cmd", "realm_status"],
      ["cmd", "realm_create"],
    ]);
    expect(await send(cmdTwice)).toMatchObject({ status: "bad_message", reason: expect.stringContaining('duplicate key "cmd"') });
    const nested = rawMap([
      ["cmd", "vlob_maintenance_save_reencryption_batch"],
      ["realm_id", realmId],
      ["encryption_revision", 2],
      ["batch", new RawMsgpack(Buffer.concat([Buffer.from([0x91]), rawMap([["version", 1], ["version", 2]])]))],
    ]);
    expect(await send(nested)).toMatchObject({ status: "bad_message", reason: expect.stringContaining('duplicate key "version"') });
  });

  it("an extension type Parsec does not define (0x42 BigInt, 0 undefined, -1 timestamp) answers bad_message, in a known or unknown field", async () => {
    const { send } = await setup();
    for (const ext of ["d44200", "d40000", "d6ff00000000"]) {
      const value = new RawMsgpack(Buffer.from(ext, "hex"));
      expect(await send(rawMap([["cmd", "realm_status"], ["realm_id", value]]))).toEqual({
        status: "bad_message",
        reason: expect.stringContaining("unknown msgpack extension type"),
      });
      expect(await send(rawMap([["cmd", "realm_status"], ["realm_id", new WireUuid(newRealmId())], ["extra", value]]))).toMatchObject({ status: "bad_message" });
    }
  });

  it("garbage still answers invalid_msg_format; unknown fields are still ignored", async () => {
    const { send, alice } = await setup();
    const INVALID = { status: "invalid_msg_format", reason: "Invalid message format" };
    expect(await send(Buffer.from([0xc1]))).toEqual(INVALID);
    expect(await send(Buffer.from("81a3636d64", "hex"))).toEqual(INVALID);
    expect(await send(Buffer.from("dfffffffff", "hex"))).toEqual(INVALID);
    expect(await send(Buffer.concat([pack({ cmd: "ping" }), Buffer.from([0xc0])]))).toEqual(INVALID);
    expect(await send(pack({ cmd: "user_get", user_id: alice.userId, future_field: [1, 2] }))).toMatchObject({ status: "ok" });
  });

  it("a frame beyond the element limit answers bad_message", async () => {
    const { send } = await setup();
    const count = 200_000;
    const emptyMaps = Buffer.concat([Buffer.from([0xdd, 0, 0, 0, 0]), Buffer.alloc(count, 0x80)]);
    emptyMaps.writeUInt32BE(count, 1);
    const frame = rawMap([["cmd", "realm_status"], ["realm_id", new WireUuid(newRealmId())], ["padding", new RawMsgpack(emptyMaps)]]);
    expect(await send(frame)).toEqual({ status: "bad_message", reason: "msgpack message holds more than 100000 elements" });
  });

  it("callers can pass tighter limits (decodeRequest, decodeHandshakeAnswer)", () => {
    const frame = pack({ cmd: "realm_status", realm_id: new WireUuid(newRealmId()) });
    expect(decodeRequest("authenticated", frame).kind).toBe("ok");
    expect(decodeRequest("authenticated", frame, { maxDepth: 4, maxElements: 4 })).toEqual({
      kind: "bad_message",
      reason: "msgpack message holds more than 4 elements",
    });
    expect(decodeHandshakeAnswer(rawMap([["handshake", "answer"], ["handshake", "answer"]]))).toMatchObject({
      kind: "bad_answer",
      reason: expect.stringContaining("duplicate key"),
    });
    expect(decodeHandshakeAnswer(pack({ handshake: "answer", type: "INVITED" }), { maxDepth: 1, maxElements: 3 })).toMatchObject({
      kind: "bad_answer",
      reason: "msgpack message holds more than 3 elements",
    });
  });
});

describe("certificates", () => {
  it("realm_create: ext 0x42 or a duplicate key in the role certificate answers invalid_certification; an unknown field is accepted", async () => {
    const w = await setup();
    const realmId = newRealmId();
    const fields = roleFields(w, realmId, w.alice.userId, "OWNER");
    const create = (certificate: Buffer) => w.send(pack({ cmd: "realm_create", role_certificate: certificate }));
    const invalid = { status: "invalid_certification" };
    expect(await create(signedByAlice(w, [...fields, ["sneaky", BIGINT_EXT]]))).toMatchObject(invalid);
    expect(await create(signedByAlice(w, [...fields.slice(0, 5), ["role", BIGINT_EXT]]))).toMatchObject(invalid);
    expect(await create(signedByAlice(w, [...fields, ["role", "OWNER"]]))).toMatchObject(invalid);
    expect(await create(signedByAlice(w, [...fields, ["future", new RawMsgpack(rawMap([["a", 1], ["a", 2]]))]]))).toMatchObject(invalid);
    expect(await w.t.deps.realms.get(w.org.organizationId, realmId as never)).toBeNull();

    expect(await create(signedByAlice(w, [...fields, ["future_field", { nested: [1, "x", null] }]]))).toEqual({ status: "ok" });
  });

  it("realm_update_roles: a role map {role: READER, role: OWNER} answers invalid_certification and grants nothing", async () => {
    const w = await setup();
    const bob = await addUser({ t: w.t, org: w.org }, w.alice, { userId: "bob" });
    const realmId = newRealmId();
    expect(await w.send(pack({ cmd: "realm_create", role_certificate: signedByAlice(w, roleFields(w, realmId, w.alice.userId, "OWNER")) }))).toEqual({
      status: "ok",
    });
    const poisoned = [...roleFields(w, realmId, bob.userId, "READER"), ["role", "OWNER"]] as const;
    const update = (certificate: Buffer) => w.send(pack({ cmd: "realm_update_roles", role_certificate: certificate, recipient_message: null }));
    expect(await update(signedByAlice(w, poisoned))).toMatchObject({ status: "invalid_certification" });
    expect(await w.send(pack({ cmd: "realm_status", realm_id: new WireUuid(realmId) }), bob.session)).toMatchObject({ status: "not_allowed" });

    expect(await update(signedByAlice(w, [...roleFields(w, realmId, bob.userId, "READER"), ["future_field", 1]]))).toEqual({ status: "ok" });
    expect(await w.send(pack({ cmd: "realm_status", realm_id: new WireUuid(realmId) }), bob.session)).toMatchObject({ status: "ok" });
  });

  it("user_create: ext 0x42 or a duplicate key in a certificate answers invalid_certification; an unknown field is accepted", async () => {
    const w = await setup();
    const build = (userId: string) => {
      const fields = {
        author: w.alice.deviceId,
        timestamp: w.t.clock.now(),
        userId,
        humanHandle: { email: `${userId}@example.com`, label: userId },
        publicKey: randomEd25519().verifyKey,
        profile: "STANDARD",
        deviceId: `${userId}@dev1`,
        deviceLabel: "dev1",
        verifyKey: randomEd25519().verifyKey,
      } as const;
      const userEntries: [string, unknown][] = [
        ["type", "user_certificate"],
        ["author", fields.author],
        ["timestamp", fields.timestamp],
        ["user_id", userId],
        ["human_handle", [fields.humanHandle.email, fields.humanHandle.label]],
        ["public_key", fields.publicKey],
        ["is_admin", false],
        ["profile", "STANDARD"],
      ];
      return { certificates: newUserCertificates(w.alice.key.signingKey, fields), userEntries };
    };
    const create = (c: ReturnType<typeof newUserCertificates>) =>
      w.send(
        pack({
          cmd: "user_create",
          user_certificate: c.userCertificate,
          device_certificate: c.deviceCertificate,
          redacted_user_certificate: c.redactedUserCertificate,
          redacted_device_certificate: c.redactedDeviceCertificate,
        }),
      );
    const invalid = { status: "invalid_certification" };

    const zoe = build("zoe");
    expect(await create({ ...zoe.certificates, userCertificate: signedByAlice(w, [...zoe.userEntries, ["user_id", "zoe"]]) })).toMatchObject(invalid);
    expect(await create({ ...zoe.certificates, userCertificate: signedByAlice(w, [...zoe.userEntries, ["x", BIGINT_EXT]]) })).toMatchObject(invalid);
    expect(await w.send(pack({ cmd: "user_get", user_id: "zoe" }))).toMatchObject({ status: "not_found" });

    expect(await create({ ...zoe.certificates, userCertificate: signedByAlice(w, [...zoe.userEntries, ["future_field", "later"]]) })).toEqual({
      status: "ok",
    });
  });
});

describe("findings of the decoder's review", () => {
  /** An ApiVersion (ext 3) wrapped in itself `levels` times: each level decoded to a valid [major, revision] before. */
  const ext3Chain = (levels: number): RawMsgpack => {
    let chain = Buffer.from("920102", "hex");
    for (let i = 0; i < levels; i++)
      chain = Buffer.concat([chain.length < 256 ? Buffer.from([0xc7, chain.length, 3]) : Buffer.from([0xc8, chain.length >> 8, chain.length & 0xff, 3]), chain]);
    return new RawMsgpack(chain);
  };

  it("a certificate holding 3000 nested ext 3 payloads answers invalid_certification (it overflowed the stack and closed the connection with 1011)", async () => {
    const w = await setup();
    const realmId = newRealmId();
    const certificate = signedByAlice(w, [...roleFields(w, realmId, w.alice.userId, "OWNER"), ["future", ext3Chain(3000)]]);
    expect(await w.send(pack({ cmd: "realm_create", role_certificate: certificate }))).toMatchObject({ status: "invalid_certification" });
  });

  it("an anonymous organization_bootstrap with such a certificate gets an answer, not a crash (HTTP 500 before)", async () => {
    const w = await setup();
    const root = randomEd25519();
    const certificate = signPayload(root.signingKey, deflateSync(rawMap([["type", "user_certificate"], ["future", ext3Chain(3000)]])));
    const frame = pack({
      cmd: "organization_bootstrap",
      bootstrap_token: "whatever",
      root_verify_key: root.verifyKey,
      user_certificate: certificate,
      device_certificate: certificate,
      redacted_user_certificate: certificate,
      redacted_device_certificate: certificate,
    });
    const step = await w.engine.anonymous(w.org.organizationId, frame);
    expect(step.ok).toBe(true);
    if (step.ok) expect(["invalid_certification", "bad_message", "invalid_data"]).toContain(step.status);
  });

  it("unauthenticated frames are decoded with tighter limits (1000 elements): a handshake answer or anonymous body beyond them is refused", async () => {
    const w = await setup();
    const padding = new RawMsgpack(Buffer.concat([Buffer.from([0xdc, 0x07, 0xd0]), Buffer.alloc(2000, 0xc0)]));
    const bootstrap = rawMap([["cmd", "organization_bootstrap"], ["padding", padding]]);
    // Under the default limits the same body fails only on its fields.
    expect(decodeRequest("anonymous", bootstrap)).not.toMatchObject({ reason: expect.stringContaining("elements") });
    const step = await w.engine.anonymous(w.org.organizationId, bootstrap);
    expect(step).toMatchObject({ ok: true, status: "bad_message" });
    expect(unpackWire((step as { frame: Buffer }).frame)).toMatchObject({ reason: "msgpack message holds more than 1000 elements" });
    const answer = rawMap([["handshake", "answer"], ["type", "AUTHENTICATED"], ["padding", padding]]);
    const result = await w.engine.handshake(answer, Buffer.alloc(64), false);
    expect(unpackWire((result as { frame: Buffer }).frame)).toMatchObject({ result: "bad_protocol", help: expect.stringContaining("more than 1000 elements") });
  });

  it("two user ids that decode to one (precomposed and decomposed é) in a Map<UserID, …> answer bad_message, not one silently dropped", () => {
    const frame = rawMap([
      ["cmd", "realm_start_reencryption_maintenance"],
      ["realm_id", new WireUuid(newRealmId())],
      ["encryption_revision", 2],
      ["timestamp", DateTime.fromEpochSeconds(1_700_000_000)],
      ["per_participant_message", new RawMsgpack(rawMap([["\u00e9", Buffer.from([1])], ["e\u0301", Buffer.from([2])]]))],
    ]);
    expect(decodeRequest("authenticated", frame)).toMatchObject({ kind: "bad_message", reason: expect.stringContaining("duplicate key") });
  });
});
