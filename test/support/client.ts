import WebSocket, { type ClientOptions, type RawData } from "ws";
import {
  HandshakeChallengeC,
  HandshakeResultC,
  commandTables,
  decodeReply,
  encodeSignedAnswer,
  unpackWire,
  type CommandName,
  type DecodeReplyResult,
  type HandshakeChallenge,
  type RequestOf,
} from "../../src/adapters/protocol/index.js";
import { pack, WireUuid } from "../../src/domain/serialization/msgpack.js";
import { ed25519Sign } from "./certificates.js";

/**
 * A small Parsec (API v2/v3 wire) client for end-to-end tests and benchmarks, independent of any test runner:
 * the real WebSocket handshake (`AUTHENTICATED` or `INVITED`), then request/reply over the socket; HTTP
 * `POST /anonymous/<org>`; and the administration API.
 *
 * Replies are delivered in order: several requests may be in flight on one session (pipelining), each
 * resolves with the next reply frame. Every pending request rejects with {@link ConnectionClosedError}
 * when the socket closes.
 */

/** A decoded msgpack map with string keys (a request or reply as it travels). */
export type WireMap = Record<string, unknown>;

/** An API version as a `[major, revision]` pair. */
export type ApiVersionPair = readonly [number, number];

/** How the WebSocket ended. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** A frame received from the server: binary as a Buffer, text as a string. */
export type Frame = Buffer | string;

/** Raised for pending and later requests once the socket is closed. */
export class ConnectionClosedError extends Error {
  override readonly name = "ConnectionClosedError";
  constructor(readonly close: CloseInfo) {
    super(`WebSocket closed (${close.code}${close.reason ? `: ${close.reason}` : ""})`);
  }
}

/** Raised when the server sends something this client cannot read where a protocol message is expected. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

const isWireMapValue = (value: unknown): value is WireMap =>
  typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;

const toBuffer = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);

/**
 * A WebSocket seen as an ordered stream of frames: `next()` resolves with the next frame received, in order.
 * Frames that arrive before anyone waits are queued.
 */
export class FrameChannel {
  private readonly frames: Frame[] = [];
  private readonly waiters: { resolve(frame: Frame): void; reject(err: Error): void }[] = [];
  private closeInfo: CloseInfo | null = null;
  /** Resolves when the socket is closed (by either side, or by a network error: code 1006). */
  readonly closed: Promise<CloseInfo>;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const frame: Frame = isBinary ? toBuffer(data) : toBuffer(data).toString("utf8");
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(frame);
      else this.frames.push(frame);
    });
    // Errors (reset connection, oversized frame…) are always followed by "close", which settles everything.
    ws.on("error", () => undefined);
    this.closed = new Promise((resolve) => {
      ws.once("close", (code, reason) => {
        const info = { code, reason: reason.toString("utf8") };
        this.closeInfo = info;
        const error = new ConnectionClosedError(info);
        for (const waiter of this.waiters.splice(0)) waiter.reject(error);
        resolve(info);
      });
    });
  }

  /** True once the socket is closed. */
  get isClosed(): boolean {
    return this.closeInfo !== null;
  }

  /** The next frame; rejects with {@link ConnectionClosedError} if the socket closes first, or after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closeInfo) return Promise.reject(new ConnectionClosedError(this.closeInfo));
    return new Promise<Frame>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.waiters.push(waiter);
      if (timeoutMs === undefined) return;
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error(`No frame received within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter.resolve = (frame) => (clearTimeout(timer), resolve(frame));
      waiter.reject = (err) => (clearTimeout(timer), reject(err));
    });
  }

  /** Sends a binary frame (bytes) or a text frame (string). Throws {@link ConnectionClosedError} when closed. */
  send(frame: Uint8Array | string): void {
    if (this.closeInfo || this.ws.readyState !== WebSocket.OPEN) throw new ConnectionClosedError(this.closeInfo ?? { code: 1006, reason: "not open" });
    this.ws.send(frame, { binary: typeof frame !== "string" });
  }

  /** Closes the socket (normal closure by default) and resolves once closed. */
  close(code = 1000, reason = ""): Promise<CloseInfo> {
    if (!this.closeInfo) {
      if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
      else this.ws.close(code, reason);
    }
    return this.closed;
  }
}

/** Options of every WebSocket connection. */
export interface ConnectOptions {
  /** `ws://host:port/ws` or `wss://…`. */
  readonly url: string;
  /** Extra options of the `ws` client (e.g. `{ rejectUnauthorized: false }` for a self-signed certificate). */
  readonly wsOptions?: ClientOptions;
  /** Bound on connecting and on each handshake message, in milliseconds (default 10 000). */
  readonly timeoutMs?: number;
}

