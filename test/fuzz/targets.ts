import { deflateSync } from "node:zlib";
import { createWireEngine } from "../../src/adapters/protocol/engine.js";
import {
  commandTables,
  decodeHandshakeAnswer,
  decodeRequest,
  encodeHandshakeFailure,
  encodeReply,
  genericErrorReply,
  unpackWire,
  type ClientFamily,
} from "../../src/adapters/protocol/index.js";
import { isWireMap } from "../../src/adapters/protocol/wire.js";
import type { AuthenticatedSession, InvitedSession } from "../../src/application/index.js";
import {
  loadSequesterServiceCertificate,
  unsecureLoad,
  verifyAndLoad,
  type CertificateAuthor,
  type CertificateLoadOutcome,
} from "../../src/domain/certificates/index.js";
import { MsgpackDecodeError, pack } from "../../src/domain/serialization/msgpack.js";
import { ed25519Sign, ed25519VerifyKey } from "../support/certificates.js";
import { bootstrapWorld } from "../support/world.js";
import type { FuzzCorpus } from "./corpus.js";

/**
 * The fuzz targets: each decoder (handshake answer, request of each client family, certificate loading, the generic
 * `unpackWire`) and the command loop of the wire engine (authenticated, invited and anonymous requests, handshake
 * answers), each with its seeds and the properties every input must keep. Shared by the short fast-check runs of
 * `npm test` (test/fuzz/*.test.ts) and the long mutation loop of `npm run fuzz` (scripts/fuzz.ts).
 */

/** A property an input broke: an undocumented exception, a result outside the documented set, a bad reply, a hang. */
export class FuzzViolation extends Error {
  override readonly name = "FuzzViolation";
}

/** One fuzz target. */
export interface FuzzTarget {
  readonly name: string;
  /** Valid frames that mutations start from. */
  readonly seeds: readonly Buffer[];
  /** Frames that splices copy from (every seed of every target). */
  readonly donors: readonly Buffer[];
  /** Runs one input; throws {@link FuzzViolation} when a property does not hold. */
  run(input: Buffer): void | Promise<void>;
  /** Releases what the target holds (the engine's commands in flight); may be called once per target of a set. */
  close?(): Promise<void>;
}

function fail(message: string, cause?: unknown): never {
  throw new FuzzViolation(message, cause === undefined ? undefined : { cause });
}

