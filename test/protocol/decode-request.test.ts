import { describe, expect, it } from "vitest";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";
import {
  badMessageRep,
  decodeRequest,
  encodeReply,
  encodeTypedReply,
  genericErrorReply,
  invalidMsgFormatRep,
  unknownCommandRep,
} from "../../src/adapters/protocol/index.js";

const REALM = "1d3353157d7d4e95ad2fdea7b3bd19c5";
const VLOB = "2b5f314728134a12863da1ce49c112f6";

describe("decodeRequest", () => {
  it("rejects bytes that are not msgpack as invalid_msg_format", () => {
    expect(decodeRequest("authenticated", Buffer.from([0xc1]))).toStrictEqual({ kind: "invalid_msg_format" });
    expect(decodeRequest("authenticated", Buffer.from("81a3636d64", "hex"))).toStrictEqual({ kind: "invalid_msg_format" });
    expect(decodeRequest("authenticated", Buffer.alloc(0))).toStrictEqual({ kind: "invalid_msg_format" });
  });

  it("rejects a top-level array or scalar as invalid_msg_format", () => {
    expect(decodeRequest("authenticated", pack(["cmd", "ping"]))).toStrictEqual({ kind: "invalid_msg_format" });
    expect(decodeRequest("authenticated", pack("ping"))).toStrictEqual({ kind: "invalid_msg_format" });
  });

  it("answers unknown_command when cmd is missing, not a string, or not of the family", () => {
    expect(decodeRequest("authenticated", pack({ ping: "x" }))).toStrictEqual({ kind: "unknown_command" });
    expect(decodeRequest("authenticated", pack({ cmd: 42 }))).toStrictEqual({ kind: "unknown_command" });
    expect(decodeRequest("authenticated", pack({ cmd: "no_such_command" }))).toStrictEqual({ kind: "unknown_command" });
    expect(decodeRequest("authenticated", pack({ cmd: "__proto__" }))).toStrictEqual({ kind: "unknown_command" });
    expect(decodeRequest("authenticated", pack({ cmd: "toString" }))).toStrictEqual({ kind: "unknown_command" });
    expect(decodeRequest("invited", pack({ cmd: "vlob_read" }))).toStrictEqual({ kind: "unknown_command" });
    expect(decodeRequest("anonymous", pack({ cmd: "ping", ping: "x" }))).toStrictEqual({ kind: "unknown_command" });
  });

  it("answers bad_message naming a field of the wrong type", () => {
    const result = decodeRequest("authenticated", pack({ cmd: "block_read", block_id: "not-an-ext-uuid" }));
    expect(result.kind).toBe("bad_message");
    expect(result.kind === "bad_message" && result.reason).toContain("block_id");
  });

  it("answers bad_message naming a missing required field", () => {
    const result = decodeRequest("authenticated", pack({ cmd: "vlob_poll_changes", realm_id: new WireUuid(REALM) }));
    expect(result).toStrictEqual({ kind: "bad_message", reason: "missing field 'last_checkpoint' (Index)" });
  });

  it("answers bad_message for an invalid identifier string", () => {
    const result = decodeRequest("authenticated", pack({ cmd: "user_get", user_id: "not a valid id!" }));
    expect(result.kind).toBe("bad_message");
    expect(result.kind === "bad_message" && result.reason).toContain("user_id");
  });

  it("names nested fields by path", () => {
    const result = decodeRequest(
      "authenticated",
      pack({
        cmd: "vlob_maintenance_save_reencryption_batch",
        realm_id: new WireUuid(REALM),
        encryption_revision: 1,
        batch: [{ vlob_id: new WireUuid(VLOB), version: -1, blob: Buffer.from("x") }],
      }),
    );
    expect(result.kind === "bad_message" && result.reason).toContain("batch.0.version");
  });

  it("rejects out-of-range integers and floats where an integer is expected", () => {
    const base = { cmd: "human_find", query: null, omit_revoked: false, omit_non_human: false, page: 1 };
    expect(decodeRequest("authenticated", pack({ ...base, per_page: 101 })).kind).toBe("bad_message");
    expect(decodeRequest("authenticated", pack({ ...base, per_page: 1.5 })).kind).toBe("bad_message");
    expect(decodeRequest("authenticated", pack({ ...base, per_page: 100 })).kind).toBe("ok");
  });

  it("refuses a DateTime beyond what microseconds represent exactly (years 1685 to 2255), accepts one at the edge", () => {
    const read = (seconds: number) => {
      const ext = Buffer.alloc(10);
      ext.writeUInt8(0xd7, 0); // fixext 8
      ext.writeInt8(1, 1); // Parsec's DateTime extension
      ext.writeDoubleBE(seconds, 2);
      const head = pack({ cmd: "vlob_read", encryption_revision: 1, vlob_id: new WireUuid(VLOB), version: null });
      // {…, timestamp: <ext>}: one more key in the fixmap, then the key and the raw extension.
      const body = Buffer.concat([Buffer.from([head[0]! + 1]), head.subarray(1), pack("timestamp"), ext]);
      return decodeRequest("authenticated", body).kind;
    };
    expect(read(DateTime.MAX_EPOCH_SECONDS)).toBe("ok");
    expect(read(-DateTime.MAX_EPOCH_SECONDS)).toBe("ok");
    for (const seconds of [DateTime.MAX_EPOCH_SECONDS + 1, -DateTime.MAX_EPOCH_SECONDS - 1, 1e300, -1e300]) expect(read(seconds)).not.toBe("ok");
  });

  it("decodes typed values and drops unknown keys", () => {
    const result = decodeRequest(
      "authenticated",
      pack({
        cmd: "vlob_read",
        encryption_revision: 1,
        vlob_id: new WireUuid(VLOB),
        version: null,
        timestamp: DateTime.fromEpochSeconds(946774800),
        extra: "ignored",
      }),
    );
    if (result.kind !== "ok" || result.cmd !== "vlob_read") throw new Error(JSON.stringify(result));
    expect(result.req.vlob_id).toBe(VLOB);
    expect(result.req.version).toBeNull();
    expect(result.req.timestamp?.toRfc3339()).toBe("2000-01-02T01:00:00Z");
    expect("extra" in result.req).toBe(false);
  });

  it("decodes a UserID-keyed map into a Map and a UUID-keyed map into a Map keyed by the id", () => {
    const start = decodeRequest(
      "authenticated",
      pack({
        cmd: "realm_start_reencryption_maintenance",
        realm_id: new WireUuid(REALM),
        encryption_revision: 2,
        timestamp: DateTime.fromEpochSeconds(946774800),
        per_participant_message: { alice: Buffer.from("a"), bob: Buffer.from("b") },
      }),
    );
    if (start.kind !== "ok" || start.cmd !== "realm_start_reencryption_maintenance") throw new Error(JSON.stringify(start));
    expect([...start.req.per_participant_message.keys()]).toStrictEqual(["alice", "bob"]);

    const create = decodeRequest(
      "authenticated",
      pack({
        cmd: "vlob_create",
        realm_id: new WireUuid(REALM),
        encryption_revision: 1,
        vlob_id: new WireUuid(VLOB),
        timestamp: DateTime.fromEpochSeconds(946774800),
        blob: Buffer.from("x"),
        sequester_blob: new Map([[new WireUuid(REALM), Buffer.from("s")]]),
      }),
    );
    if (create.kind !== "ok" || create.cmd !== "vlob_create") throw new Error(JSON.stringify(create));
    expect([...(create.req.sequester_blob ?? new Map()).keys()]).toStrictEqual([REALM]);
  });

  it("never throws on deeply nested input", () => {
    const bytes = Buffer.concat([Buffer.from("82a3636d64a470696e67a470696e67", "hex"), Buffer.alloc(100_000, 0x91), Buffer.from([0])]);
    expect(() => decodeRequest("authenticated", bytes)).not.toThrow();
  });
});

