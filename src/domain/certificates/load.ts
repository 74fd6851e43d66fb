import { inflateSync } from "node:zlib";
import { ED25519_SIGNATURE_SIZE, openEd25519Signed } from "../crypto.js";
import { decodeMsgpack } from "../serialization/decoder.js";
import { MsgpackDecodeError } from "../serialization/msgpack.js";
import { decodeCertificateMap, decodeSequesterServiceMap, isSignedCertificateType, type WireMap } from "./decode.js";
import type {
  CertificateAuthor,
  CertificateOfType,
  SequesterServiceCertificate,
  SignedCertificate,
  SignedCertificateType,
} from "./types.js";

/** Largest inflated certificate accepted, in bytes (1 MiB): a zlib bomb fails with `bad_compression` instead of exhausting memory. */
export const MAX_INFLATED_CERTIFICATE_SIZE = 1024 * 1024;

/**
 * Why a certificate could not be loaded. The reasons follow upstream's `DataError` kinds:
 * - `bad_signature`: shorter than a 64-byte signature, or the signature does not verify with the given key;
 * - `bad_compression`: not a complete zlib stream, or one that inflates beyond {@link MAX_INFLATED_CERTIFICATE_SIZE};
 * - `bad_serialization`: not one msgpack map (or one the strict decoder refuses: an extension type other than 1–4, a key
 *   repeated in one map, too deep or too many elements), unknown `type`, or a missing or ill-typed field (`detail` names it);
 * - `wrong_type`: a well-formed certificate of another `type` than expected;
 * - `unexpected_author`: signed by the expected key but claiming another author than expected.
 */
export type CertificateLoadFailure =
  | { readonly ok: false; readonly reason: "bad_signature" }
  | { readonly ok: false; readonly reason: "bad_compression"; readonly detail: string }
  | { readonly ok: false; readonly reason: "bad_serialization"; readonly detail: string }
  | { readonly ok: false; readonly reason: "wrong_type"; readonly expected: string; readonly got: string }
  | {
      readonly ok: false;
      readonly reason: "unexpected_author";
      readonly expected: CertificateAuthor;
      readonly got: CertificateAuthor;
    };

/** The result of loading a certificate: its typed content, or why it was refused. */
export type CertificateLoadOutcome<C> = { readonly ok: true; readonly certificate: C } | CertificateLoadFailure;

const badSignature: CertificateLoadFailure = { ok: false, reason: "bad_signature" };

