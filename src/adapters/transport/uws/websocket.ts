import type { Logger } from "pino";
import type { TemplatedApp, WebSocket } from "uWebSockets.js";
import type { AuthenticatedSession, InvitedSession } from "../../../application/index.js";
import { isStorageUnavailable } from "../../../application/ports/index.js";
import { CloseCode, type ConnectionRegistry, type LiveConnection } from "./connections.js";
import type { WireEngine } from "../../protocol/engine-types.js";

/** Limits of the `/ws` endpoint. */
export interface WebSocketLimits {
  /** Largest accepted frame, in bytes (a 512 KiB block plus its envelope must fit). */
  readonly maxFrameBytes: number;
  /** Seconds without traffic before the connection is dropped; pings are sent automatically before that. */
  readonly idleTimeoutSeconds: number;
  /** Seconds the client has to answer the handshake challenge. */
  readonly handshakeTimeoutSeconds: number;
  /** Bytes of queued outgoing data above which a connection is considered stuck and closed. */
  readonly maxBackpressureBytes: number;
}

interface Connection extends LiveConnection {
  session: AuthenticatedSession | InvitedSession;
  closed: boolean;
  challenge: Buffer | null;
  handshakeTimer: NodeJS.Timeout | null;
  /** Frames waiting for the one being served. */
  queue: { frame: Buffer; text: boolean }[];
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
 * cancellable, see `WireEngine.command`); closing the connection signals it too. A frame over `maxFrameBytes` closes the connection with 1009 and a
 * reason; past four times that, uWebSockets.js drops the connection without a close frame (clients see 1006)
 * rather than buffer it. Text frames are answered by the engine (Parsec answers them with `invalid_msg_format`).
 */
export const mountWebSocket = (
  app: TemplatedApp,
  engine: WireEngine,
  registry: ConnectionRegistry,
  limits: WebSocketLimits,
  logger: Logger,
): { closeAll(code: number, reason: string): void } => {
  const open = new Set<Connection>();
  const send = (c: Connection, frame: Buffer): void => {
    if (c.closed || !c.ws) return;
    c.ws.cork(() => c.ws!.send(frame, true));
    if (c.ws.getBufferedAmount() > limits.maxBackpressureBytes) c.close(CloseCode.policyViolation, "Client is not reading its replies");
  };

  const pump = (c: Connection): void => {
    if (c.inFlight || c.closed) return;
    const next = c.queue.shift();
    if (!next) return;
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
        pump(c);
      });
  };

  const onHandshake = (c: Connection, frame: Buffer, text: boolean): void => {
    const challenge = c.challenge!;
    c.challenge = null;
    if (c.handshakeTimer) clearTimeout(c.handshakeTimer);
    c.handshakeTimer = null;
    engine.handshake(frame, challenge, text).then(
      (step) => {
        if (c.closed) return;
        send(c, step.frame);
        if (!step.ok) {
          logger.info({ remote: c.remote, result: step.result, reason: step.reason }, "Connection dropped: bad handshake");
          c.close(CloseCode.normal, "Handshake failed");
          return;
        }
        c.session = step.session;
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
        pump(c);
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
    );
  };

  app.ws<{ connection: Connection }>("/ws", {
    compression: 0,
    maxPayloadLength: limits.maxFrameBytes * 4,
    idleTimeout: limits.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    maxBackpressure: limits.maxBackpressureBytes,
    closeOnBackpressureLimit: 0,
    upgrade: (res, req, context) => {
      const connection: Connection = {
        session: undefined as unknown as Connection["session"],
        closed: false,
        challenge: null,
        handshakeTimer: null,
        queue: [],
        inFlight: null,
        closedSignal: new AbortController(),
        ws: null,
        remote: Buffer.from(res.getRemoteAddressAsText()).toString(),
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
      const { frame, challenge } = engine.challenge();
      c.challenge = challenge;
      send(c, frame);
      c.handshakeTimer = setTimeout(() => c.close(CloseCode.policyViolation, "Handshake timeout"), limits.handshakeTimeoutSeconds * 1000);
    },
    message: (ws, message, isBinary) => {
      const c = ws.getUserData().connection;
      if (message.byteLength > limits.maxFrameBytes) {
        logger.info({ remote: c.remote, bytes: message.byteLength }, "Frame too large");
        c.close(CloseCode.messageTooBig, `Frame too large (${message.byteLength} bytes, limit ${limits.maxFrameBytes})`);
        return;
      }
      const frame = Buffer.from(message.slice(0));
      if (c.challenge) return onHandshake(c, frame, !isBinary);
      if (!c.session) {
        c.queue.push({ frame, text: !isBinary });
        return;
      }
      c.queue.push({ frame, text: !isBinary });
      c.inFlight?.abort();
      pump(c);
    },
    close: (ws, code) => {
      const c = ws.getUserData().connection;
      open.delete(c);
      c.closed = true;
      c.ws = null;
      if (c.handshakeTimer) clearTimeout(c.handshakeTimer);
      c.closedSignal.abort();
      c.queue.length = 0;
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
