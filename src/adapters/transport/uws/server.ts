import type { Logger } from "pino";
import type { Application } from "../../../application/index.js";
import { SUPPORTED_API_VERSIONS, formatApiVersion, parseApiVersion, settleApiVersion } from "../../../domain/handshake/index.js";
import { OrganizationID } from "../../../domain/ids.js";
import { administrationRoutes } from "./administration.js";
import { IncomingBudget } from "./budget.js";
import { CloseCode, ConnectionRegistry } from "./connections.js";
import type { WireEngine } from "../../protocol/engine-types.js";
import { decodePathSegment, json, serveHttp, type ReadRequest, type Reply } from "./http.js";
import { LANDING_PAGE } from "./landing.js";
import { loadNativeUws } from "./native.js";
import { mountWebSocket, type WebSocketLimits } from "./websocket.js";

/** Settings of the uWebSockets.js transport. */
export interface UwsServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tls: { readonly keyFile: string; readonly certFile: string } | null;
  readonly administrationToken: string;
  readonly limits: TransportLimits;
}

/**
 * Every limit of the transport: the `/ws` ones ({@link WebSocketLimits}) and those of HTTP and of the whole server.
 * The worst case they allow is worked out in the README ("Limits and memory budget").
 */
export interface TransportLimits extends WebSocketLimits {
  /** Largest HTTP body accepted, in bytes (Parsec: 1 MiB); over it, 413 with a JSON message. */
  readonly maxHttpBodyBytes: number;
  /**
   * Largest body of `POST /anonymous/<organization_id>`, in bytes; over it, 413 with a JSON message. The largest
   * legitimate anonymous requests (`organization_bootstrap` with its four certificates, `pki_enrollment_submit` with
   * an X.509 certificate) are a few KiB.
   */
  readonly maxAnonymousBodyBytes: number;
  /**
   * Incoming bytes held by JavaScript at once over every connection, in bytes: WebSocket frames waiting or being
   * served, handshake answers being checked, HTTP bodies being read. A WebSocket frame that would exceed it closes its
   * connection with 1013 (try again later); an HTTP body, 503 with a JSON message.
   */
  readonly maxBufferedIncomingBytes: number;
}

/** The server could not bind its address (in use, or not an address of this machine). */
export class ListenError extends Error {
  override readonly name = "ListenError";
}

/** A listening server. */
export interface RunningServer {
  /** The port actually bound. */
  readonly port: number;
  /** Stops accepting, closes every session with 1001 (going away), resolves when done. */
  stop(): Promise<void>;
}

/**
 * Default limits, sized for Parsec traffic (512 KiB blocks, long-lived sessions) and so that unauthenticated clients
 * hold at most about 136 MiB natively (128 handshaking connections × 1.0625 MiB) plus the 256 MiB JavaScript budget.
 */
export const DEFAULT_LIMITS: TransportLimits = {
  maxFrameBytes: 1024 * 1024 + 64 * 1024,
  maxHandshakeFrameBytes: 8 * 1024,
  maxHttpBodyBytes: 1024 * 1024 + 64 * 1024,
  maxAnonymousBodyBytes: 64 * 1024,
  idleTimeoutSeconds: 120,
  handshakeTimeoutSeconds: 10,
  maxBackpressureBytes: 16 * 1024 * 1024,
  maxHandshakingConnections: 128,
  maxHandshakingConnectionsPerAddress: 64,
  maxQueuedFrames: 64,
  maxQueuedBytes: 4 * 1024 * 1024,
  maxBufferedIncomingBytes: 256 * 1024 * 1024,
};

const CONTENT_TYPE_MSGPACK = "application/msgpack";
/** What Python's `urllib` sends when none is given; Parsec v2.16.3 reads it as msgpack (clients up to 2.11 sent it). */
const CONTENT_TYPE_URLLIB_DEFAULT = "application/x-www-form-urlencoded";
const ANONYMOUS_ROUTE = /^\/anonymous\/([^/]+)$/;

/**
 * The `Content-Type` rule of `/anonymous/<organization_id>` (both methods): the media type, compared without case and
 * with its parameters ignored, must be `application/msgpack` (or the legacy urllib default). A missing header is
 * refused, as Parsec v2.16.3 does; unlike Parsec, parameters such as `; charset=utf-8` are tolerated.
 */
const isMsgpackContentType = (value: string | undefined): boolean => {
  if (value === undefined) return false;
  const mediaType = value.split(";", 1)[0]!.trim().toLowerCase();
  return mediaType === CONTENT_TYPE_MSGPACK || mediaType === CONTENT_TYPE_URLLIB_DEFAULT;
};
/** uSockets' `LIBUS_LISTEN_EXCLUSIVE_PORT`: no SO_REUSEPORT, so a second server on the same port fails instead of sharing it. */
const LISTEN_EXCLUSIVE_PORT = 1;