describe("generic and typed replies", () => {
  it("encodes the generic error replies exactly", () => {
    expect(invalidMsgFormatRep).toStrictEqual({ status: "invalid_msg_format", reason: "Invalid message format" });
    expect(unknownCommandRep).toStrictEqual({ status: "unknown_command", reason: "Unknown command" });
    expect(badMessageRep("missing field 'x'")).toStrictEqual({ status: "bad_message", reason: "missing field 'x'" });
    expect(genericErrorReply({ kind: "unknown_command" })).toBe(unknownCommandRep);
    expect(encodeReply(unknownCommandRep)).toStrictEqual(pack({ status: "unknown_command", reason: "Unknown command" }));
  });

  it("writes floats as float 64, leaves undefined optional fields out, and keeps 64-bit integers integral", () => {
    const ts = DateTime.fromEpochSeconds(946774800);
    const badTimestamp = encodeTypedReply("authenticated", "vlob_update", {
      status: "bad_timestamp",
      reason: undefined,
      ballpark_client_early_offset: 300,
      ballpark_client_late_offset: 320,
      backend_timestamp: ts,
      client_timestamp: ts,
    });
    expect(badTimestamp.toString("hex")).toContain("cb4072c00000000000");
    expect(badTimestamp.includes(Buffer.from("reason"))).toBe(false);

    const stats = encodeTypedReply("authenticated", "realm_stats", { status: "ok", blocks_size: 2 ** 40, vlobs_size: 1 });
    expect(stats.toString("hex")).toContain("cf0000010000000000");
  });
});
