import type { Logger } from "pino";
import type { Application } from "../../../application/index.js";
import { SUPPORTED_API_VERSIONS, formatApiVersion, parseApiVersion, settleApiVersion } from "../../../domain/handshake/index.js";
import { OrganizationID } from "../../../domain/ids.js";
import { administrationRoutes } from "./administration.js";
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
  readonly limits: WebSocketLimits & {
    /** Largest HTTP body accepted, in bytes (Parsec: 1 MiB). */
    readonly maxHttpBodyBytes: number;
  };
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

/** Default limits, sized for Parsec traffic (512 KiB blocks, long-lived sessions). */
export const DEFAULT_LIMITS: UwsServerOptions["limits"] = {
  maxFrameBytes: 1024 * 1024 + 64 * 1024,
  maxHttpBodyBytes: 1024 * 1024 + 64 * 1024,
  idleTimeoutSeconds: 120,
  handshakeTimeoutSeconds: 30,
  maxBackpressureBytes: 16 * 1024 * 1024,
};

const CONTENT_TYPE_MSGPACK = "application/msgpack";
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
    const contentType = req.headers.get("content-type");
    if (contentType !== undefined && contentType !== CONTENT_TYPE_MSGPACK && contentType !== "application/x-www-form-urlencoded")
      return { status: 415, headers: versionHeader };
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
    const anon = /^\/anonymous\/([^/]+)$/.exec(req.url);
    if (anon) return req.method === "POST" || req.method === "GET" ? anonymous(req, anon[1]!) : { status: 405, headers: { allow: "GET, POST" } };
    if (req.url === "/" && req.method === "GET") return { status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: LANDING_PAGE };
    return json(404, { error: "not_found" });
  };

  app.any("/*", serveHttp(options.limits.maxHttpBodyBytes, route, (err, req) => logger.error({ err, method: req.method, url: req.url }, "HTTP handler failed")));
  const webSockets = mountWebSocket(app, engine, registry, options.limits, logger);

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
