import type { Logger } from "pino";
import type { TemplatedApp, WebSocket } from "uWebSockets.js";
import type { AuthenticatedSession, InvitedSession } from "../../../application/index.js";
import { isStorageUnavailable } from "../../../application/ports/index.js";
import { HandshakingConnections, type AdmissionRefusal, type IncomingBudget } from "./budget.js";
import { CloseCode, type ConnectionRegistry, type LiveConnection } from "./connections.js";
import type { WireEngine } from "../../protocol/engine-types.js";

/**
 * Limits of the `/ws` endpoint. Together with {@link IncomingBudget} they bound what unauthenticated clients can make
 * the server hold; the worst case is worked out in the README ("Limits and memory budget").
 */
export interface WebSocketLimits {
  /**
   * Largest accepted message, in bytes: uWebSockets.js's `maxPayloadLength`. A 512 KiB block with its envelope
   * (`block_create`) must fit. A message over it, or a frame header declaring more, or fragments adding up to more, is
   * refused natively by uWebSockets.js before it is buffered: the TCP connection is dropped without a close frame
   * (clients see 1006). Until then uWebSockets.js buffers an incomplete message up to this size, even before the
   * handshake (it gives JavaScript no per-fragment hook).
   */
  readonly maxFrameBytes: number;
  /**
   * Largest frame accepted before the session is established (the handshake answer is a few hundred bytes), in bytes;
   * a larger one closes the connection with 1009 and a reason.
   */
  readonly maxHandshakeFrameBytes: number;
  /** Seconds without traffic before the connection is dropped; pings are sent automatically before that. */
  readonly idleTimeoutSeconds: number;
  /** Seconds the client has to answer the handshake challenge; then the connection is closed with 1008. */
  readonly handshakeTimeoutSeconds: number;
  /** Bytes of queued outgoing data above which a connection is considered stuck and closed (1008). */
  readonly maxBackpressureBytes: number;
  /**
   * WebSocket connections handshaking at once on the server (from the upgrade until the session is established or the
   * socket closes); over it, the upgrade is refused with HTTP 503.
   */
  readonly maxHandshakingConnections: number;
  /**
   * WebSocket connections handshaking at once from one remote address; over it, the upgrade is refused with HTTP 503.
   * Behind a reverse proxy every client has the proxy's address: raise it to {@link maxHandshakingConnections}.
   */
  readonly maxHandshakingConnectionsPerAddress: number;
  /**
   * Frames one connection may have waiting while a command is served (or while its handshake is checked); one more
   * closes the connection with 1008 and a reason.
   */
  readonly maxQueuedFrames: number;
  /** Bytes of frames one connection may have waiting (as {@link maxQueuedFrames}); over it, 1008 and a reason. */
  readonly maxQueuedBytes: number;
}

/** The HTTP 503 body answered to an upgrade over a handshaking-connection cap. */
const REFUSAL_MESSAGE: Readonly<Record<AdmissionRefusal, string>> = {
  server_full: "Too many WebSocket connections are handshaking on this server, retry later",
  address_full: "Too many WebSocket connections are handshaking from your address, retry later",
};

interface Connection extends LiveConnection {
  session: AuthenticatedSession | InvitedSession;
  closed: boolean;
  challenge: Buffer | null;
  handshakeTimer: NodeJS.Timeout | null;
  /** Counted by the {@link HandshakingConnections} until the session is established or the socket closes. */
  handshaking: boolean;
  /** Frames waiting for the one being served. */
  queue: { frame: Buffer; text: boolean }[];
  /** Bytes of the frames in {@link queue}. */
  queuedBytes: number;
  /** Bytes taken from the {@link IncomingBudget} by the frame being served (or the handshake answer being checked). */
  servingBytes: number;
  /** Aborted when a new frame arrives while a command is served (only cancellable commands end early). */
  inFlight: AbortController | null;
  /** Aborted when the connection closes. */
  closedSignal: AbortController;
  ws: WebSocket<{ connection: Connection }> | null;
  remote: string;
}

/**
 * Mounts `GET /ws`: challenge on open, handshake answer, then a strict request/reply loop: requests are served one
 * at a time in arrival order, and a new request signals the one in flight (which ends at once only if it is
 * cancellable, see `WireEngine.command`); closing the connection signals it too. Text frames are answered by the
 * engine (Parsec answers them with `invalid_msg_format`).
 *
 * Refusals, each logged: an upgrade over a handshaking-connection cap gets HTTP 503 and a message (no WebSocket is
 * created); a message over `maxFrameBytes` is dropped natively by uWebSockets.js (1006, no close frame); before the
 * session is established a frame over `maxHandshakeFrameBytes` closes with 1009 and a reason, and no answer within
 * `handshakeTimeoutSeconds` with 1008; a frame over the per-connection queue bounds closes with 1008 and a reason,
 * and one that would exceed the server-wide `budget` with 1013 (try again later).
 */
