import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { BlockStoreError, type BlockStore } from "../../../application/ports/index.js";
import type { BlockID, OrganizationID } from "../../../domain/ids.js";
import { blockObjectKey, displayUrl, MAX_OBJECT_BYTES } from "../object-key.js";

/** Where and how a {@link SwiftBlockStore} reaches its container (`swift:<authurl>:<tenant>:<container>:<user>:<password>`). */
export interface SwiftBlockStoreOptions {
  /** The Swift v1 authentication URL (e.g. `https://swift.example.com/auth/v1.0`). */
  readonly authUrl: string;
  /** The tenant (Swift account); the authentication user is `<tenant>:<user>`. */
  readonly tenant: string;
  readonly container: string;
  readonly user: string;
  readonly password: string;
  /** Milliseconds after which a request (authentication included) not answered fails (default 10 000). */
  readonly requestTimeoutMs?: number;
  /** Sockets kept open to each Swift host at most (default 64); further requests wait for one. */
  readonly maxSockets?: number;
}

/** Renew a token this long before the expiry the server announced (at most half its life), in milliseconds. */
const TOKEN_RENEWAL_MARGIN_MS = 60_000;

/** A Swift v1 session: where the account's objects are, and the token that opens them. */
interface SwiftSession {
  /** `<storage url>/<container>/`, URL-encoded, to which an object key is appended. */
  readonly containerUrl: string;
  readonly token: string;
  /** `Date.now()` after which the token is renewed before use, or Infinity when the server announced no expiry. */
  readonly renewAfter: number;
}

/** An HTTP answer: status, headers, and the body when asked for and successful. */
interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer | null;
}