/** A connection that has received the server's challenge and not yet answered it. */
export interface ChallengedConnection {
  readonly channel: FrameChannel;
  /** The challenge message, decoded. */
  readonly challenge: HandshakeChallenge;
  /** The challenge message as received. */
  readonly challengeFrame: Buffer;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Opens a WebSocket to `url` and waits for it to be open. */
export const openChannel = (options: ConnectOptions): Promise<FrameChannel> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(options.url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, ...options.wsOptions });
    const channel = new FrameChannel(ws);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`Cannot connect to ${options.url} within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`));
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    ws.once("open", () => (clearTimeout(timer), resolve(channel)));
    ws.once("error", (err) => (clearTimeout(timer), reject(err)));
  });

/** Opens a WebSocket and reads the server's challenge (checking that it decodes). */
export const connectChallenged = async (options: ConnectOptions): Promise<ChallengedConnection> => {
  const channel = await openChannel(options);
  try {
    const frame = await channel.next(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (typeof frame === "string") throw new ProtocolError("Handshake challenge received as a text frame");
    const decoded = HandshakeChallengeC.decode(unpackWire(frame));
    if (decoded._tag === "Left") throw new ProtocolError("Handshake challenge does not decode");
    return { channel, challenge: decoded.right, challengeFrame: frame };
  } catch (err) {
    await channel.close();
    throw err;
  }
};

/** The result of a refused handshake: the server's `result` and `help`, and the socket's close (the server closes it). */
export interface HandshakeRefused {
  readonly ok: false;
  readonly result: string;
  readonly help: string;
  readonly closed: Promise<CloseInfo>;
}

/** An accepted handshake. */
export interface HandshakeAccepted<F extends "authenticated" | "invited"> {
  readonly ok: true;
  readonly session: ParsecSession<F>;
}

/** What a handshake attempt gives. */
export type HandshakeOutcome<F extends "authenticated" | "invited"> = HandshakeAccepted<F> | HandshakeRefused;

/** Sends the handshake answer `answer` (packed, or raw bytes / text for negative tests) and reads the result. */
export const finishHandshake = async <F extends "authenticated" | "invited">(
  family: F,
  connection: ChallengedConnection,
  answer: Uint8Array | string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<HandshakeOutcome<F>> => {
  const { channel } = connection;
  try {
    channel.send(answer);
    const frame = await channel.next(timeoutMs);
    if (typeof frame === "string") throw new ProtocolError("Handshake result received as a text frame");
    const decoded = HandshakeResultC.decode(unpackWire(frame));
    if (decoded._tag === "Left") throw new ProtocolError("Handshake result does not decode");
    const result = decoded.right;
    if (result.result === "ok") return { ok: true, session: new ParsecSession(family, channel, connection.challenge) };
    return { ok: false, result: result.result, help: result.help, closed: channel.closed };
  } catch (err) {
    await channel.close();
    throw err;
  }
};

/** Options of {@link connectAuthenticated}. */
export interface AuthenticatedConnectOptions extends ConnectOptions {
  readonly organizationId: string;
  /** `user@device`. */
  readonly deviceId: string;
  /** The device's 32-byte Ed25519 seed, used to sign the answer. */
  readonly signingKey: Uint8Array;
  /** The 32-byte root verify key the client trusts (`rvk`). */
  readonly rootVerifyKey: Uint8Array;
  /** `client_api_version`, default `[3, 4]` (the v2.16.3 desktop client). */
  readonly apiVersion?: ApiVersionPair;
  /**
   * What is signed: `"signed_answer"` (the packed `{type: "signed_answer", answer: challenge}`, clients ≥ 2.5 and 3.x)
   * or `"raw"` (the challenge itself, clients 2.0 to 2.4). Default: the form of `apiVersion`.
   */
  readonly answerForm?: "signed_answer" | "raw";
}

/** The default answer form of a client version: raw challenge for 2.0–2.4, signed answer otherwise. */
export const answerFormOf = (apiVersion: ApiVersionPair): "signed_answer" | "raw" =>
  apiVersion[0] === 2 && apiVersion[1] < 5 ? "raw" : "signed_answer";

/** The packed `AUTHENTICATED` handshake answer to `challenge`. */
export const authenticatedAnswer = (options: Omit<AuthenticatedConnectOptions, "url" | "wsOptions" | "timeoutMs">, challenge: Uint8Array): Buffer => {
  const apiVersion = options.apiVersion ?? [3, 4];
  const payload = (options.answerForm ?? answerFormOf(apiVersion)) === "raw" ? Buffer.from(challenge) : encodeSignedAnswer(challenge);
  return pack({
    handshake: "answer",
    type: "AUTHENTICATED",
    client_api_version: [apiVersion[0], apiVersion[1]],
    organization_id: options.organizationId,
    device_id: options.deviceId,
    rvk: Buffer.from(options.rootVerifyKey),
    answer: Buffer.concat([ed25519Sign(options.signingKey, payload), payload]),
  });
};

/** Connects as an authenticated device: challenge, signed answer, result. */
export const connectAuthenticated = async (options: AuthenticatedConnectOptions): Promise<HandshakeOutcome<"authenticated">> => {
  const connection = await connectChallenged(options);
  return finishHandshake("authenticated", connection, authenticatedAnswer(options, connection.challenge.challenge), options.timeoutMs);
};

/** Options of {@link connectInvited}. */
export interface InvitedConnectOptions extends ConnectOptions {
  readonly organizationId: string;
  readonly invitationType: "USER" | "DEVICE" | "SHAMIR_RECOVERY";
  /** The invitation token: 32 hex digits. */
  readonly token: string;
  /** `client_api_version`, default `[3, 4]`. */
  readonly apiVersion?: ApiVersionPair;
}

/** The packed `INVITED` handshake answer. */
export const invitedAnswer = (options: Omit<InvitedConnectOptions, "url" | "wsOptions" | "timeoutMs">): Buffer => {
  const apiVersion = options.apiVersion ?? [3, 4];
  return pack({
    handshake: "answer",
    type: "INVITED",
    client_api_version: [apiVersion[0], apiVersion[1]],
    organization_id: options.organizationId,
    invitation_type: options.invitationType,
    token: new WireUuid(options.token.replace(/-/g, "").toLowerCase()),
  });
};

/** Connects as an invited peer (claimer). */
export const connectInvited = async (options: InvitedConnectOptions): Promise<HandshakeOutcome<"invited">> => {
  const connection = await connectChallenged(options);
  return finishHandshake("invited", connection, invitedAnswer(options), options.timeoutMs);
};

/** The session of an accepted outcome; throws with the server's `result` and `help` otherwise. */
export const expectSession = <F extends "authenticated" | "invited">(outcome: HandshakeOutcome<F>): ParsecSession<F> => {
  if (outcome.ok) return outcome.session;
  throw new Error(`Handshake refused: ${outcome.result} (${outcome.help})`);
};

/** An established session: strict request/reply over the WebSocket (pipelining allowed, replies come in order). */
export class ParsecSession<F extends "authenticated" | "invited"> {
  constructor(
    readonly family: F,
    readonly channel: FrameChannel,
    /** The challenge the session was opened with (server versions, ballpark, backend timestamp). */
    readonly challenge: HandshakeChallenge,
  ) {}

  /** Resolves when the socket closes. */
  get closed(): Promise<CloseInfo> {
    return this.channel.closed;
  }

  /** Sends any frame (bytes as binary, a string as text) and resolves with the next frame, as received. */
  exchange(frame: Uint8Array | string): Promise<Frame> {
    try {
      this.channel.send(frame);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.channel.next();
  }

  /** Sends any frame and decodes the reply as a msgpack map. */
  async sendRaw(frame: Uint8Array | string): Promise<WireMap> {
    const reply = await this.exchange(frame);
    if (typeof reply === "string") throw new ProtocolError("Reply received as a text frame");
    const decoded = unpackWire(reply);
    if (!isWireMapValue(decoded)) throw new ProtocolError("Reply is not a msgpack map");
    return decoded;
  }

  /** Sends `{cmd, ...fields}` with raw wire values (Buffers, DateTime, WireUuid…) and decodes the reply map. */
  send(cmd: unknown, fields: WireMap = {}): Promise<WireMap> {
    return this.sendRaw(pack({ cmd, ...fields }));
  }

  /**
   * Sends command `cmd` encoded by its io-ts codec (domain values in, e.g. `{ping: "x"}`) and decodes the reply
   * with the command's reply codec.
   */
  async call<N extends CommandName<F>>(cmd: N, fields: Omit<RequestOf<F, N>, "cmd">): Promise<DecodeReplyResult<F, N>> {
    const codecs = (commandTables[this.family] as unknown as Record<string, { req: { encode(a: unknown): unknown } }>)[cmd];
    if (!codecs) throw new Error(`Unknown command ${cmd}`);
    const reply = await this.exchange(pack(codecs.req.encode({ ...fields, cmd })));
    if (typeof reply === "string") throw new ProtocolError("Reply received as a text frame");
    return decodeReply(this.family, cmd, reply);
  }

  /** `ping` → the `pong` string (needs a server in debug mode). */
  async ping(text = "ping"): Promise<string> {
    const reply = await this.send("ping", { ping: text });
    if (reply["status"] !== "ok" || typeof reply["pong"] !== "string") throw new ProtocolError(`Unexpected ping reply: ${JSON.stringify(reply)}`);
    return reply["pong"];
  }

  /** Closes the socket and resolves once closed. */
  close(code = 1000, reason = ""): Promise<CloseInfo> {
    return this.channel.close(code, reason);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// HTTP

/** An HTTP exchange with a Parsec server. */
export interface HttpReply<T> {
  readonly httpStatus: number;
  readonly headers: Headers;
  readonly reply: T;
  /** The body as received. */
  readonly raw: Buffer;
}

/** Options of {@link anonymousRequest}. */
export interface AnonymousRequestOptions {
  readonly method?: "POST" | "GET";
  /** The raw body (default: none). */
  readonly body?: Uint8Array | string;
  /** Request headers; `content-type: application/msgpack` unless overridden (set it to `null` to send none). */
  readonly headers?: Readonly<Record<string, string | null>>;
}

const MSGPACK = "application/msgpack";

/**
 * A raw request to `/anonymous/<organizationId>`; the reply body is decoded as a msgpack map when the server sent
 * msgpack, `null` when it sent an empty body.
 */
export const anonymousRequest = async (baseUrl: string, organizationId: string, options: AnonymousRequestOptions = {}): Promise<HttpReply<WireMap | null>> => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ "content-type": MSGPACK, ...options.headers })) if (value !== null) headers[name] = value;
  const response = await fetch(`${baseUrl}/anonymous/${encodeURIComponent(organizationId)}`, {
    method: options.method ?? "POST",
    headers,
    ...(options.body !== undefined && { body: options.body }),
  });
  const body = Buffer.from(await response.arrayBuffer());
  let reply: WireMap | null = null;
  if (body.length > 0) {
    if (!response.headers.get("content-type")?.startsWith(MSGPACK)) throw new ProtocolError(`Unexpected ${response.status} body: ${body.toString("utf8").slice(0, 200)}`);
    const decoded = unpackWire(body);
    if (!isWireMapValue(decoded)) throw new ProtocolError("Anonymous reply is not a msgpack map");
    reply = decoded;
  }
  return { httpStatus: response.status, headers: response.headers, reply, raw: body };
};

/** `POST /anonymous/<organizationId>` with the msgpack request `{cmd, ...fields}` (raw wire values). */
export const anonymous = (
  baseUrl: string,
  organizationId: string,
  cmd: string,
  fields: WireMap = {},
  headers: Readonly<Record<string, string | null>> = {},
): Promise<HttpReply<WireMap | null>> => anonymousRequest(baseUrl, organizationId, { body: pack({ cmd, ...fields }), headers });

/** A reply of the administration API: the HTTP status, headers, and the body (parsed JSON, or text when not JSON). */
export interface AdminReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly text: string;
}

