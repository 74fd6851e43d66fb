import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pack } from "../../src/domain/serialization/msgpack.js";
import { connectAuthenticated, expectSession, type ParsecSession } from "../support/client.js";
import { fixtures } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { aliceOptions, createBootstrappedOrganization, within } from "./helpers.js";

/** The authenticated request/reply loop on malformed, unknown, large and oversized frames. */
describe.skipIf(!fixtures)("authenticated command loop robustness", () => {
  const f = fixtures!;
  let server: TestServer;
  let organizationId: string;
  let session: ParsecSession<"authenticated">;

  beforeAll(async () => {
    server = await startTestServer();
    organizationId = await createBootstrappedOrganization(server, f);
    session = expectSession(await connectAuthenticated(aliceOptions(server, f, organizationId)));
  });
  afterAll(async () => {
    await session?.close();
    await server?.stop();
  });

  const invalidMsgFormat = { status: "invalid_msg_format", reason: "Invalid message format" };
  const unknownCommand = { status: "unknown_command", reason: "Unknown command" };

  it.each<[string, Uint8Array | string, Record<string, unknown>]>([
    ["garbage bytes", Buffer.from([0xc1, 0x00, 0xff, 0x42]), invalidMsgFormat],
    ["truncated msgpack", pack({ cmd: "ping", ping: "x" }).subarray(0, 5), invalidMsgFormat],
    ["two msgpack values in one frame", Buffer.concat([pack({ cmd: "ping", ping: "a" }), pack({ cmd: "ping", ping: "b" })]), invalidMsgFormat],
    ["an empty binary frame", Buffer.alloc(0), invalidMsgFormat],
    ["a text frame", '{"cmd": "ping", "ping": "x"}', invalidMsgFormat],
    ["a top-level array", pack(["ping", "x"]), invalidMsgFormat],
    ["a top-level string", pack("ping"), invalidMsgFormat],
    ["an unknown command", pack({ cmd: "nope" }), unknownCommand],
    ["a non-string cmd", pack({ cmd: 5 }), unknownCommand],
    ["a map without cmd", pack({ ping: "x" }), unknownCommand],
    ["a command of the anonymous family", pack({ cmd: "organization_bootstrap" }), unknownCommand],
    ["a schema command not served by this server (PKI enrollment)", pack({ cmd: "pki_enrollment_list" }), unknownCommand],
  ])("answers %s, then keeps serving", async (_, frame, expected) => {
    expect(await session.sendRaw(frame)).toEqual(expected);
    expect(await session.ping("still there")).toBe("still there");
  });

  it.each<[string, Record<string, unknown>]>([
    ["ping with an integer", { cmd: "ping", ping: 42 }],
    ["ping without its field", { cmd: "ping" }],
    ["ping with bytes instead of str", { cmd: "ping", ping: Buffer.from("x") }],
  ])("answers bad_message to %s, then keeps serving", async (_, request) => {
    const reply = await session.send(request["cmd"], Object.fromEntries(Object.entries(request).filter(([k]) => k !== "cmd")));
    expect(reply["status"]).toBe("bad_message");
    expect(typeof reply["reason"]).toBe("string");
    expect(await session.ping()).toBe("ping");
  });

  it("ignores unknown fields of a known command (as upstream)", async () => {
    expect(await session.send("ping", { ping: "x", extra: 1 })).toEqual({ status: "ok", pong: "x" });
  });

  it("serves pipelined requests in order", async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => session.ping(`n${i}`)));
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`));
  });

  it("accepts a 600 KiB binary frame (a 512 KiB block with its envelope must fit)", async () => {
    const big = "b".repeat(600 * 1024);
    const frame = pack({ cmd: "ping", ping: big });
    expect(frame.length).toBeGreaterThan(600 * 1024);
    const reply = await session.sendRaw(frame);
    expect(reply["status"]).toBe("ok");
    expect(reply["pong"]).toBe(big);
  });

  // Over the frame limit (uWebSockets.js's maxPayloadLength) uWebSockets.js drops the connection natively, before
  // buffering the frame, without a close frame: the client sees 1006.
  it.each([
    ["just over the 1.0625 MiB limit", 1024 * 1024 + 64 * 1024 + 1],
    ["2 MiB", 2 * 1024 * 1024],
    ["8 MiB", 8 * 1024 * 1024],
  ])("closes a connection sending a %s frame, and keeps serving others", async (_, size) => {
    const victim = expectSession(await connectAuthenticated(aliceOptions(server, f, organizationId)));
    const frame = Buffer.alloc(size, 0x61);
    await expect(victim.sendRaw(frame)).rejects.toThrow(/WebSocket closed/);
    const closed = await within(2_000, victim.closed, "close after an oversized frame");
    expect(closed.code).toBe(1006);
    expect(await session.ping("survivor")).toBe("survivor");
    const fresh = expectSession(await connectAuthenticated(aliceOptions(server, f, organizationId)));
    expect(await fresh.ping("fresh")).toBe("fresh");
    await fresh.close();
  });

  it("survives clients vanishing with requests in flight", async () => {
    for (let i = 0; i < 5; i++) {
      const quitter = expectSession(await connectAuthenticated(aliceOptions(server, f, organizationId)));
      quitter.channel.send(pack({ cmd: "ping", ping: "x".repeat(100_000) }));
      quitter.channel.ws.terminate();
      await quitter.closed;
    }
    expect(await session.ping("after quitters")).toBe("after quitters");
  });

  it("logged no internal error", () => {
    expect(server.loggedErrors).toEqual([]);
  });
});
