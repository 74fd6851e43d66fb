import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commandTables, decodeHandshakeAnswer, decodeRequest, type ClientFamily } from "../../src/adapters/protocol/index.js";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";

const FAMILIES: ClientFamily[] = ["authenticated", "invited", "anonymous"];
const GENERIC = new Set(["invalid_msg_format", "unknown_command", "bad_message"]);

/** Any msgpack value Parsec peers could send: scalars, bytes, DateTime, UUIDs, nested arrays and string-keyed maps. */
const wireValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.string(),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    fc.integer({ min: 0, max: 4_102_444_800 }).map((s) => DateTime.fromEpochMicroseconds(s * 1_000_000)),
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => new WireUuid(Buffer.from(b).toString("hex"))),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 12 }), tie("value"), { maxKeys: 4 }),
  ),
})).value;

describe("request decoding never throws", () => {
  it("on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.constantFrom(...FAMILIES), (bytes, family) => {
        const result = decodeRequest(family, bytes);
        expect(["ok", ...GENERIC]).toContain(result.kind);
      }),
      { numRuns: 3000 },
    );
  });

  it("on a known command with arbitrary fields: ok or a generic error, never an exception", () => {
    const commands = FAMILIES.flatMap((family) => Object.keys(commandTables[family]).map((cmd) => [family, cmd] as const));
    fc.assert(
      fc.property(fc.constantFrom(...commands), fc.dictionary(fc.string({ maxLength: 24 }), wireValue, { maxKeys: 8 }), ([family, cmd], fields) => {
        const result = decodeRequest(family, pack({ ...fields, cmd }));
        if (result.kind === "ok") expect(result.cmd).toBe(cmd);
        else expect(GENERIC).toContain(result.kind);
      }),
      { numRuns: 3000 },
    );
  });

  it("on arbitrary handshake answers", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
          fc.dictionary(fc.string({ maxLength: 24 }), wireValue, { maxKeys: 8 }).map((m) => pack({ handshake: "answer", ...m })),
        ),
        (bytes) => {
          const result = decodeHandshakeAnswer(bytes);
          expect(["ok", "bad_answer"]).toContain(result.kind);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
