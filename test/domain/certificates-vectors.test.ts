import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  loadSequesterServiceCertificate,
  unsecureLoad,
  verifyAndLoad,
  type SignedCertificateType,
} from "../../src/domain/certificates/index.js";
import { RealmID, SequesterServiceID } from "../../src/domain/ids.js";
import { DateTime } from "../../src/domain/time.js";
import { deviceCertificate, userCertificate } from "../support/certificates.js";
import { fixtures, readSharedJson } from "../support/fixtures.js";

interface CertificateVector {
  id: string;
  kind: string;
  certificate_type: string;
  raw_hex: string;
  msgpack_hex: string;
  signed: boolean;
  signature_verifies_with?: string[];
  expected: Record<string, unknown>;
}

const file = readSharedJson("vectors/test_certif.json") as { vectors: CertificateVector[] } | null;
const vectors = (file?.vectors ?? []).filter((v) => v.kind === "certificate");

const datetime = (value: unknown): DateTime => {
  const parsed = DateTime.parseRfc3339((value as { $datetime: string }).$datetime);
  if (!parsed) throw new Error(`bad $datetime ${JSON.stringify(value)}`);
  return parsed;
};
const bytes = (value: unknown): Buffer => Buffer.from((value as { $bytes: string }).$bytes, "hex");
const uuid = (value: unknown): string => (value as { $uuid: string }).$uuid.replace(/-/g, "");

/** The typed certificate the vector's wire content must load to, per Parsec's rules (legacy fields, nil defaults). */
const typedFromWire = (w: Record<string, unknown>): Record<string, unknown> => {
  const common = { type: w.type, timestamp: datetime(w.timestamp) };
  switch (w.type) {
    case "user_certificate": {
      const hh = w.human_handle as [string, string] | null | undefined;
      return {
        ...common,
        author: w.author,
        userId: w.user_id,
        humanHandle: hh ? { email: hh[0], label: hh[1] } : null,
        publicKey: bytes(w.public_key),
        profile: w.profile ?? (w.is_admin ? "ADMIN" : "STANDARD"),
      };
    }
    case "device_certificate":
      return { ...common, author: w.author, deviceId: w.device_id, deviceLabel: w.device_label ?? null, verifyKey: bytes(w.verify_key) };
    case "realm_role_certificate":
      return { ...common, author: w.author, realmId: uuid(w.realm_id), userId: w.user_id, role: w.role };
    case "realm_archiving_certificate": {
      const c = w.configuration as { type: string; deletion_date?: unknown };
      return {
        ...common,
        author: w.author,
        realmId: uuid(w.realm_id),
        configuration: c.deletion_date === undefined ? { type: c.type } : { type: c.type, deletionDate: datetime(c.deletion_date) },
      };
    }
    case "sequester_authority_certificate":
      return { ...common, author: null, verifyKeyDer: bytes(w.verify_key_der) };
    case "sequester_service_certificate":
      return {
        ...common,
        serviceId: uuid(w.service_id),
        serviceLabel: w.service_label,
        encryptionKeyDer: bytes(w.encryption_key_der),
      };
    default:
      throw new Error(`no expectation for ${String(w.type)}`);
  }
};

const flip = (buffer: Buffer, index: number): Buffer => {
  const copy = Buffer.from(buffer);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
};

