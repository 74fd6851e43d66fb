import { createPublicKey, verify, type KeyObject } from "node:crypto";

/** Size in bytes of a raw Ed25519 verify key (libsodium `crypto_sign_PUBLICKEYBYTES`, Parsec `VerifyKey`). */
export const ED25519_VERIFY_KEY_SIZE = 32;

/** Size in bytes of a detached Ed25519 signature (libsodium `crypto_sign_BYTES`). */
export const ED25519_SIGNATURE_SIZE = 64;

/** DER SubjectPublicKeyInfo header for an Ed25519 key (RFC 8410): the raw 32 key bytes follow it. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * Encodings of the points of order 1, 2, 4 and 8 (and the non-canonical aliases of 0 and 1), sign bit cleared.
 * libsodium refuses them as a verify key or as a signature's `R`; OpenSSL does not, and with such a key a signature
 * can be forged without any secret, so they are refused here as libsodium does.
 */
const SMALL_ORDER_POINTS = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].map((hex) => Buffer.from(hex, "hex"));

const hasSmallOrder = (point: Uint8Array): boolean =>
  SMALL_ORDER_POINTS.some((blocked) => {
    for (let i = 0; i < 31; i++) if (point[i] !== blocked[i]) return false;
    return (point[31]! & 0x7f) === blocked[31];
  });

/** True when the y coordinate encoded in `point` is below 2^255 - 19 (libsodium's `ge25519_is_canonical`). */
const isCanonical = (point: Uint8Array): boolean => {
  if ((point[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i > 0; i--) if (point[i] !== 0xff) return true;
  return point[0]! < 0xed;
};

const ed25519PublicKey = (verifyKey: Uint8Array): KeyObject | null => {
  if (verifyKey.length !== ED25519_VERIFY_KEY_SIZE || !isCanonical(verifyKey) || hasSmallOrder(verifyKey)) return null;
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, verifyKey]), format: "der", type: "spki" });
  } catch {
    return null;
  }
};

/**
 * True when `signature` is a valid Ed25519 signature of `message` by the raw 32-byte `verifyKey`
 * (the check PyNaCl's `VerifyKey.verify` makes in Parsec).
 *
 * Never throws: a key or signature of the wrong length, a non-canonical key, or a small-order key or `R`
 * (which libsodium refuses and OpenSSL alone would accept) yields `false`.
 */
export const verifyEd25519 = (verifyKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
  if (signature.length !== ED25519_SIGNATURE_SIZE || hasSmallOrder(signature.subarray(0, 32))) return false;
  const key = ed25519PublicKey(verifyKey);
  if (key === null) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
};

/**
 * Opens a libsodium "combined" signed message, `signature (64 bytes) ‖ message`, as Parsec signs
 * certificates and handshake answers.
 *
 * @returns the message part (a view into `signed`, not a copy) when the signature verifies with `verifyKey`, `null` otherwise
 *          (including when `signed` is shorter than a signature).
 */
export const openEd25519Signed = (verifyKey: Uint8Array, signed: Uint8Array): Uint8Array | null => {
  if (signed.length < ED25519_SIGNATURE_SIZE) return null;
  const signature = signed.subarray(0, ED25519_SIGNATURE_SIZE);
  const message = signed.subarray(ED25519_SIGNATURE_SIZE);
  return verifyEd25519(verifyKey, message, signature) ? message : null;
};

/**
 * True when `verifyKey` is 32 bytes encoding a canonical Ed25519 point that is not of small order, i.e. a key
 * {@link verifyEd25519} can verify with.
 * Use it to validate a key received on the wire (e.g. `root_verify_key` at organization bootstrap) before storing it.
 */
export const isEd25519VerifyKey = (verifyKey: Uint8Array): boolean => ed25519PublicKey(verifyKey) !== null;