/** Runs `body`; an exception other than a {@link FuzzViolation} becomes one that names the call and keeps the cause. */
const guarded = <T>(what: string, body: () => T): T => {
  try {
    return body();
  } catch (err) {
    if (err instanceof FuzzViolation) throw err;
    return fail(`${what} threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, err);
  }
};

/** Checks that `frame` is one msgpack map whose `status` is a string (and equals `status` when given); returns the map. */
export const expectStatusMap = (frame: Uint8Array, status?: string): Record<string, unknown> => {
  const reply = guarded("unpackWire(reply)", () => unpackWire(frame));
  if (!isWireMap(reply)) return fail("reply is not a msgpack map with string keys");
  if (typeof reply["status"] !== "string") return fail(`reply has no string status: ${JSON.stringify(Object.keys(reply))}`);
  if (status !== undefined && reply["status"] !== status) return fail(`reply status ${String(reply["status"])} differs from the logged ${status}`);
  return reply;
};

const GENERIC_KINDS = new Set(["invalid_msg_format", "unknown_command", "bad_message"]);
const LOAD_FAILURES = new Set(["bad_signature", "bad_compression", "bad_serialization", "wrong_type", "unexpected_author"]);

const expectLoadOutcome = (what: string, outcome: CertificateLoadOutcome<unknown>): void => {
  if (typeof outcome !== "object" || outcome === null) fail(`${what} returned ${String(outcome)}`);
  if (outcome.ok) return;
  if (!LOAD_FAILURES.has(outcome.reason)) fail(`${what} returned the undocumented reason ${String(outcome.reason)}`);
};

/** The key that signs mutated certificate payloads in the `certificate-payload` target. */
const PAYLOAD_SIGNING_KEY = Buffer.alloc(32, 0x24);
const PAYLOAD_VERIFY_KEY = ed25519VerifyKey(PAYLOAD_SIGNING_KEY);
const ALICE = "alice@dev1" as CertificateAuthor;

const requestTarget = (family: ClientFamily, corpus: FuzzCorpus, donors: readonly Buffer[]): FuzzTarget => ({
  name: `request-${family}`,
  seeds: corpus.requests[family],
  donors,
  run(input) {
    const result = guarded("decodeRequest", () => decodeRequest(family, input));
    if (result.kind === "ok") {
      const codecs = (commandTables[family] as unknown as Record<string, { req: { encode(a: unknown): unknown } }>)[result.cmd];
      if (!codecs) fail(`decodeRequest accepted ${result.cmd}, not a ${family} command`);
      // What was accepted re-encodes to a frame that is accepted again as the same command.
      const again = guarded("decodeRequest(re-encoded)", () => decodeRequest(family, pack(codecs!.req.encode(result.req))));
      if (again.kind !== "ok" || again.cmd !== result.cmd) fail(`re-encoded ${result.cmd} request no longer decodes: ${again.kind}`);
      return;
    }
    if (!GENERIC_KINDS.has(result.kind)) fail(`decodeRequest returned the undocumented kind ${String((result as { kind: unknown }).kind)}`);
    if (result.kind === "bad_message" && typeof result.reason !== "string") fail("bad_message without a string reason");
    expectStatusMap(guarded("encodeReply(generic)", () => encodeReply(genericErrorReply(result))), result.kind);
  },
});

/**
 * The pure decoder targets: `unpack-wire` (returns, or throws `MsgpackDecodeError` only), `handshake` (`ok` or
 * `bad_answer` with a reason, never throws; the failure frame it leads to decodes), `request-<family>` (a documented
 * kind; an accepted request re-encodes to one accepted again; a generic error reply is a map with its status),
 * `certificate-signed` (mutated complete certificates: a documented load outcome) and `certificate-payload` (mutated
 * inflated payloads, compressed and signed again so that the field decoders are reached: `verifyAndLoad` agrees
 * with `unsecureLoad`).
 */
export const decoderTargets = (corpus: FuzzCorpus): FuzzTarget[] => {
  const donors = [
    ...corpus.messages,
    ...corpus.handshakeAnswers,
    ...corpus.requests.authenticated,
    ...corpus.requests.invited,
    ...corpus.requests.anonymous,
    ...corpus.certificatePayloads,
  ];
  return [
    {
      name: "unpack-wire",
      seeds: [...corpus.messages, ...corpus.requests.authenticated, ...corpus.certificatePayloads],
      donors,
      run(input) {
        try {
          unpackWire(input);
        } catch (err) {
          if (!(err instanceof MsgpackDecodeError)) fail(`unpackWire threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, err);
        }
      },
    },
    {
      name: "handshake",
      seeds: corpus.handshakeAnswers,
      donors,
      run(input) {
        const result = guarded("decodeHandshakeAnswer", () => decodeHandshakeAnswer(input));
        if (result.kind === "ok") return;
        if (result.kind !== "bad_answer") fail(`decodeHandshakeAnswer returned the undocumented kind ${String((result as { kind: unknown }).kind)}`);
        if (typeof result.reason !== "string") fail("bad_answer without a string reason");
        const frame = guarded("encodeHandshakeFailure", () => encodeHandshakeFailure("bad_protocol", `Invalid handshake answer: ${result.reason}`));
        const decoded = guarded("unpackWire(result)", () => unpackWire(frame));
        if (!isWireMap(decoded) || decoded["result"] !== "bad_protocol") fail("handshake failure frame does not decode");
      },
    },
    requestTarget("authenticated", corpus, donors),
    requestTarget("invited", corpus, donors),
    requestTarget("anonymous", corpus, donors),
    {
      name: "certificate-signed",
      seeds: corpus.signedCertificates,
      donors: corpus.signedCertificates,
      run(input) {
        expectLoadOutcome("unsecureLoad", guarded("unsecureLoad", () => unsecureLoad(input)));
        expectLoadOutcome("verifyAndLoad", guarded("verifyAndLoad", () => verifyAndLoad(input, PAYLOAD_VERIFY_KEY, { type: "user_certificate", author: ALICE })));
        expectLoadOutcome("loadSequesterServiceCertificate", guarded("loadSequesterServiceCertificate", () => loadSequesterServiceCertificate(input.subarray(64))));
      },
    },
    {
      name: "certificate-payload",
      seeds: corpus.certificatePayloads,
      donors,
      run(input) {
        const compressed = deflateSync(input);
        const signed = Buffer.concat([ed25519Sign(PAYLOAD_SIGNING_KEY, compressed), compressed]);
        const unsecure = guarded("unsecureLoad", () => unsecureLoad(signed));
        expectLoadOutcome("unsecureLoad", unsecure);
        if (unsecure.ok) {
          const { type, author } = unsecure.certificate as { type: Parameters<typeof verifyAndLoad>[2]["type"]; author: CertificateAuthor };
          const verified = guarded("verifyAndLoad", () => verifyAndLoad(signed, PAYLOAD_VERIFY_KEY, { type, author }));
          if (!verified.ok) fail(`unsecureLoad accepted a ${type} that verifyAndLoad refuses (${verified.reason})`);
        } else {
          const verified = guarded("verifyAndLoad", () => verifyAndLoad(signed, PAYLOAD_VERIFY_KEY, { type: "user_certificate", author: ALICE }));
          // verifyAndLoad checks the type before the fields: it may say wrong_type where unsecureLoad read further.
          if (verified.ok || (verified.reason !== unsecure.reason && verified.reason !== "wrong_type"))
            fail(`verifyAndLoad (${verified.ok ? "ok" : verified.reason}) disagrees with unsecureLoad (${unsecure.reason})`);
        }
        expectLoadOutcome("loadSequesterServiceCertificate", guarded("loadSequesterServiceCertificate", () => loadSequesterServiceCertificate(compressed)));
      },
    },
  ];
};