/**
 * Starts one uWebSockets.js app (TLS when configured) serving `GET /ws`, `POST|GET /anonymous/<org>`,
 * the administration API, `GET /` and 404 elsewhere.
 * @throws Error when the native uWebSockets.js binary is missing or the address cannot be bound.
 */
export const startUwsServer = async (
  options: UwsServerOptions,
  application: Application,
  engine: WireEngine,
  logger: Logger,
): Promise<RunningServer> => {
  const uws = loadNativeUws();
  const app = options.tls ? uws.SSLApp({ key_file_name: options.tls.keyFile, cert_file_name: options.tls.certFile }) : uws.App();
  const registry = new ConnectionRegistry(application.events, application.checkSessionValidity, (err, context) =>
    logger.error({ err, ...context }, "Session re-check failed"),
  );
  const administration = administrationRoutes(application, options.administrationToken);

  const anonymous = async (req: ReadRequest, rawId: string): Promise<Reply> => {
    const apiVersion = settleApiVersion(parseApiVersion(req.headers.get("api-version") ?? "3.0") ?? { major: -1, revision: 0 });
    if (!apiVersion) return { status: 422, headers: { "supported-api-versions": SUPPORTED_API_VERSIONS.map(formatApiVersion).join(";") } };
    const versionHeader = { "api-version": formatApiVersion(apiVersion) };
    const id = OrganizationID.parse(decodePathSegment(rawId));
    if (!id.ok) return { status: 404, headers: versionHeader };
    const method = req.method === "GET" ? "GET" : "POST";
    const precheck = await engine.anonymousPrecheck(id.value, method);
    if (precheck !== null) return { status: precheck, headers: versionHeader };
    if (!isMsgpackContentType(req.headers.get("content-type"))) return { status: 415, headers: versionHeader };
    const replyHeaders = { ...versionHeader, "content-type": CONTENT_TYPE_MSGPACK };
    if (method === "GET") return { status: 200, headers: replyHeaders, body: Buffer.from([0x80]) };
    const step = await engine.anonymous(id.value, req.body);
    if (!step.ok) return { status: step.httpStatus, headers: versionHeader };
    logger.debug({ organization_id: id.value, cmd: step.cmd, status: step.status }, "Anonymous request");
    return { status: 200, headers: replyHeaders, body: step.frame };
  };

  const route = async (req: ReadRequest): Promise<Reply> => {
    const admin = await administration(req);
    if (admin) return admin;
    const anon = ANONYMOUS_ROUTE.exec(req.url);
    if (anon) return req.method === "POST" || req.method === "GET" ? anonymous(req, anon[1]!) : { status: 405, headers: { allow: "GET, POST" } };
    if (req.url === "/" && req.method === "GET") return { status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: LANDING_PAGE };
    return json(404, { error: "not_found" });
  };

  const limits = options.limits;
  const budget = new IncomingBudget(limits.maxBufferedIncomingBytes);
  app.any(
    "/*",
    serveHttp(
      { maxBodyBytes: (url) => (ANONYMOUS_ROUTE.test(url) ? limits.maxAnonymousBodyBytes : limits.maxHttpBodyBytes), budget },
      route,
      (err, req) => logger.error({ err, method: req.method, url: req.url }, "HTTP handler failed"),
    ),
  );
  const webSockets = mountWebSocket(app, engine, registry, limits, budget, logger);

  const listenSocket = await new Promise<unknown>((resolve, reject) => {
    const onListen = (socket: unknown) =>
      socket ? resolve(socket) : reject(new ListenError(`Cannot listen on ${options.host}:${options.port}: the address is in use or not available on this machine`));
    (app.listen as unknown as (host: string, port: number, options: number, cb: (socket: unknown) => void) => void)(
      options.host,
      options.port,
      LISTEN_EXCLUSIVE_PORT,
      onListen,
    );
  });
  const port = uws.us_socket_local_port(listenSocket as never);

  let stopped: Promise<void> | null = null;
  return {
    port,
    stop() {
      stopped ??= (async () => {
        uws.us_listen_socket_close(listenSocket as never);
        registry.clear();
        webSockets.closeAll(CloseCode.goingAway, "Server shutting down");
        // Let the close handlers run (claimer presence, event subscriptions), then end what still runs.
        await new Promise((resolve) => setImmediate(resolve));
        await engine.shutdown();
      })();
      return stopped;
    },
  };
};
