import { openEd25519Signed } from "../crypto.js";
import { decodeMsgpack } from "../serialization/decoder.js";

/** Length of the random challenge sent by the server, in bytes. */
export const CHALLENGE_SIZE = 48;

/**
 * Checks the `answer` of an AUTHENTICATED handshake: an Ed25519 signed message
 * (signature ‖ payload) by the device's verify key whose payload is either
 * the msgpack map `{type: "signed_answer", answer: <challenge>}` (clients 2.5+ and 3.x)
 * or the raw challenge (clients 2.0 to 2.4). Both forms are accepted whatever the announced version.
 * Source: Parsec v2.16.3 `ServerHandshake.build_result_req`.
 */
export const isValidSignedChallenge = (verifyKey: Uint8Array, answer: Uint8Array, challenge: Uint8Array): boolean => {
  const payload = openEd25519Signed(verifyKey, answer);
  if (payload === null || payload.length === 0) return false;
  if (Buffer.compare(payload, challenge) === 0) return true;
  let decoded: unknown;
  try {
    decoded = decodeMsgpack(payload);
  } catch {
    return false;
  }
  if (typeof decoded !== "object" || decoded === null) return false;
  const { type, answer: signedChallenge } = decoded as Record<string, unknown>;
  return type === "signed_answer" && signedChallenge instanceof Uint8Array && Buffer.compare(signedChallenge, challenge) === 0;
};
