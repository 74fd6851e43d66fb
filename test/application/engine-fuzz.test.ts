import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createWireEngine } from "../../src/adapters/protocol/engine.js";
import { commandTables } from "../../src/adapters/protocol/index.js";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";
import { bootstrapWorld } from "../support/world.js";

/** Field values that often fit the schemas: small integers, ids, timestamps, short bytes, role and profile names. */
const plausible = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -2, max: 5 }),
  fc.constantFrom("alice", "bob", "alice@dev1", "OWNER", "READER", "ADMIN", "USER", "DEVICE", "FINISHED", ""),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
  fc.constantFrom("000000000000000000000000000000a1", "000000000000000000000000000000a2").map((hex) => new WireUuid(hex)),
  fc.integer({ min: -600, max: 600 }).map((s) => DateTime.fromEpochMilliseconds(Date.now() + s * 1000)),
  fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
);

const uuid = fc.constantFrom("000000000000000000000000000000a1", "000000000000000000000000000000a2", "000000000000000000000000000000b1").map((hex) => new WireUuid(hex));
const bytes = fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b));
const smallInt = fc.integer({ min: 0, max: 4 });
/** A value of the type each field name has in the schemas, so that most requests pass decoding and reach a handler. */
const typed: Record<string, fc.Arbitrary<unknown>> = {
  realm_id: uuid,
  vlob_id: uuid,
  block_id: uuid,
  token: uuid,
  version: smallInt,
  encryption_revision: smallInt,
  offset: smallInt,
  page: fc.integer({ min: 1, max: 3 }),
  per_page: fc.integer({ min: 1, max: 100 }),
  size: fc.integer({ min: 1, max: 10 }),
  last_checkpoint: smallInt,
  timestamp: fc.integer({ min: -600, max: 600 }).map((sec) => DateTime.fromEpochMilliseconds(Date.now() + sec * 1000)),
  wait: fc.constant(false),
  omit_revoked: fc.boolean(),
  omit_non_human: fc.boolean(),
  send_email: fc.boolean(),
  user_id: fc.constantFrom("alice", "bob", "zoe"),
  query: fc.option(fc.constantFrom("ali", "x", ""), { nil: null }),
  claimer_email: fc.constantFrom("zack@example.com", "alice@example.com"),
  type: fc.constantFrom("USER", "DEVICE", "SHAMIR_RECOVERY"),
  reason: fc.constantFrom("FINISHED", "CANCELLED", "ROTTEN"),
  ping: fc.string(),
  sequester_blob: fc.constant(null),
  batch: fc.array(fc.record({ vlob_id: uuid, version: smallInt, blob: bytes }), { maxLength: 3 }),
  per_participant_message: fc.dictionary(fc.constantFrom("alice", "bob"), bytes),
};
const valueFor = (key: string): fc.Arbitrary<unknown> => (typed[key] ? fc.oneof({ weight: 9, arbitrary: typed[key] }, { weight: 1, arbitrary: plausible }) : fc.oneof(bytes, plausible));

describe("the command loop on arbitrary well-formed-looking requests", () => {
  it("always answers with a status (or nothing for a cancelled wait) and never throws, for every authenticated command", async () => {
    const { t, alice } = await bootstrapWorld({ debug: true });
    const engine = createWireEngine(t.app);
    type Shape = { type?: { types?: [{ props?: object }, { props?: object }] } };
    const keysOf = (cmd: string): { required: string[]; optional: string[] } => {
      const req = (commandTables.authenticated as unknown as Record<string, { req: Shape }>)[cmd]!.req;
      const [required, optional] = req.type?.types ?? [{}, {}];
      return { required: Object.keys(required.props ?? {}).filter((k) => k !== "cmd"), optional: Object.keys(optional.props ?? {}) };
    };
    const request = fc.constantFrom(...Object.keys(commandTables.authenticated)).chain((cmd) => {
      const { required, optional } = keysOf(cmd);
      return fc.record({
        cmd: fc.constant(cmd),
        fields: fc.record(Object.fromEntries([...required, ...optional].map((k) => [k, valueFor(k)])), { requiredKeys: required }),
      });
    });
    await fc.assert(
      fc.asyncProperty(
        request,
        async ({ cmd, fields }) => {
          const controller = new AbortController();
          const timer = setTimeout(() => controller.abort(), 20);
          try {
            const step = await engine.command(alice.session, pack({ ...fields, cmd }), false, { newRequest: controller.signal, closed: controller.signal }, () => {});
            if (step === null) expect(controller.signal.aborted).toBe(true);
            else if ("frame" in step) expect(typeof step.status).toBe("string");
          } finally {
            clearTimeout(timer);
          }
        },
      ),
      { numRuns: 1500 },
    );
    expect(t.reportedErrors).toEqual([]);
  });
});
