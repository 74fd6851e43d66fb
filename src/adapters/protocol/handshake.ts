import * as t from "io-ts";
import type { MsgpackDecodeLimits } from "../../domain/serialization/decoder.js";
import { MsgpackDecodeError, pack } from "../../domain/serialization/msgpack.js";
import {
  ApiVersionC,
  BytesC,
  DateTimeC,
  DeviceIDC,
  FloatC,
  InvitationTokenC,
  InvitationTypeC,
  OrganizationIDC,
  StringC,
  VerifyKeyC,
  fixedBytes,
  list,
  type ApiVersion,
} from "./codecs/primitives.js";
import { struct } from "./codecs/struct.js";
import { describeErrors, isWireMap, unpackWire } from "./wire.js";

/** Size in bytes of the random challenge the server sends. */
export const CHALLENGE_SIZE = 48;

/**
 * Server → client, first handshake message: `{handshake: "challenge", challenge (48 random bytes),
 * supported_api_versions ([major, revision] pairs), ballpark_client_early_offset and
 * ballpark_client_late_offset (seconds, float 64: how far the client clock may be ahead / behind),
 * backend_timestamp}`.
 */
export const HandshakeChallengeC = struct("HandshakeChallenge", {
  handshake: t.literal("challenge"),
  challenge: fixedBytes("Challenge", CHALLENGE_SIZE),
  supported_api_versions: list(ApiVersionC),
  ballpark_client_early_offset: FloatC,
  ballpark_client_late_offset: FloatC,
  backend_timestamp: DateTimeC,
});
/** The decoded value of {@link HandshakeChallengeC}. */
export type HandshakeChallenge = t.TypeOf<typeof HandshakeChallengeC>;

/**
 * Client → server, `type: "AUTHENTICATED"`: the device `device_id` of `organization_id`, the root verify
 * key it trusts (`rvk`, 32 bytes) and `answer`, the device's Ed25519-signed answer to the challenge
 * (64-byte signature followed by the signed payload: the raw challenge for API 2.0–2.4, a packed
 * {@link SignedAnswerC} from 2.5 on; the domain's `isValidSignedChallenge` checks it).
 */
export const AuthenticatedAnswerC = struct("AuthenticatedAnswer", {
  handshake: t.literal("answer"),
  type: t.literal("AUTHENTICATED"),
  client_api_version: ApiVersionC,
  organization_id: OrganizationIDC,
  device_id: DeviceIDC,
  rvk: VerifyKeyC,
  answer: BytesC,
});
/** The decoded value of {@link AuthenticatedAnswerC}. */
export type AuthenticatedAnswer = t.TypeOf<typeof AuthenticatedAnswerC>;

/** Client → server, `type: "INVITED"`: the claimer of invitation `token` of type `invitation_type` in `organization_id`. */
export const InvitedAnswerC = struct("InvitedAnswer", {
  handshake: t.literal("answer"),
  type: t.literal("INVITED"),
  client_api_version: ApiVersionC,
  organization_id: OrganizationIDC,
  invitation_type: InvitationTypeC,
  token: InvitationTokenC,
});
/** The decoded value of {@link InvitedAnswerC}. */
export type InvitedAnswer = t.TypeOf<typeof InvitedAnswerC>;

/** The client's handshake answer, discriminated by `type`. */
export const HandshakeAnswerC = t.union([AuthenticatedAnswerC, InvitedAnswerC], "HandshakeAnswer");
/** The decoded value of {@link HandshakeAnswerC}. */
export type HandshakeAnswer = t.TypeOf<typeof HandshakeAnswerC>;

/**
 * The outcome of {@link decodeHandshakeAnswer}. `bad_answer` covers a non-map message, a wrong
 * `handshake`/`type` and any field that does not fit (all answered with `bad_protocol`);
 * `client_api_version` is given when it alone could be read, for version negotiation.
 */
export type DecodeHandshakeAnswerResult =
  | { kind: "ok"; answer: HandshakeAnswer }
  | { kind: "bad_answer"; reason: string; client_api_version?: ApiVersion };