/** One HTTP exchange with a deadline (`timeoutMs` from the call: queueing for a socket counts). */
const exchange = (
  url: URL,
  init: { method: string; headers: OutgoingHttpHeaders; body?: Buffer; readBody: boolean; timeoutMs: number; agents: { http: HttpAgent; https: HttpsAgent } },
): Promise<HttpAnswer> =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const https = url.protocol === "https:";
    if (!https && url.protocol !== "http:") {
      reject(new Error(`unsupported URL scheme ${url.protocol}`));
      return;
    }
    const request = (https ? httpsRequest : httpRequest)(url, {
      method: init.method,
      headers: init.headers,
      agent: https ? init.agents.https : init.agents.http,
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${init.timeoutMs} ms`)), init.timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    request.on("error", fail);
    request.on("response", (response) => {
      const status = response.statusCode ?? 0;
      response.on("error", fail);
      if (!init.readBody || status < 200 || status >= 300) {
        // Drained so that the socket goes back to the pool.
        response.resume();
        response.on("end", () => {
          clearTimeout(timer);
          resolve({ status, headers: response.headers, body: null });
        });
        return;
      }
      const announced = Number(response.headers["content-length"]);
      if (announced > MAX_OBJECT_BYTES) {
        request.destroy(new Error(`object of ${announced} bytes, larger than any block`));
        return;
      }
      // One buffer of the announced size, filled in place; otherwise the chunks are joined at the end.
      const whole = Number.isSafeInteger(announced) && announced >= 0 ? Buffer.allocUnsafe(announced) : null;
      const chunks: Buffer[] = [];
      let received = 0;
      response.on("data", (chunk: Buffer) => {
        if (whole) {
          if (received + chunk.length > whole.length) {
            request.destroy(new Error("object body longer than its Content-Length"));
            return;
          }
          chunk.copy(whole, received);
        } else {
          if (received + chunk.length > MAX_OBJECT_BYTES) {
            request.destroy(new Error("object body larger than any block"));
            return;
          }
          chunks.push(chunk);
        }
        received += chunk.length;
      });
      response.on("end", () => {
        clearTimeout(timer);
        if (whole && received !== whole.length) reject(new Error(`object body cut short (${received} of ${whole.length} bytes)`));
        else resolve({ status, headers: response.headers, body: whole ?? Buffer.concat(chunks, received) });
      });
    });
    request.end(init.body);
  });

/**
 * {@link BlockStore} on an OpenStack Swift container (`--blockstore swift:…`), spoken directly over HTTP (Node's own
 * client, kept-alive connections, a bounded number of sockets, a deadline per request, no retry: the client retries
 * the command). Objects are named as Parsec names them ({@link blockObjectKey}), so an existing Parsec container is
 * served as it is.
 *
 * Authentication is Swift v1 (`GET <authUrl>` with `X-Auth-User: <tenant>:<user>` and `X-Auth-Key: <password>`,
 * answered with `X-Storage-Url` and `X-Auth-Token`): done once and shared by concurrent requests, renewed before the
 * announced expiry, and renewed once more when a request is answered 401. A block is written with
 * `If-None-Match: *`, so the first write of a block id wins. Failures are {@link BlockStoreError}s naming the
 * container and the authentication URL, never the password or the token.
 */
export class SwiftBlockStore implements BlockStore {
  /** The container and the authentication URL, for messages. */
  readonly description: string;
  private readonly timeoutMs: number;
  private readonly agents: { http: HttpAgent; https: HttpsAgent };
  private readonly authUrl: URL | null;
  /** The current or pending session; null before the first request and after a refused token. */
  private session: Promise<SwiftSession> | null = null;

  constructor(private readonly options: SwiftBlockStoreOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    const agent = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.agents = { http: new HttpAgent(agent), https: new HttpsAgent(agent) };
    this.description = `Swift container ${options.container} at ${displayUrl(options.authUrl)}`;
    try {
      this.authUrl = new URL(options.authUrl);
    } catch {
      this.authUrl = null;
    }
  }

  /** A fresh session from the authentication service. @throws BlockStoreError */
  private async authenticate(): Promise<SwiftSession> {
    if (!this.authUrl) throw new BlockStoreError(`${this.description}: the authentication URL is not a valid URL`);
    let answer: HttpAnswer;
    try {
      answer = await exchange(this.authUrl, {
        method: "GET",
        headers: { "X-Auth-User": `${this.options.tenant}:${this.options.user}`, "X-Auth-Key": this.options.password },
        readBody: false,
        timeoutMs: this.timeoutMs,
        agents: this.agents,
      });
    } catch (err) {
      throw new BlockStoreError(`${this.description}: authentication failed: ${(err as Error).message}`, { cause: err });
    }
    if (answer.status === 401 || answer.status === 403)
      throw new BlockStoreError(`${this.description}: authentication refused (HTTP ${answer.status}; check the tenant, user and password)`);
    const storageUrl = answer.headers["x-storage-url"];
    const token = answer.headers["x-auth-token"] ?? answer.headers["x-storage-token"];
    if (answer.status < 200 || answer.status >= 300 || typeof storageUrl !== "string" || typeof token !== "string")
      throw new BlockStoreError(`${this.description}: authentication failed (HTTP ${answer.status}${answer.status < 300 ? ", no storage URL or token in the answer" : ""})`);
    let containerUrl: string;
    try {
      containerUrl = `${new URL(storageUrl).toString().replace(/\/$/, "")}/${encodeURIComponent(this.options.container)}/`;
    } catch {
      throw new BlockStoreError(`${this.description}: the authentication service answered an invalid storage URL`);
    }
    const expiresIn = Number(answer.headers["x-auth-token-expires"]);
    const lifeMs = expiresIn * 1000;
    const renewAfter = Number.isFinite(expiresIn) && expiresIn > 0 ? Date.now() + lifeMs - Math.min(TOKEN_RENEWAL_MARGIN_MS, lifeMs / 2) : Infinity;
    return { containerUrl, token, renewAfter };
  }

  /** The session to use: the shared one, or a new one when there is none or it is due for renewal. */
  private currentSession(): Promise<SwiftSession> {
    const pending = this.session;
    if (pending) {
      return pending.then((session) => (Date.now() < session.renewAfter ? session : this.renew(pending)));
    }
    return this.renew(null);
  }

  /** Replaces `stale` (if it is still the shared session) by a new authentication, shared by every caller. */
  private renew(stale: Promise<SwiftSession> | null): Promise<SwiftSession> {
    if (this.session !== stale && this.session !== null) return this.session;
    const next = this.authenticate();
    this.session = next;
    // A failed authentication is not kept: the next request tries again.
    next.catch(() => {
      if (this.session === next) this.session = null;
    });
    return next;
  }

  /** Drops the shared session if it still holds `token` (a later one, got by a concurrent request, is kept). */
  private async forget(token: string): Promise<void> {
    const shared = this.session;
    if (!shared) return;
    const session = await shared.catch(() => null);
    if (this.session === shared && session?.token === token) this.session = null;
  }

  /** A request on the container (`objectKey` empty for the container itself), renewing the token once on 401. */
  private async call(method: string, objectKey: string, init: { headers?: OutgoingHttpHeaders; body?: Buffer; readBody: boolean }): Promise<HttpAnswer> {
    for (let attempt = 0; ; attempt++) {
      const session = await this.currentSession();
      const url = new URL(session.containerUrl + objectKey.split("/").map(encodeURIComponent).join("/"));
      const answer = await exchange(url, {
        method,
        headers: { ...init.headers, "X-Auth-Token": session.token },
        ...(init.body !== undefined && { body: init.body }),
        readBody: init.readBody,
        timeoutMs: this.timeoutMs,
        agents: this.agents,
      }).catch((err: unknown) => {
        throw new BlockStoreError(`${this.description}: ${method} failed: ${(err as Error).message}`, { cause: err });
      });
      if (answer.status !== 401 || attempt > 0) return answer;
      // The token expired or was revoked: authenticate again (once) and retry.
      await this.forget(session.token);
    }
  }

  /**
   * For start-up: whether the credentials are accepted and the container exists (`HEAD` on the container).
   * @throws BlockStoreError saying what is wrong (authentication refused, no such container, unreachable).
   */
  async checkReady(): Promise<void> {
    const answer = await this.call("HEAD", "", { readBody: false });
    if (answer.status >= 200 && answer.status < 300) return;
    const reason =
      answer.status === 404 ? "no such container" : answer.status === 401 || answer.status === 403 ? `access denied (HTTP ${answer.status})` : `HTTP ${answer.status}`;
    throw new BlockStoreError(`${this.description}: ${reason}`);
  }

  async read(organizationId: OrganizationID, blockId: BlockID): Promise<Buffer | null> {
    const answer = await this.call("GET", blockObjectKey(organizationId, blockId), { readBody: true });
    if (answer.status === 404) return null;
    if (answer.status !== 200 || !answer.body) throw new BlockStoreError(`${this.description}: read failed: HTTP ${answer.status}`);
    return answer.body;
  }

  async create(organizationId: OrganizationID, blockId: BlockID, data: Buffer): Promise<void> {
    const answer = await this.call("PUT", blockObjectKey(organizationId, blockId), {
      headers: { "Content-Length": data.length, "Content-Type": "application/octet-stream", "If-None-Match": "*" },
      body: data,
      readBody: false,
    });
    // 412: the object exists already, and the first write of a block id wins (Swift answers 201, gateways may 200).
    if ((answer.status >= 200 && answer.status < 300) || answer.status === 412) return;
    const reason = answer.status === 404 ? "no such container" : `HTTP ${answer.status}`;
    throw new BlockStoreError(`${this.description}: write failed: ${reason}`);
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
