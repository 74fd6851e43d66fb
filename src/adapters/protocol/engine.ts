import type { Application, AuthenticatedSession, HandshakeFailure, InvitedSession } from "../../application/index.js";
import { ballparkOffsets } from "../../domain/certificates/index.js";
import { CHALLENGE_SIZE, SUPPORTED_API_VERSIONS } from "../../domain/handshake/index.js";
import type { OrganizationID } from "../../domain/ids.js";
import type { MsgpackDecodeLimits } from "../../domain/serialization/decoder.js";
import { ORPHANED_COMMAND_TIMEOUT_MS, type AnonymousStep, type CommandStep, type HandshakeStep, type WireEngine } from "./engine-types.js";
import { decodeHandshakeAnswer, encodeHandshakeChallenge, encodeHandshakeFailure, encodeHandshakeOk } from "./handshake.js";
import { EventQueueOverflowError } from "./handlers/events.js";
import { handlerTables, type Handler, type HandlerContext } from "./handlers/index.js";
import { decodeRequest, encodeTypedReply, encodeReply, genericErrorReply, invalidMsgFormatRep, type ClientFamily, type DecodeRequestResult } from "./registry.js";

export { ORPHANED_COMMAND_TIMEOUT_MS, type WireEngine, type HandshakeStep, type CommandStep, type AnonymousStep } from "./engine-types.js";

/** A handler context whose abort signal is chosen once the command is known (cancellable or not). */
type Context<F extends ClientFamily> = Omit<HandlerContext<F>, "signal"> & { readonly signal: (cmd: string) => AbortSignal };

/** The commands a new request or a closed connection cancels (Parsec v2.16.3 `cancel_on_client_sending_new_cmd`). */
const CANCELLABLE: Readonly<Record<"authenticated" | "invited", ReadonlySet<string>>> = {
  authenticated: new Set(["events_listen"]),
  invited: new Set(["invite_1_claimer_wait_peer"]),
};


/**
 * msgpack bounds for what unauthenticated peers send (handshake answers, anonymous HTTP bodies): the largest of them,
 * an `organization_bootstrap` or a `pki_enrollment_submit`, holds a few dozen values at depth 2.
 */
export const UNAUTHENTICATED_DECODE_LIMITS: MsgpackDecodeLimits = Object.freeze({ maxDepth: 8, maxElements: 1_000 });

const failure = (outcome: HandshakeFailure): HandshakeStep => ({
  ok: false,
  frame: encodeHandshakeFailure(outcome.kind, outcome.help),
  result: outcome.kind,
  reason: outcome.help,
});

/**
 * Parsec's wire protocol over any message transport: the three-message handshake, then
 * decode → handler → reply per request, with the generic replies for malformed frames.
 * Source: Parsec v2.16.3 `handshake.py` and `asgi/ws.py`.
 */
