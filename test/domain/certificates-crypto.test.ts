import { describe, expect, it } from "vitest";
import { isEd25519VerifyKey, openEd25519Signed, verifyEd25519 } from "../../src/domain/crypto.js";
import { ed25519Sign, ed25519VerifyKey, randomEd25519 } from "../support/certificates.js";
import { fixtures } from "../support/fixtures.js";

const key = randomEd25519();
const message = Buffer.from("parsec");
const signature = ed25519Sign(key.signingKey, message);

describe("verifyEd25519", () => {
  it("accepts a valid signature and refuses another message or key", () => {
    expect(verifyEd25519(key.verifyKey, message, signature)).toBe(true);
    expect(verifyEd25519(key.verifyKey, Buffer.from("parsed"), signature)).toBe(false);
    expect(verifyEd25519(randomEd25519().verifyKey, message, signature)).toBe(false);
  });

  it("returns false, never throws, on bad lengths", () => {
    expect(verifyEd25519(key.verifyKey.subarray(0, 31), message, signature)).toBe(false);
    expect(verifyEd25519(Buffer.concat([key.verifyKey, Buffer.alloc(1)]), message, signature)).toBe(false);
    expect(verifyEd25519(key.verifyKey, message, signature.subarray(0, 63))).toBe(false);
    expect(verifyEd25519(key.verifyKey, message, Buffer.concat([signature, Buffer.alloc(1)]))).toBe(false);
    expect(verifyEd25519(Buffer.alloc(0), message, Buffer.alloc(0))).toBe(false);
  });

  it("refuses small-order keys, with which OpenSSL alone accepts a forged signature, as libsodium does", () => {
    const identityR = Buffer.concat([Buffer.from("01" + "00".repeat(31), "hex"), Buffer.alloc(32)]);
    const smallOrder = ["00".repeat(32), "01" + "00".repeat(31), "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"];
    for (const hex of smallOrder) {
      const forgedKey = Buffer.from(hex, "hex");
      expect(isEd25519VerifyKey(forgedKey)).toBe(false);
      for (let i = 0; i < 32; i++) expect(verifyEd25519(forgedKey, Buffer.from(`m${i}`), identityR)).toBe(false);
    }
  });

  it("refuses a signature whose R is of small order and a non-canonical key", () => {
    const tampered = Buffer.from(signature);
    Buffer.from("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "hex").copy(tampered, 0);
    expect(verifyEd25519(key.verifyKey, message, tampered)).toBe(false);
    expect(isEd25519VerifyKey(Buffer.from("f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "hex"))).toBe(false);
    expect(isEd25519VerifyKey(key.verifyKey)).toBe(true);
  });
});

describe("openEd25519Signed", () => {
  it("returns the message of `signature ‖ message` when it verifies, null otherwise", () => {
    const signed = Buffer.concat([signature, message]);
    expect(Buffer.from(openEd25519Signed(key.verifyKey, signed)!).toString()).toBe("parsec");
    expect(openEd25519Signed(randomEd25519().verifyKey, signed)).toBeNull();
    expect(openEd25519Signed(key.verifyKey, signature.subarray(0, 10))).toBeNull();
  });
});

describe.skipIf(fixtures === null)("fixture keys", () => {
  it("each verify key matches its signing key", () => {
    const f = fixtures!;
    for (const [seed, verify] of [
      [f.organization.rootSigningKey, f.organization.rootVerifyKey],
      [f.alice.signingKey, f.alice.verifyKey],
      [f.bob.signingKey, f.bob.verifyKey],
    ] as const) {
      expect(ed25519VerifyKey(seed).equals(verify)).toBe(true);
      expect(verifyEd25519(verify, message, ed25519Sign(seed, message))).toBe(true);
    }
  });
});