export const mountWebSocket = (
  app: TemplatedApp,
  engine: WireEngine,
  registry: ConnectionRegistry,
  limits: WebSocketLimits,
  budget: IncomingBudget,
  logger: Logger,
): { closeAll(code: number, reason: string): void } => {
  const open = new Set<Connection>();
  const handshaking = new HandshakingConnections(limits.maxHandshakingConnections, limits.maxHandshakingConnectionsPerAddress);
  const send = (c: Connection, frame: Buffer): void => {
    if (c.closed || !c.ws) return;
    c.ws.cork(() => c.ws!.send(frame, true));
    if (c.ws.getBufferedAmount() > limits.maxBackpressureBytes) c.close(CloseCode.policyViolation, "Client is not reading its replies");
  };
  const handshakeDone = (c: Connection): void => {
    if (!c.handshaking) return;
    c.handshaking = false;
    handshaking.remove(c.remote);
  };
  const releaseServing = (c: Connection): void => {
    budget.release(c.servingBytes);
    c.servingBytes = 0;
  };

  const pump = (c: Connection): void => {
    if (c.inFlight || c.closed) return;
    const next = c.queue.shift();
    if (!next) return;
    c.queuedBytes -= next.frame.byteLength;
    c.servingBytes = next.frame.byteLength;
    const controller = new AbortController();
    c.inFlight = controller;
    const started = process.hrtime.bigint();
    engine
      .command(c.session, next.frame, next.text, { newRequest: controller.signal, closed: c.closedSignal.signal }, (code, reason) => c.close(code, reason))
      .then(
        (step) => {
          if (!step) return;
          if ("close" in step) {
            logger.info({ cmd: step.cmd, remote: c.remote, reason: step.close.reason }, "Closing the connection");
            c.close(step.close.code, step.close.reason);
            return;
          }
          send(c, step.frame);
          logger.debug({ cmd: step.cmd, status: step.status, remote: c.remote, us: Number((process.hrtime.bigint() - started) / 1000n) }, "Request");
        },
        (err: unknown) => {
          if (isStorageUnavailable(err)) {
            logger.warn({ err: err.message, remote: c.remote, organization_id: c.session.organizationId }, "Command failed: storage unavailable");
            c.close(CloseCode.tryAgainLater, "Storage unavailable, please retry");
            return;
          }
          logger.error({ err, remote: c.remote, organization_id: c.session.organizationId }, "Command failed");
          c.close(CloseCode.internalError, "Internal server error");
        },
      )
      .finally(() => {
        c.inFlight = null;
        releaseServing(c);
        pump(c);
      });
  };

  const onHandshake = (c: Connection, frame: Buffer, text: boolean): void => {
    const challenge = c.challenge!;
    c.challenge = null;
    if (c.handshakeTimer) clearTimeout(c.handshakeTimer);
    c.handshakeTimer = null;
    c.servingBytes = frame.byteLength;
    engine
      .handshake(frame, challenge, text)
      .then(
        (step) => {
          if (c.closed) return;
          send(c, step.frame);
          if (!step.ok) {
            logger.info({ remote: c.remote, result: step.result, reason: step.reason }, "Connection dropped: bad handshake");
            c.close(CloseCode.normal, "Handshake failed");
            return;
          }
          c.session = step.session;
          handshakeDone(c);
          registry.add(c);
          const s = step.session;
          logger.info(
            {
              remote: c.remote,
              organization_id: s.organizationId,
              ...(s.kind === "authenticated" ? { device_id: s.deviceId } : { invitation: s.invitation.token }),
              api_version: `${s.apiVersion.major}.${s.apiVersion.revision}`,
              client_api_version: `${s.clientApiVersion.major}.${s.clientApiVersion.revision}`,
            },
            "Connection established",
          );
          engine.sessionOpened(s).catch((err: unknown) => logger.error({ err, remote: c.remote, organization_id: s.organizationId }, "Session start failed"));
        },
        (err: unknown) => {
          if (isStorageUnavailable(err)) {
            logger.warn({ err: err.message, remote: c.remote }, "Handshake failed: storage unavailable");
            c.close(CloseCode.tryAgainLater, "Storage unavailable, please retry");
            return;
          }
          logger.error({ err, remote: c.remote }, "Handshake failed unexpectedly");
          c.close(CloseCode.internalError, "Internal server error");
        },
      )
      .finally(() => {
        releaseServing(c);
        if (c.session) pump(c);
      });
  };

  /** Closes `c` (and answers false) when `bytes` more would exceed its queue bounds or the server-wide budget. */
  const admitFrame = (c: Connection, bytes: number): boolean => {
    if (c.queue.length + 1 > limits.maxQueuedFrames || c.queuedBytes + bytes > limits.maxQueuedBytes) {
      logger.info({ remote: c.remote, frames: c.queue.length, bytes: c.queuedBytes + bytes }, "Connection closed: too many requests queued");
      c.close(
        CloseCode.policyViolation,
        `Too many requests queued (limits: ${limits.maxQueuedFrames} frames, ${limits.maxQueuedBytes} bytes per connection)`,
      );
      return false;
    }
    if (!budget.tryTake(bytes)) {
      logger.warn({ remote: c.remote, bytes, used: budget.used, budget: budget.maxBytes }, "Connection closed: server-wide budget of incoming data exhausted");
      c.close(CloseCode.tryAgainLater, "Server busy, please retry");
      return false;
    }
    return true;
  };

  app.ws<{ connection: Connection }>("/ws", {
    compression: 0,
    maxPayloadLength: limits.maxFrameBytes,
    idleTimeout: limits.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    maxBackpressure: limits.maxBackpressureBytes,
    closeOnBackpressureLimit: 0,
    upgrade: (res, req, context) => {
      const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
      const refusal = handshaking.check(remote);
      if (refusal) {
        logger.warn({ remote, handshaking: handshaking.count, refusal }, "WebSocket upgrade refused: too many connections handshaking");
        res.cork(() => {
          res.writeStatus("503 Service Unavailable").writeHeader("content-type", "text/plain; charset=utf-8").writeHeader("retry-after", "5");
          res.end(REFUSAL_MESSAGE[refusal], true);
        });
        return;
      }
      const connection: Connection = {
        session: undefined as unknown as Connection["session"],
        closed: false,
        challenge: null,
        handshakeTimer: null,
        handshaking: false,
        queue: [],
        queuedBytes: 0,
        servingBytes: 0,
        inFlight: null,
        closedSignal: new AbortController(),
        ws: null,
        remote,
        close(code, reason) {
          if (this.closed || !this.ws) return;
          this.ws.end(code, reason);
        },
      };
      res.upgrade(
        { connection },
        req.getHeader("sec-websocket-key"),
        req.getHeader("sec-websocket-protocol"),
        req.getHeader("sec-websocket-extensions"),
        context,
      );
    },
    open: (ws) => {
      const c = ws.getUserData().connection;
      open.add(c);
      c.ws = ws;
      // uWebSockets.js opens the socket within `res.upgrade`, so no other upgrade ran since the admission check.
      c.handshaking = true;
      handshaking.add(c.remote);
      const { frame, challenge } = engine.challenge();
      c.challenge = challenge;
      send(c, frame);
      c.handshakeTimer = setTimeout(() => c.close(CloseCode.policyViolation, "Handshake timeout"), limits.handshakeTimeoutSeconds * 1000);
    },
    message: (ws, message, isBinary) => {
      const c = ws.getUserData().connection;
      if (c.closed) return;
      if (!c.session && message.byteLength > limits.maxHandshakeFrameBytes) {
        logger.info({ remote: c.remote, bytes: message.byteLength }, "Connection closed: frame too large before the handshake completed");
        c.close(
          CloseCode.messageTooBig,
          `Frame too large before the handshake completed (${message.byteLength} bytes, limit ${limits.maxHandshakeFrameBytes})`,
        );
        return;
      }
      if (c.challenge) {
        if (!budget.tryTake(message.byteLength)) {
          c.close(CloseCode.tryAgainLater, "Server busy, please retry");
          return;
        }
        return onHandshake(c, Buffer.from(message.slice(0)), !isBinary);
      }
      if (!admitFrame(c, message.byteLength)) return;
      const frame = Buffer.from(message.slice(0));
      c.queue.push({ frame, text: !isBinary });
      c.queuedBytes += frame.byteLength;
      if (!c.session) return;
      c.inFlight?.abort();
      pump(c);
    },
    close: (ws, code, message) => {
      const c = ws.getUserData().connection;
      open.delete(c);
      c.closed = true;
      c.ws = null;
      if (c.handshakeTimer) clearTimeout(c.handshakeTimer);
      handshakeDone(c);
      c.closedSignal.abort();
      budget.release(c.queuedBytes);
      c.queuedBytes = 0;
      c.queue.length = 0;
      // uWebSockets.js's own refusals (e.g. "Received too big message") come as 1006 with a message.
      const nativeReason = code === 1006 ? Buffer.from(message).toString() : "";
      if (nativeReason) logger.info({ remote: c.remote, code, reason: nativeReason }, "Connection dropped by uWebSockets.js");
      if (c.session) {
        registry.remove(c);
        logger.info({ remote: c.remote, organization_id: c.session.organizationId, code }, "Connection closed");
        engine.sessionClosed(c.session).catch((err: unknown) => logger.error({ err, remote: c.remote, organization_id: c.session.organizationId }, "Session end failed"));
      }
    },
  });

  return {
    closeAll(code, reason) {
      for (const c of [...open]) c.close(code, reason);
    },
  };
};
