import { generateKeyPairSync } from "node:crypto";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  MAX_INFLATED_CERTIFICATE_SIZE,
  describeLoadFailure,
  loadSequesterServiceCertificate,
  unsecureLoad,
  verifyAndLoad,
} from "../../src/domain/certificates/index.js";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";
import {
  deviceCertificate,
  randomEd25519,
  realmRoleCertificate,
  revokedUserCertificate,
  signCertificate,
  signPayload,
  userCertificate,
} from "../support/certificates.js";

const alice = randomEd25519();
const bob = randomEd25519();
const userKey = randomEd25519().verifyKey;
const timestamp = DateTime.fromEpochMicroseconds(1_638_618_643_208_821);
const realmId = "4486e7cf02d747bd9126679ba58e0474";
const rsaDer = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "der", type: "spki" });

const bobUser = {
  author: "alice@dev1",
  timestamp,
  userId: "bob",
  humanHandle: { email: "bob@example.com", label: "Boby McBobFace" },
  publicKey: userKey,
  profile: "STANDARD",
} as const;

const bobDevice = { author: "alice@dev1", timestamp, deviceId: "bob@dev1", deviceLabel: "My dev1 machine", verifyKey: bob.verifyKey } as const;

const asAlice = { type: "user_certificate", author: "alice@dev1" } as never;

describe("builders round-trip through verifyAndLoad", () => {
  it("user_certificate, normal and stored-block zlib", () => {
    for (const compression of ["default", "stored"] as const) {
      const signed = userCertificate(alice.signingKey, bobUser, { compression });
      expect(verifyAndLoad(signed, alice.verifyKey, { type: "user_certificate", author: "alice@dev1" as never })).toEqual({
        ok: true,
        certificate: { type: "user_certificate", ...bobUser, publicKey: Buffer.from(userKey) },
      });
    }
  });

  it("user_certificate signed by the root key (author nil), redacted (human_handle nil)", () => {
    const signed = userCertificate(alice.signingKey, { ...bobUser, author: null, humanHandle: null, profile: "ADMIN" });
    const loaded = verifyAndLoad(signed, alice.verifyKey, { type: "user_certificate", author: null });
    expect(loaded.ok && loaded.certificate).toMatchObject({ author: null, humanHandle: null, profile: "ADMIN" });
  });

  it("device_certificate, with and without label", () => {
    for (const deviceLabel of ["My dev1 machine", null]) {
      const signed = deviceCertificate(alice.signingKey, { ...bobDevice, deviceLabel });
      expect(verifyAndLoad(signed, alice.verifyKey, { type: "device_certificate", author: "alice@dev1" as never })).toEqual({
        ok: true,
        certificate: { type: "device_certificate", ...bobDevice, deviceLabel, verifyKey: Buffer.from(bob.verifyKey) },
      });
    }
  });

  it("revoked_user_certificate", () => {
    const signed = revokedUserCertificate(alice.signingKey, { author: "alice@dev1", timestamp, userId: "bob" });
    expect(verifyAndLoad(signed, alice.verifyKey, { type: "revoked_user_certificate", author: "alice@dev1" as never })).toEqual({
      ok: true,
      certificate: { type: "revoked_user_certificate", author: "alice@dev1", timestamp, userId: "bob" },
    });
  });

  it("realm_role_certificate, granted and removed", () => {
    for (const role of ["OWNER", "READER", null] as const) {
      const signed = realmRoleCertificate(alice.signingKey, { author: "alice@dev1", timestamp, realmId, userId: "bob", role });
      expect(verifyAndLoad(signed, alice.verifyKey, { type: "realm_role_certificate", author: "alice@dev1" as never })).toEqual({
        ok: true,
        certificate: { type: "realm_role_certificate", author: "alice@dev1", timestamp, realmId, userId: "bob", role },
      });
    }
  });

  it("realm_archiving, sequester authority and shamir certificates", () => {
    const archiving = signCertificate(alice.signingKey, {
      type: "realm_archiving_certificate",
      author: "alice@dev1",
      timestamp,
      realm_id: new WireUuid(realmId),
      configuration: { type: "DELETION_PLANNED", deletion_date: timestamp },
    });
    expect(unsecureLoad(archiving, "realm_archiving_certificate")).toMatchObject({
      ok: true,
      certificate: { realmId, configuration: { type: "DELETION_PLANNED", deletionDate: timestamp } },
    });
    const authority = signCertificate(alice.signingKey, { type: "sequester_authority_certificate", author: null, timestamp, verify_key_der: rsaDer });
    expect(verifyAndLoad(authority, alice.verifyKey, { type: "sequester_authority_certificate", author: null })).toMatchObject({
      ok: true,
      certificate: { author: null, verifyKeyDer: Buffer.from(rsaDer) },
    });
    const brief = signCertificate(alice.signingKey, {
      type: "shamir_recovery_brief_certificate",
      author: "alice@dev1",
      timestamp,
      threshold: 2,
      per_recipient_shares: { bob: 1, mallory: 2 },
    });
    const loadedBrief = unsecureLoad(brief, "shamir_recovery_brief_certificate");
    expect(loadedBrief.ok && [loadedBrief.certificate.threshold, [...loadedBrief.certificate.perRecipientShares]]).toEqual([
      2,
      [
        ["bob", 1],
        ["mallory", 2],
      ],
    ]);
    const share = signCertificate(alice.signingKey, {
      type: "shamir_recovery_share_certificate",
      author: "alice@dev1",
      timestamp,
      recipient: "bob",
      ciphered_share: Buffer.from("secret"),
    });
    expect(unsecureLoad(share)).toMatchObject({ ok: true, certificate: { recipient: "bob", cipheredShare: Buffer.from("secret") } });
  });
});