/**
 * Decodes the client's handshake answer frame. Never throws.
 * @param limits msgpack nesting and element bounds (default `DEFAULT_MSGPACK_DECODE_LIMITS`); a frame beyond them,
 *        with an extension type other than 1–4 or a duplicate key is a `bad_answer` whose `reason` says so.
 */
export const decodeHandshakeAnswer = (bytes: Uint8Array, limits?: MsgpackDecodeLimits): DecodeHandshakeAnswerResult => {
  let raw: unknown;
  try {
    raw = unpackWire(bytes, limits);
  } catch (err) {
    return { kind: "bad_answer", reason: err instanceof MsgpackDecodeError && err.kind === "rejected" ? err.message : "invalid message format" };
  }
  if (!isWireMap(raw)) return { kind: "bad_answer", reason: "invalid message format" };
  if (raw["handshake"] !== "answer") return { kind: "bad_answer", reason: "not a handshake answer" };
  const version = ApiVersionC.decode(raw["client_api_version"]);
  const clientVersion = version._tag === "Right" ? { client_api_version: version.right } : {};
  const codec = raw["type"] === "AUTHENTICATED" ? AuthenticatedAnswerC : raw["type"] === "INVITED" ? InvitedAnswerC : undefined;
  if (!codec) return { kind: "bad_answer", reason: "unknown handshake type", ...clientVersion };
  const decoded = codec.decode(raw);
  if (decoded._tag === "Left") return { kind: "bad_answer", reason: describeErrors(decoded.left), ...clientVersion };
  return { kind: "ok", answer: decoded.right };
};

/** The payload an authenticated client signs for API ≥ 2.5 (and 3.x): `{type: "signed_answer", answer: <the 48 challenge bytes>}`. */
export const SignedAnswerC = struct("SignedAnswer", { type: t.literal("signed_answer"), answer: fixedBytes("Challenge", CHALLENGE_SIZE) });
/** The decoded value of {@link SignedAnswerC}. */
export type SignedAnswer = t.TypeOf<typeof SignedAnswerC>;

/** Packs a {@link SignedAnswerC} payload (what a ≥ 2.5 client signs). */
export const encodeSignedAnswer = (challenge: Uint8Array): Buffer => pack(SignedAnswerC.encode({ type: "signed_answer", answer: challenge }));

/**
 * Server → client, last handshake message: `{handshake: "result", result: "ok"}` (no `help`), or a
 * failure with a human-readable `help`. Only `ok` keeps the connection open.
 */
export const HandshakeResultC = t.union(
  [
    struct("HandshakeResult:ok", { handshake: t.literal("result"), result: t.literal("ok") }),
    struct("HandshakeResult:failure", {
      handshake: t.literal("result"),
      result: t.keyof({ bad_protocol: null, bad_identity: null, organization_expired: null, rvk_mismatch: null, revoked_device: null, bad_admin_token: null }),
      help: StringC,
    }),
  ],
  "HandshakeResult",
);
/** The decoded value of {@link HandshakeResultC}. */
export type HandshakeResult = t.TypeOf<typeof HandshakeResultC>;

/** Why a handshake failed, as sent in `result`. */
export type HandshakeFailure = Exclude<HandshakeResult["result"], "ok">;

/** Packs the server's challenge message. */
export const encodeHandshakeChallenge = (challenge: Omit<HandshakeChallenge, "handshake">): Buffer =>
  pack(HandshakeChallengeC.encode({ handshake: "challenge", ...challenge }));

/** Packs `{handshake: "result", result: "ok"}`. */
export const encodeHandshakeOk = (): Buffer => pack(HandshakeResultC.encode({ handshake: "result", result: "ok" }));

/** Packs a failed handshake result with its `help` text. */
export const encodeHandshakeFailure = (result: HandshakeFailure, help: string): Buffer =>
  pack(HandshakeResultC.encode({ handshake: "result", result, help }));