const inflate = (compressed: Uint8Array): CertificateLoadOutcome<Buffer> => {
  try {
    return { ok: true, certificate: inflateSync(compressed, { maxOutputLength: MAX_INFLATED_CERTIFICATE_SIZE }) };
  } catch (err) {
    const tooLarge = err instanceof RangeError || (err as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE";
    return {
      ok: false,
      reason: "bad_compression",
      detail: tooLarge ? `inflates beyond ${MAX_INFLATED_CERTIFICATE_SIZE} bytes` : "not a valid zlib stream",
    };
  }
};

const inflateMap = (compressed: Uint8Array): CertificateLoadOutcome<WireMap> => {
  const inflated = inflate(compressed);
  if (!inflated.ok) return inflated;
  let value: unknown;
  try {
    value = decodeMsgpack(inflated.certificate, { maps: "map" });
  } catch (err) {
    if (err instanceof MsgpackDecodeError) return { ok: false, reason: "bad_serialization", detail: err.message };
    throw err;
  }
  if (!(value instanceof Map)) return { ok: false, reason: "bad_serialization", detail: "not a msgpack map" };
  return { ok: true, certificate: value };
};

const decode = (compressed: Uint8Array, expectedType: SignedCertificateType | undefined): CertificateLoadOutcome<SignedCertificate> => {
  const map = inflateMap(compressed);
  if (!map.ok) return map;
  const type = map.certificate.get("type");
  if (!isSignedCertificateType(type)) return { ok: false, reason: "bad_serialization", detail: "type: unknown certificate type" };
  if (expectedType !== undefined && type !== expectedType) return { ok: false, reason: "wrong_type", expected: expectedType, got: type };
  const certificate = decodeCertificateMap(type, map.certificate);
  return certificate.ok
    ? { ok: true, certificate: certificate.value }
    : { ok: false, reason: "bad_serialization", detail: certificate.error };
};

/**
 * Parses a signed certificate (`signature (64 bytes) ‖ zlib(msgpack map)`) WITHOUT checking its signature,
 * e.g. to learn its author before fetching that author's verify key. Never trust the result otherwise.
 *
 * Upstream: `<Certificate>.unsecure_load`.
 * @param signed the certificate exactly as received.
 * @param type when given, a certificate of another type fails with `wrong_type`.
 * @returns the typed certificate, or `bad_signature` (too short to hold a signature), `bad_compression`,
 *          `bad_serialization` or `wrong_type`.
 */
export function unsecureLoad<T extends SignedCertificateType>(signed: Uint8Array, type: T): CertificateLoadOutcome<CertificateOfType<T>>;
export function unsecureLoad(signed: Uint8Array): CertificateLoadOutcome<SignedCertificate>;
export function unsecureLoad(signed: Uint8Array, type?: SignedCertificateType): CertificateLoadOutcome<SignedCertificate> {
  if (signed.length < ED25519_SIGNATURE_SIZE) return badSignature;
  return decode(signed.subarray(ED25519_SIGNATURE_SIZE), type);
}

/** What the caller requires of a certificate: its `type`, and its author (`null`: signed by the organization's root key). */
export interface CertificateExpectation<T extends SignedCertificateType> {
  readonly type: T;
  readonly author: CertificateAuthor;
}

/**
 * Verifies a signed certificate with its author's key, then parses it and checks it is what the caller expects.
 *
 * The Ed25519 signature covers the zlib bytes exactly as received; both normal and stored-block zlib streams are accepted.
 * Checks run in this order: signature, compression, msgpack and fields, type, author.
 *
 * Upstream: `<Certificate>.verify_and_load(signed, author_verify_key, expected_author)`. One deliberate difference:
 * upstream lets a device-authored certificate through when the root is expected; here `expected.author === null`
 * requires the certificate's author to be nil.
 * @param authorVerifyKey raw 32-byte Ed25519 verify key of the expected author (the root verify key when `expected.author` is `null`).
 * @returns the typed certificate, or a {@link CertificateLoadFailure}.
 */
export const verifyAndLoad = <T extends SignedCertificateType>(
  signed: Uint8Array,
  authorVerifyKey: Uint8Array,
  expected: CertificateExpectation<T>,
): CertificateLoadOutcome<CertificateOfType<T>> => {
  const compressed = openEd25519Signed(authorVerifyKey, signed);
  if (compressed === null) return badSignature;
  const loaded = decode(compressed, expected.type);
  if (!loaded.ok) return loaded;
  if (loaded.certificate.author !== expected.author)
    return { ok: false, reason: "unexpected_author", expected: expected.author, got: loaded.certificate.author };
  return loaded as CertificateLoadOutcome<CertificateOfType<T>>;
};

/**
 * Parses a `sequester_service_certificate`: plain `zlib(msgpack map)`, no Ed25519 prefix, no author.
 * The RSASSA-PSS signature of the sequester authority that accompanies it is checked elsewhere.
 * @returns the typed certificate, or `bad_compression`, `bad_serialization` or `wrong_type`.
 */
export const loadSequesterServiceCertificate = (data: Uint8Array): CertificateLoadOutcome<SequesterServiceCertificate> => {
  const map = inflateMap(data);
  if (!map.ok) return map;
  const type = map.certificate.get("type");
  if (typeof type !== "string") return { ok: false, reason: "bad_serialization", detail: "type: not a string" };
  if (type !== "sequester_service_certificate")
    return { ok: false, reason: "wrong_type", expected: "sequester_service_certificate", got: String(type) };
  const certificate = decodeSequesterServiceMap(map.certificate);
  return certificate.ok
    ? { ok: true, certificate: certificate.value }
    : { ok: false, reason: "bad_serialization", detail: certificate.error };
};

/**
 * A one-line description of a load failure in the words of upstream's `DataError`
 * (`Invalid signature`, `Invalid compression`, `Invalid serialization`, `Invalid author: expected …, got …`),
 * for the reasons Parsec puts on the wire (e.g. `pki_enrollment_accept`'s `Invalid certification data (…).`).
 */
export const describeLoadFailure = (failure: CertificateLoadFailure): string => {
  switch (failure.reason) {
    case "bad_signature":
      return "Invalid signature";
    case "bad_compression":
      return "Invalid compression";
    case "bad_serialization":
    case "wrong_type":
      return "Invalid serialization";
    case "unexpected_author":
      return failure.expected === null
        ? `Invalid author: expected Root(None), got \`${failure.got}\``
        : `Invalid author: expected \`${failure.expected}\`, got \`${failure.got ?? "None"}\``;
  }
};
