import { describe, expect, it } from "vitest";
import { decodeMsgpack } from "../../src/domain/serialization/decoder.js";
import { pack } from "../../src/domain/serialization/msgpack.js";
import {
  ApiVersionC,
  HandshakeAnswerC,
  HandshakeChallengeC,
  commandTables,
  decodeHandshakeAnswer,
  decodeReply,
  decodeRequest,
  encodeReply,
  unpackWire,
  type ClientFamily,
  type CommandName,
  type WireReply,
} from "../../src/adapters/protocol/index.js";
import type { CommandCodecs } from "../../src/adapters/protocol/codecs/struct.js";
import { fromTagged, reorderLike, toTagged, untagFloats } from "../support/tagged-json.js";
import { loadVectors, sharedFolderAvailable, type Vector } from "./vectors-support.js";

const available = sharedFolderAvailable();
const vectors: Vector[] = available ? loadVectors() : [];
const suite = available ? describe : describe.skip;

const bytesOf = (v: Vector): Buffer => Buffer.from(v.msgpack_hex, "hex");
const codecsOf = (v: Vector): CommandCodecs => {
  const table = commandTables[v.family as ClientFamily] as unknown as Record<string, CommandCodecs>;
  const codecs = table[v.cmd!];
  if (!codecs) throw new Error(`no codecs for ${v.family}/${v.cmd}`);
  return codecs;
};
const repack = (encoded: unknown, v: Vector): string => pack(reorderLike(encoded, v.expected)).toString("hex");

suite("protocol vectors: generic msgpack", () => {
  it("has the 266 documented vectors", () => {
    expect(vectors).toHaveLength(266);
  });

  it.each(vectors.map((v) => [v.id, v] as const))("%s decodes to expected and re-encodes identically", (_id, v) => {
    const decoded = decodeMsgpack(bytesOf(v), { maps: "map" });
    expect(toTagged(decoded)).toStrictEqual(untagFloats(v.expected));
    expect(JSON.stringify(toTagged(decoded))).toBe(JSON.stringify(untagFloats(v.expected)));
    expect(pack(fromTagged(v.expected)).toString("hex")).toBe(v.msgpack_hex);
  });
});

const requests = vectors.filter((v) => v.kind === "req");
const replies = vectors.filter((v) => v.kind === "rep");
const handshakes = vectors.filter((v) => v.kind === "handshake" || v.kind === "api_version");

suite("protocol vectors: typed requests", () => {
  it.each(requests.filter((v) => !v.negative).map((v) => [v.id, v] as const))("%s", (_id, v) => {
    const result = decodeRequest(v.family as ClientFamily, bytesOf(v));
    if (result.kind !== "ok") throw new Error(`decode failed: ${JSON.stringify(result)}`);
    expect(result.cmd).toBe(v.cmd);
    expect(repack(codecsOf(v).req.encode(result.req), v)).toBe(v.msgpack_hex);
  });

  it.each(requests.filter((v) => v.negative).map((v) => [v.id, v] as const))("%s (negative) is rejected", (_id, v) => {
    const result = decodeRequest(v.family as ClientFamily, bytesOf(v));
    expect(result.kind).toBe("bad_message");
    expect(codecsOf(v).req.decode(unpackWire(bytesOf(v)))._tag).toBe("Left");
  });
});

suite("protocol vectors: typed replies", () => {
  it.each(replies.map((v) => [v.id, v] as const))("%s", (_id, v) => {
    const family = v.family as ClientFamily;
    const result = decodeReply(family, v.cmd as CommandName<typeof family>, bytesOf(v));
    if (v.negative) {
      expect(result.kind).not.toBe("ok");
      return;
    }
    let encoded: unknown;
    if (result.kind === "ok") encoded = codecsOf(v).rep.encode(result.rep);
    else if (result.kind === "unknown_status" && v.id.startsWith("test_common:")) encoded = result.rep;
    else throw new Error(`decode failed: ${JSON.stringify(result)}`);
    expect(repack(encoded, v)).toBe(v.msgpack_hex);
    expect(encodeReply(reorderLike(encoded, v.expected) as WireReply).toString("hex")).toBe(v.msgpack_hex);
  });
});

suite("protocol vectors: handshake", () => {
  it.each(handshakes.map((v) => [v.id, v] as const))("%s", (_id, v) => {
    const raw = unpackWire(bytesOf(v));
    let encoded: unknown;
    if (v.kind === "api_version") {
      const decoded = ApiVersionC.decode(raw);
      if (decoded._tag === "Left") throw new Error("ApiVersion did not decode");
      expect(decoded.right).toStrictEqual({ major: 2, revision: 15 });
      encoded = ApiVersionC.encode(decoded.right);
    } else if (v.handshake_step === "challenge") {
      const decoded = HandshakeChallengeC.decode(raw);
      if (decoded._tag === "Left") throw new Error("challenge did not decode");
      encoded = HandshakeChallengeC.encode(decoded.right);
    } else if (v.handshake_step === "answer") {
      const result = decodeHandshakeAnswer(bytesOf(v));
      if (result.kind !== "ok") throw new Error(`answer did not decode: ${result.reason}`);
      expect(result.answer.type).toBe("INVITED");
      encoded = HandshakeAnswerC.encode(result.answer);
    } else {
      throw new Error(`unexpected handshake vector ${v.id}`);
    }
    expect(repack(encoded, v)).toBe(v.msgpack_hex);
  });
});