describe.skipIf(fixtures === null || file === null)("test_certif.json certificate vectors", () => {
  it("holds the expected number of certificate vectors", () => {
    expect(vectors.length).toBe(11);
  });

  const keyOf = (deviceId: string): Buffer => {
    const device = [fixtures!.alice, fixtures!.bob].find((d) => d.deviceId === deviceId);
    if (!device) throw new Error(`no fixture key for ${deviceId}`);
    return device.verifyKey;
  };

  for (const vector of vectors.filter((v) => v.signed)) {
    describe(vector.id, () => {
      const raw = Buffer.from(vector.raw_hex, "hex");
      const type = vector.certificate_type as SignedCertificateType;
      const author = vector.expected.author as string | null;
      const signer = keyOf(vector.signature_verifies_with![0]!);
      const other = vector.signature_verifies_with![0] === "bob@dev1" ? fixtures!.alice.verifyKey : fixtures!.bob.verifyKey;
      const expected = { type, author: author as never };

      it("loads unverified to the expected content", () => {
        const loaded = unsecureLoad(raw);
        expect(loaded).toEqual({ ok: true, certificate: typedFromWire(vector.expected) });
      });

      it(`verifies with ${vector.signature_verifies_with![0]}'s key and loads to the expected content`, () => {
        expect(verifyAndLoad(raw, signer, expected)).toEqual({ ok: true, certificate: typedFromWire(vector.expected) });
      });

      it("fails with another key", () => {
        expect(verifyAndLoad(raw, other, expected)).toEqual({ ok: false, reason: "bad_signature" });
      });

      it("fails after flipping one byte of the signature, of the zlib stream, or of its last byte", () => {
        for (const index of [0, 63, 64, 70, raw.length - 1]) {
          expect(verifyAndLoad(flip(raw, index), signer, expected)).toEqual({ ok: false, reason: "bad_signature" });
        }
      });

      it("inflates, after the 64-byte signature, to the vector's msgpack bytes", () => {
        expect(inflateSync(raw.subarray(64)).toString("hex")).toBe(vector.msgpack_hex);
      });
    });
  }

  for (const vector of vectors.filter((v) => !v.signed)) {
    it(`${vector.id}: loads the unsigned zlib(msgpack) certificate`, () => {
      const loaded = loadSequesterServiceCertificate(Buffer.from(vector.raw_hex, "hex"));
      expect(loaded).toEqual({ ok: true, certificate: typedFromWire(vector.expected) });
      if (loaded.ok) {
        expect(SequesterServiceID.toHyphenated(loaded.certificate.serviceId)).toBe((vector.expected.service_id as { $uuid: string }).$uuid);
      }
    });
  }

  it("decodes realm ids from the 16 raw bytes of ext 2", () => {
    const vector = vectors.find((v) => v.certificate_type === "realm_role_certificate")!;
    const loaded = unsecureLoad(Buffer.from(vector.raw_hex, "hex"), "realm_role_certificate");
    expect(loaded.ok && RealmID.toHyphenated(loaded.certificate.realmId)).toBe("4486e7cf-02d7-47bd-9126-679ba58e0474");
  });

  it("accepts the Rust encoder's stored-block zlib streams", () => {
    const stored = vectors.filter((v) => v.certificate_type === "realm_archiving_certificate");
    expect(stored.length).toBe(2);
    for (const vector of stored) expect(Buffer.from(vector.raw_hex, "hex")[66]! & 0x06).toBe(0);
  });
});

const trustchain = (readSharedJson("fixtures.json") as { trustchain_fixtures: Record<string, Record<string, unknown>> } | null)
  ?.trustchain_fixtures;

describe.skipIf(fixtures === null || !trustchain)("certificates built from the fixtures", () => {
  it("alice's root-signed user and device certificates load to upstream's trustchain fixtures", () => {
    const f = fixtures!;
    const expected = { type: "user_certificate", author: null } as const;
    const user = userCertificate(f.organization.rootSigningKey, {
      author: null,
      timestamp: DateTime.parseRfc3339("2000-01-01T00:00:00Z")!,
      userId: f.alice.userId,
      humanHandle: f.alice.humanHandle,
      publicKey: f.alice.publicKey,
      profile: f.alice.profile,
    });
    expect(verifyAndLoad(user, f.organization.rootVerifyKey, expected)).toEqual({
      ok: true,
      certificate: typedFromWire(trustchain!.alice_user_certif!),
    });
    const device = deviceCertificate(f.organization.rootSigningKey, {
      author: null,
      timestamp: DateTime.parseRfc3339("2000-01-01T00:00:00Z")!,
      deviceId: f.alice.deviceId,
      deviceLabel: f.alice.deviceLabel,
      verifyKey: f.alice.verifyKey,
    });
    expect(verifyAndLoad(device, f.organization.rootVerifyKey, { type: "device_certificate", author: null })).toEqual({
      ok: true,
      certificate: typedFromWire(trustchain!.alice_device_certif!),
    });
    expect(verifyAndLoad(user, f.alice.verifyKey, expected)).toEqual({ ok: false, reason: "bad_signature" });
  });
});