export const createWireEngine = (app: Application): WireEngine => {
  const tables = handlerTables({ debug: app.config.debug });
  /** Aborted at shutdown: every command still running ends. */
  const stopping = new AbortController();
  /** Commands and session hooks in flight, awaited at shutdown. */
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  };
  const orphanSignals = new WeakMap<AbortSignal, AbortSignal>();

  /**
   * The signal of a non-cancellable command: aborts {@link ORPHANED_COMMAND_TIMEOUT_MS} after `closed` aborts, or at
   * shutdown; one per connection (per `closed` signal).
   */
  const orphanSignal = (closed: AbortSignal): AbortSignal => {
    let signal = orphanSignals.get(closed);
    if (signal) return signal;
    const controller = new AbortController();
    const arm = () => setTimeout(() => controller.abort(), ORPHANED_COMMAND_TIMEOUT_MS).unref();
    if (closed.aborted) arm();
    else closed.addEventListener("abort", arm, { once: true });
    signal = AbortSignal.any([controller.signal, stopping.signal]);
    orphanSignals.set(closed, signal);
    return signal;
  };

  const dispatch = async <F extends ClientFamily>(family: F, context: Context<F>, decoded: DecodeRequestResult<F>): Promise<CommandStep | null> => {
    if (decoded.kind !== "ok") {
      const reply = genericErrorReply(decoded);
      return { frame: encodeReply(reply), cmd: "", status: reply.status };
    }
    const handler = (tables[family] as Record<string, Handler<F, never> | undefined>)[decoded.cmd];
    if (!handler) {
      const reply = genericErrorReply({ kind: "unknown_command" });
      return { frame: encodeReply(reply), cmd: decoded.cmd, status: reply.status };
    }
    const { signal, ...rest } = context;
    const ctx: HandlerContext<F> = { ...rest, signal: signal(decoded.cmd) };
    let reply: unknown;
    try {
      reply = await handler(ctx, decoded.req as never);
    } catch (err) {
      if (err instanceof EventQueueOverflowError) return { close: { code: err.code, reason: err.reason }, cmd: decoded.cmd };
      throw err;
    }
    if (reply === null) return null;
    return { frame: encodeTypedReply(family, decoded.cmd as never, reply as never), cmd: decoded.cmd, status: (reply as { status: string }).status };
  };

  const serve = <F extends ClientFamily>(family: F, context: Context<F>, frame: Buffer, text: boolean): Promise<CommandStep | null> =>
    text ? Promise.resolve({ frame: encodeReply(invalidMsgFormatRep), cmd: "", status: invalidMsgFormatRep.status }) : dispatch(family, context, decodeRequest(family, frame));

  return {
    challenge() {
      const challenge = app.random.bytes(CHALLENGE_SIZE);
      const frame = encodeHandshakeChallenge({
        challenge,
        supported_api_versions: SUPPORTED_API_VERSIONS.map((v) => ({ major: v.major, revision: v.revision })),
        ballpark_client_early_offset: ballparkOffsets.clientEarlyOffset,
        ballpark_client_late_offset: ballparkOffsets.clientLateOffset,
        backend_timestamp: app.clock.now(),
      });
      return { frame, challenge };
    },

    async handshake(frame, challenge, text) {
      if (text) return failure({ kind: "bad_protocol", help: "Expected bytes message in websocket" });
      const decoded = decodeHandshakeAnswer(frame, UNAUTHENTICATED_DECODE_LIMITS);
      if (decoded.kind !== "ok") return failure({ kind: "bad_protocol", help: `Invalid handshake answer: ${decoded.reason}` });
      const answer = decoded.answer;
      const outcome =
        answer.type === "AUTHENTICATED"
          ? await app.authenticateDevice({
              organizationId: answer.organization_id,
              deviceId: answer.device_id,
              rootVerifyKey: answer.rvk,
              answer: answer.answer,
              clientApiVersion: answer.client_api_version,
              challenge,
            })
          : await app.admitInvited({
              organizationId: answer.organization_id,
              invitationType: answer.invitation_type,
              token: answer.token,
              clientApiVersion: answer.client_api_version,
            });
      if (outcome.kind !== "ok") {
        if (outcome.kind === "organization_expired")
          await app.events.publishNow({ type: "organization.expired", organizationId: answer.organization_id });
        return failure(outcome);
      }
      return { ok: true, session: outcome.session, frame: encodeHandshakeOk() };
    },

    command(session: AuthenticatedSession | InvitedSession, frame, text, signals, closeConnection) {
      const signal = (cmd: string) =>
        CANCELLABLE[session.kind].has(cmd) ? AbortSignal.any([signals.newRequest, signals.closed, stopping.signal]) : orphanSignal(signals.closed);
      return track(
        session.kind === "authenticated"
          ? serve("authenticated", { app, session, signal, closeConnection }, frame, text)
          : serve("invited", { app, session, signal, closeConnection }, frame, text),
      );
    },

    async sessionOpened(session) {
      if (session.kind === "invited") await track(app.claimerJoined(session));
    },

    async sessionClosed(session) {
      if (session.kind === "invited") await track(app.claimerLeft(session));
      else app.endEventSession(session);
    },

    async shutdown(timeoutMs = 5_000) {
      stopping.abort();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    },

    async anonymousPrecheck(organizationId: OrganizationID, method) {
      const found = await app.getOrganization(organizationId);
      if (found.kind === "not_found") return method === "POST" && app.config.spontaneousOrganizationBootstrap ? null : 404;
      return found.organization.isExpired ? 460 : null;
    },

    async anonymous(organizationId, frame): Promise<AnonymousStep> {
      const decoded = decodeRequest("anonymous", frame, UNAUTHENTICATED_DECODE_LIMITS);
      if (decoded.kind === "invalid_msg_format" || decoded.kind === "unknown_command") return { ok: false, httpStatus: 415 };
      // Only spontaneous bootstrap lets a request for an unknown organization past the precheck, and only for bootstrapping.
      const mayBeUnknown = app.config.spontaneousOrganizationBootstrap && decoded.kind === "ok" && decoded.cmd !== "organization_bootstrap";
      if (mayBeUnknown && (await app.getOrganization(organizationId)).kind === "not_found") return { ok: false, httpStatus: 404 };
      const session = { kind: "anonymous", organizationId, apiVersion: SUPPORTED_API_VERSIONS[1]! } as const;
      const never = new AbortController().signal;
      const step = await dispatch("anonymous", { app, session, signal: () => never, closeConnection: () => {} }, decoded);
      if (!step || "close" in step || step.status === "unknown_command") return { ok: false, httpStatus: 415 };
      return { ok: true, ...step };
    },
  };
};