/** The administration API of a server (`Authorization: Bearer <token>`; `token: null` sends no header). */
export const admin = (baseUrl: string, token: string | null) => {
  const request = async (method: string, path: string, body?: unknown, headers: Readonly<Record<string, string>> = {}): Promise<AdminReply> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token !== null && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { "content-type": "application/json" }),
        ...headers,
      },
      ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if (response.headers.get("content-type")?.startsWith("application/json")) parsed = JSON.parse(text) as unknown;
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
  const organization = (id: string) => `/administration/organizations/${encodeURIComponent(id)}`;
  return {
    /** Any request; a string `body` is sent as is (e.g. invalid JSON), anything else as JSON. */
    request,
    /** `POST /administration/organizations`. */
    createOrganization: (body: unknown) => request("POST", "/administration/organizations", body),
    /** `GET /administration/organizations/<id>`. */
    getOrganization: (id: string) => request("GET", organization(id)),
    /** `PATCH /administration/organizations/<id>`. */
    patchOrganization: (id: string, body: unknown) => request("PATCH", organization(id), body),
    /** `GET /administration/organizations/<id>/stats`. */
    organizationStats: (id: string) => request("GET", `${organization(id)}/stats`),
    /** `GET /administration/stats?…`. */
    serverStats: (query: Readonly<Record<string, string>> = {}) => {
      const search = new URLSearchParams(query).toString();
      return request("GET", `/administration/stats${search ? `?${search}` : ""}`);
    },
    /** Creates `organizationId` and returns its bootstrap token; throws on any other reply. */
    async bootstrapToken(organizationId: string, extra: Readonly<Record<string, unknown>> = {}): Promise<string> {
      const reply = await request("POST", "/administration/organizations", { organization_id: organizationId, ...extra });
      const token = (reply.body as { bootstrap_token?: unknown } | null)?.bootstrap_token;
      if (reply.status !== 200 || typeof token !== "string") throw new Error(`Cannot create ${organizationId}: ${reply.status} ${reply.text}`);
      return token;
    },
  };
};

/** The administration client of {@link admin}. */
export type AdminClient = ReturnType<typeof admin>;