/** How long the engine may take on one input before it counts as a hang, in milliseconds. */
export const COMMAND_HANG_MS = 5_000;
/** When the engine aborts a cancellable wait (`events_listen` with `wait: true`…), in milliseconds. */
const CANCEL_AFTER_MS = 5;
/** The claimer's SAS steps wait for the greeter (not cancellable, as in Parsec): such a wait is cut after this long. */
const SAS_WAIT_MS = 250;
const ANONYMOUS_HTTP_STATUSES = new Set([404, 415, 460]);

const withDeadline = async <T>(work: Promise<T>, ms: number): Promise<T | "deadline"> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<"deadline">((resolve) => (timer = setTimeout(() => resolve("deadline"), ms)))]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * The command-loop targets, on one in-memory application in debug mode (`ping` registered) with a bootstrapped
 * `CoolOrg`, alice logged in and a claimer admitted on a live DEVICE invitation:
 * `engine-authenticated` / `engine-invited` (the reply is a msgpack map whose `status` is the one logged, or no reply
 * only for a cancelled wait; never a rejection; nothing reported to the error reporter; no hang), `engine-anonymous`
 * (`POST /anonymous/CoolOrg`: a status map or HTTP 404/415/460) and `engine-handshake` (a `result` map).
 */
export const commandLoopTargets = async (corpus: FuzzCorpus): Promise<FuzzTarget[]> => {
  const { t, alice } = await bootstrapWorld({ debug: true });
  const engine = createWireEngine(t.app);
  const invitation = await t.app.inviteNew(alice.session, { type: "DEVICE", sendEmail: false });
  if (invitation.kind !== "ok") throw new Error(`inviteNew: ${invitation.kind}`);
  const admitted = await t.app.admitInvited({
    organizationId: alice.session.organizationId,
    invitationType: "DEVICE",
    token: invitation.token,
    clientApiVersion: { major: 2, revision: 5 },
  });
  if (admitted.kind !== "ok") throw new Error(`admitInvited: ${admitted.kind}`);
  const claimer: InvitedSession = admitted.session;
  const donors = [...corpus.requests.authenticated, ...corpus.requests.invited, ...corpus.requests.anonymous, ...corpus.messages];
  let errorsSeen = 0;
  const noNewReportedError = (): void => {
    if (t.reportedErrors.length === errorsSeen) return;
    const reported = t.reportedErrors.slice(errorsSeen);
    errorsSeen = t.reportedErrors.length;
    fail(`the application reported ${JSON.stringify(reported).slice(0, 500)}`);
  };

  /** Ends the commands still in flight (a claimer's SAS step cut after {@link SAS_WAIT_MS} keeps waiting otherwise). */
  const close = () => engine.shutdown(1_000);

  const commandTarget = (family: "authenticated" | "invited", session: AuthenticatedSession | InvitedSession): FuzzTarget => ({
    name: `engine-${family}`,
    seeds: corpus.requests[family],
    donors,
    close,
    async run(input) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), CANCEL_AFTER_MS);
      const decoded = decodeRequest(family, input);
      const sasWait = family === "invited" && decoded.kind === "ok" && decoded.cmd.startsWith("invite_") && decoded.cmd !== "invite_info";
      try {
        const work = engine.command(session, input, false, { newRequest: controller.signal, closed: controller.signal }, () => {});
        const step = await withDeadline(work, sasWait ? SAS_WAIT_MS : COMMAND_HANG_MS).catch((err: unknown) => fail(`engine.command rejected: ${String(err)}`, err));
        if (step === "deadline") {
          if (sasWait) return;
          fail(`engine.command did not settle within ${COMMAND_HANG_MS} ms`);
        }
        if (step === null) {
          if (!controller.signal.aborted) fail("no reply although the request was not cancelled");
        } else if ("frame" in step) expectStatusMap(step.frame, step.status);
        else if (typeof step.close.code !== "number") fail("close step without a code");
        noNewReportedError();
      } finally {
        clearTimeout(timer);
      }
    },
  });

  return [
    commandTarget("authenticated", alice.session),
    commandTarget("invited", claimer),
    {
      name: "engine-anonymous",
      seeds: corpus.requests.anonymous,
      donors,
      close,
      async run(input) {
        const step = await withDeadline(engine.anonymous(alice.session.organizationId, input), COMMAND_HANG_MS).catch((err: unknown) =>
          fail(`engine.anonymous rejected: ${String(err)}`, err),
        );
        if (step === "deadline") fail(`engine.anonymous did not settle within ${COMMAND_HANG_MS} ms`);
        else if (step.ok) expectStatusMap(step.frame, step.status);
        else if (!ANONYMOUS_HTTP_STATUSES.has(step.httpStatus)) fail(`engine.anonymous answered the undocumented HTTP ${step.httpStatus}`);
        noNewReportedError();
      },
    },
    {
      name: "engine-handshake",
      seeds: corpus.handshakeAnswers,
      donors,
      async run(input) {
        const { challenge } = engine.challenge();
        const step = await withDeadline(engine.handshake(input, challenge, false), COMMAND_HANG_MS).catch((err: unknown) =>
          fail(`engine.handshake rejected: ${String(err)}`, err),
        );
        if (step === "deadline") fail(`engine.handshake did not settle within ${COMMAND_HANG_MS} ms`);
        else {
          const result = guarded("unpackWire(result)", () => unpackWire(step.frame));
          if (!isWireMap(result) || result["handshake"] !== "result" || typeof result["result"] !== "string") fail("handshake result frame is not a result map");
        }
        noNewReportedError();
      },
      close,
    },
  ];
};