describe("legacy user certificates", () => {
  it("without human_handle and profile, is_admin decides ADMIN or STANDARD", () => {
    for (const [isAdmin, profile] of [
      [true, "ADMIN"],
      [false, "STANDARD"],
    ] as const) {
      const signed = userCertificate(alice.signingKey, bobUser, { omit: ["human_handle", "profile"], overrides: { is_admin: isAdmin } });
      expect(unsecureLoad(signed, "user_certificate")).toMatchObject({ ok: true, certificate: { humanHandle: null, profile } });
    }
  });

  it("profile, when present, wins over is_admin", () => {
    const signed = userCertificate(alice.signingKey, { ...bobUser, profile: "OUTSIDER" }, { overrides: { is_admin: true } });
    expect(unsecureLoad(signed, "user_certificate")).toMatchObject({ ok: true, certificate: { profile: "OUTSIDER" } });
  });

  it("a device certificate without device_label loads with a null label", () => {
    const signed = deviceCertificate(alice.signingKey, bobDevice, { omit: ["device_label"] });
    expect(unsecureLoad(signed, "device_certificate")).toMatchObject({ ok: true, certificate: { deviceLabel: null } });
  });
});

describe("verifyAndLoad failures", () => {
  const good = userCertificate(alice.signingKey, bobUser);

  it("bad_signature: another key, a flipped byte, fewer than 64 bytes, a malformed key", () => {
    const flipped = Buffer.from(good);
    flipped[100] = flipped[100]! ^ 0x80;
    for (const [signed, key] of [
      [good, bob.verifyKey],
      [flipped, alice.verifyKey],
      [good.subarray(0, 63), alice.verifyKey],
      [good, alice.verifyKey.subarray(0, 31)],
    ] as const) {
      expect(verifyAndLoad(signed, key, asAlice)).toEqual({ ok: false, reason: "bad_signature" });
    }
  });

  it("bad_compression: not zlib, a truncated stream, raw deflate", () => {
    const compressed = deflateSync(pack({ type: "user_certificate" }));
    for (const payload of [Buffer.from("not zlib at all"), compressed.subarray(0, compressed.length - 3), Buffer.alloc(0)]) {
      expect(verifyAndLoad(signPayload(alice.signingKey, payload), alice.verifyKey, asAlice)).toEqual({
        ok: false,
        reason: "bad_compression",
        detail: "not a valid zlib stream",
      });
    }
  });

  it("bad_compression: a zlib bomb beyond the inflated size cap", () => {
    const bomb = deflateSync(Buffer.alloc(MAX_INFLATED_CERTIFICATE_SIZE + 1), { level: 9 });
    expect(bomb.length).toBeLessThan(10_000);
    expect(verifyAndLoad(signPayload(alice.signingKey, bomb), alice.verifyKey, asAlice)).toEqual({
      ok: false,
      reason: "bad_compression",
      detail: `inflates beyond ${MAX_INFLATED_CERTIFICATE_SIZE} bytes`,
    });
  });

  it("bad_serialization: bad msgpack, not a map, unknown type, missing or ill-typed fields", () => {
    const cases: [Buffer, string][] = [
      [signPayload(alice.signingKey, deflateSync(Buffer.from([0xc1]))), ""],
      [signPayload(alice.signingKey, deflateSync(Buffer.concat([pack({ a: 1 }), pack(1)]))), "trailing"],
      [signPayload(alice.signingKey, deflateSync(pack([1, 2]))), "not a msgpack map"],
      [signCertificate(alice.signingKey, { type: "foo_certificate", author: "alice@dev1" }), "type: unknown certificate type"],
      [userCertificate(alice.signingKey, bobUser, { omit: ["user_id"] }), "user_id: missing"],
      [userCertificate(alice.signingKey, bobUser, { omit: ["is_admin"] }), "is_admin: missing"],
      [userCertificate(alice.signingKey, bobUser, { overrides: { user_id: "bob smith" } }), "user_id: Invalid UserID"],
      [userCertificate(alice.signingKey, bobUser, { overrides: { public_key: Buffer.alloc(31) } }), "public_key: expected 32 bytes"],
      [userCertificate(alice.signingKey, bobUser, { overrides: { public_key: "a string" } }), "public_key: not bytes"],
      [userCertificate(alice.signingKey, bobUser, { overrides: { profile: "ROOT" } }), "profile: unknown profile"],
      [userCertificate(alice.signingKey, bobUser, { overrides: { profile: null } }), "profile: unknown profile"],
      [userCertificate(alice.signingKey, bobUser, { overrides: { timestamp: 1_638_618_643.2 } }), "timestamp: not a DateTime"],
      [userCertificate(alice.signingKey, bobUser, { overrides: { human_handle: ["bob@example.com"] } }), "human_handle: not an [email, label] pair"],
      [userCertificate(alice.signingKey, bobUser, { overrides: { human_handle: ["not an email", "Bob"] } }), "human_handle: Invalid email address"],
      [userCertificate(alice.signingKey, bobUser, { overrides: { author: "alice" } }), "author: Invalid DeviceID"],
    ];
    for (const [signed, detail] of cases) {
      const loaded = verifyAndLoad(signed, alice.verifyKey, asAlice);
      expect(loaded).toMatchObject({ ok: false, reason: "bad_serialization" });
      if (!loaded.ok && loaded.reason === "bad_serialization") expect(loaded.detail).toContain(detail);
    }
  });

  it("bad_serialization on type-specific fields", () => {
    const role = (overrides: Record<string, unknown>) =>
      realmRoleCertificate(alice.signingKey, { author: "alice@dev1", timestamp, realmId, userId: "bob", role: "OWNER" }, { overrides });
    expect(unsecureLoad(role({ role: "ADMIN" }))).toMatchObject({ reason: "bad_serialization", detail: "role: unknown role" });
    expect(unsecureLoad(role({ realm_id: Buffer.from(realmId, "hex") }))).toMatchObject({ detail: "realm_id: not a UUID" });
    expect(unsecureLoad(realmRoleCertificate(alice.signingKey, { author: "alice@dev1", timestamp, realmId, userId: "bob", role: null }, { omit: ["role"] })))
      .toMatchObject({ detail: "role: missing" });
    expect(unsecureLoad(revokedUserCertificate(alice.signingKey, { author: "alice@dev1", timestamp, userId: "bob" }, { overrides: { author: null } })))
      .toMatchObject({ reason: "bad_serialization", detail: "author: Invalid DeviceID: not a string" });
    const authority = (overrides: Record<string, unknown>) =>
      signCertificate(alice.signingKey, { type: "sequester_authority_certificate", author: null, timestamp, verify_key_der: rsaDer, ...overrides });
    expect(unsecureLoad(authority({ author: "alice@dev1" }))).toMatchObject({ detail: "author: must be nil (root)" });
    expect(unsecureLoad(authority({ verify_key_der: Buffer.from("junk") }))).toMatchObject({ detail: "verify_key_der: not a DER SubjectPublicKeyInfo" });
    expect(unsecureLoad(authority({ verify_key_der: bob.verifyKey }))).toMatchObject({ reason: "bad_serialization" });
    const archiving = signCertificate(alice.signingKey, {
      type: "realm_archiving_certificate",
      author: "alice@dev1",
      timestamp,
      realm_id: new WireUuid(realmId),
      configuration: { type: "DELETION_PLANNED" },
    });
    expect(unsecureLoad(archiving)).toMatchObject({ detail: "deletion_date: missing" });
    const brief = signCertificate(alice.signingKey, {
      type: "shamir_recovery_brief_certificate",
      author: "alice@dev1",
      timestamp,
      threshold: 0,
      per_recipient_shares: {},
    });
    expect(unsecureLoad(brief)).toMatchObject({ detail: "threshold: not a positive integer" });
  });

  it("wrong_type: a well-formed certificate of another type", () => {
    const device = deviceCertificate(alice.signingKey, bobDevice);
    expect(verifyAndLoad(device, alice.verifyKey, asAlice)).toEqual({
      ok: false,
      reason: "wrong_type",
      expected: "user_certificate",
      got: "device_certificate",
    });
    expect(unsecureLoad(device, "user_certificate")).toMatchObject({ ok: false, reason: "wrong_type" });
  });

  it("unexpected_author: another device, a device where the root is expected, the root where a device is expected", () => {
    expect(verifyAndLoad(good, alice.verifyKey, { type: "user_certificate", author: "bob@dev1" as never })).toEqual({
      ok: false,
      reason: "unexpected_author",
      expected: "bob@dev1",
      got: "alice@dev1",
    });
    expect(verifyAndLoad(good, alice.verifyKey, { type: "user_certificate", author: null })).toEqual({
      ok: false,
      reason: "unexpected_author",
      expected: null,
      got: "alice@dev1",
    });
    const byRoot = userCertificate(alice.signingKey, { ...bobUser, author: null });
    expect(verifyAndLoad(byRoot, alice.verifyKey, asAlice)).toEqual({ ok: false, reason: "unexpected_author", expected: "alice@dev1", got: null });
  });

  it("checks the signature before anything else", () => {
    const garbage = signPayload(alice.signingKey, Buffer.from("garbage"));
    expect(verifyAndLoad(garbage, bob.verifyKey, asAlice)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("describes failures in upstream's words", () => {
    expect(describeLoadFailure({ ok: false, reason: "bad_signature" })).toBe("Invalid signature");
    expect(describeLoadFailure({ ok: false, reason: "bad_compression", detail: "x" })).toBe("Invalid compression");
    expect(describeLoadFailure({ ok: false, reason: "wrong_type", expected: "a", got: "b" })).toBe("Invalid serialization");
    expect(describeLoadFailure({ ok: false, reason: "unexpected_author", expected: "bob@dev1" as never, got: null })).toBe(
      "Invalid author: expected `bob@dev1`, got `None`",
    );
    expect(describeLoadFailure({ ok: false, reason: "unexpected_author", expected: null, got: "bob@dev1" as never })).toBe(
      "Invalid author: expected Root(None), got `bob@dev1`",
    );
  });
});

describe("unsecureLoad", () => {
  it("reads the author without any key", () => {
    expect(unsecureLoad(userCertificate(bob.signingKey, bobUser))).toMatchObject({ ok: true, certificate: { author: "alice@dev1" } });
  });

  it("fails on fewer than 64 bytes", () => {
    expect(unsecureLoad(Buffer.alloc(63))).toEqual({ ok: false, reason: "bad_signature" });
  });
});

describe("loadSequesterServiceCertificate", () => {
  const service = (content: Record<string, unknown>) => deflateSync(pack(content));
  const base = {
    type: "sequester_service_certificate",
    timestamp,
    service_id: new WireUuid("b5eb565343c442b3a26be44573813ff0"),
    service_label: "foo",
    encryption_key_der: rsaDer,
  };

  it("loads zlib(msgpack) without a signature prefix", () => {
    expect(loadSequesterServiceCertificate(service(base))).toMatchObject({ ok: true, certificate: { serviceLabel: "foo" } });
  });

  it("refuses another type, a missing label, a non-RSA key, bad zlib", () => {
    expect(loadSequesterServiceCertificate(service({ ...base, type: "user_certificate" }))).toMatchObject({ reason: "wrong_type" });
    expect(loadSequesterServiceCertificate(service({ ...base, type: undefined }))).toMatchObject({ reason: "bad_serialization" });
    expect(loadSequesterServiceCertificate(service({ ...base, service_label: 3 }))).toMatchObject({ detail: "service_label: not a string" });
    const ed = generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" });
    expect(loadSequesterServiceCertificate(service({ ...base, encryption_key_der: ed }))).toMatchObject({
      detail: "encryption_key_der: not an RSA key",
    });
    expect(loadSequesterServiceCertificate(Buffer.from("nope"))).toMatchObject({ reason: "bad_compression" });
  });
});
