import { describe, expect, it } from "vitest";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";
import {
  HandshakeChallengeC,
  decodeHandshakeAnswer,
  encodeHandshakeChallenge,
  encodeHandshakeFailure,
  encodeHandshakeOk,
  encodeSignedAnswer,
  unpackWire,
} from "../../src/adapters/protocol/index.js";
import { isValidSignedChallenge } from "../../src/domain/handshake/index.js";
import { ed25519Sign, randomEd25519 } from "../support/certificates.js";

const challenge = Buffer.alloc(48, 7);
const rvk = Buffer.alloc(32, 1);

describe("handshake codecs", () => {
  it("encodes the challenge with float 64 offsets and decodes it back", () => {
    const bytes = encodeHandshakeChallenge({
      challenge,
      supported_api_versions: [
        { major: 2, revision: 10 },
        { major: 3, revision: 4 },
      ],
      ballpark_client_early_offset: 300,
      ballpark_client_late_offset: 320,
      backend_timestamp: DateTime.fromEpochSeconds(946774800),
    });
    expect(bytes.toString("hex")).toContain("cb4072c00000000000");
    const decoded = HandshakeChallengeC.decode(unpackWire(bytes));
    expect(decoded._tag).toBe("Right");
  });

  it("decodes an authenticated answer", () => {
    const answer = Buffer.concat([Buffer.alloc(64), encodeSignedAnswer(challenge)]);
    const result = decodeHandshakeAnswer(
      pack({
        handshake: "answer",
        type: "AUTHENTICATED",
        client_api_version: [2, 5],
        organization_id: "CoolOrg",
        device_id: "alice@dev1",
        rvk,
        answer,
      }),
    );
    if (result.kind !== "ok" || result.answer.type !== "AUTHENTICATED") throw new Error(JSON.stringify(result));
    expect(result.answer.device_id).toBe("alice@dev1");
    expect(result.answer.client_api_version).toStrictEqual({ major: 2, revision: 5 });
  });

  it("reports bad answers without throwing, with the client version when readable", () => {
    expect(decodeHandshakeAnswer(Buffer.from([0xc1])).kind).toBe("bad_answer");
    expect(decodeHandshakeAnswer(pack([1, 2])).kind).toBe("bad_answer");
    const wrongKey = decodeHandshakeAnswer(
      pack({ handshake: "answer", type: "AUTHENTICATED", client_api_version: [3, 4], organization_id: "CoolOrg", device_id: "alice@dev1", rvk: Buffer.alloc(31), answer: Buffer.alloc(1) }),
    );
    expect(wrongKey).toMatchObject({ kind: "bad_answer", client_api_version: { major: 3, revision: 4 } });
    expect(wrongKey.kind === "bad_answer" && wrongKey.reason).toContain("rvk");
    const badType = decodeHandshakeAnswer(
      pack({ handshake: "answer", type: "INVITED", client_api_version: [2, 5], organization_id: "Org", invitation_type: "BOGUS", token: new WireUuid("d864b93ded264aae9ae583fd3d40c45a") }),
    );
    expect(badType.kind).toBe("bad_answer");
    expect(decodeHandshakeAnswer(pack({ handshake: "answer", type: "ADMIN", client_api_version: [2, 5] })).kind).toBe("bad_answer");
  });

  it("signed answers in both forms (signed_answer map, raw challenge) pass the domain check; other payloads do not", () => {
    const key = randomEd25519();
    const signed = (payload: Buffer) => Buffer.concat([ed25519Sign(key.signingKey, payload), payload]);
    expect(unpackWire(encodeSignedAnswer(challenge))).toStrictEqual({ type: "signed_answer", answer: challenge });
    expect(isValidSignedChallenge(key.verifyKey, signed(encodeSignedAnswer(challenge)), challenge)).toBe(true);
    expect(isValidSignedChallenge(key.verifyKey, signed(challenge), challenge)).toBe(true);
    expect(isValidSignedChallenge(key.verifyKey, signed(pack({ type: "other", answer: challenge })), challenge)).toBe(false);
    expect(isValidSignedChallenge(key.verifyKey, signed(encodeSignedAnswer(Buffer.alloc(48, 8))), challenge)).toBe(false);
    expect(isValidSignedChallenge(randomEd25519().verifyKey, signed(encodeSignedAnswer(challenge)), challenge)).toBe(false);
    expect(isValidSignedChallenge(key.verifyKey, ed25519Sign(key.signingKey, Buffer.alloc(0)), challenge)).toBe(false);
  });

  it("encodes results: ok without help, failures with help", () => {
    expect(encodeHandshakeOk()).toStrictEqual(pack({ handshake: "result", result: "ok" }));
    expect(encodeHandshakeFailure("bad_identity", "Invalid handshake information")).toStrictEqual(
      pack({ handshake: "result", result: "bad_identity", help: "Invalid handshake information" }),
    );
  });
});
