import { isStorageUnavailable } from "../../../application/ports/index.js";
import { timingSafeEqual, createHash } from "node:crypto";
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import type { IncomingBudget } from "./budget.js";

/** A fully read HTTP request: uWS request objects are only valid synchronously, so handlers receive this copy. */
export interface ReadRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly url: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

/** An HTTP reply, written in one corked batch. */
export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  410: "Gone",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  460: "Organization Expired",
  461: "User Revoked",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** A JSON reply. */
export const json = (status: number, value: unknown): Reply => ({
  status,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(value),
});

/** Writes `reply` unless the client went away. */
export const send = (res: HttpResponse, state: { aborted: boolean }, reply: Reply): void => {
  if (state.aborted) return;
  res.cork(() => {
    res.writeStatus(`${reply.status} ${STATUS_TEXT[reply.status] ?? "Unknown"}`);
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.writeHeader(name, value);
    res.end(reply.body ?? "");
  });
};

/** Limits of {@link serveHttp}. */
export interface HttpLimits {
  /** Largest body accepted for the request path `url`, in bytes; over it, 413. */
  readonly maxBodyBytes: (url: string) => number;
  /** Server-wide budget the bodies being read are taken from; when exhausted, 503. */
  readonly budget: IncomingBudget;
}

/**
 * uWebSockets.js's cork buffer, in bytes. A reply written from a request handler is corked and only flushed once the
 * handler returns; when uWebSockets.js's native parser then refuses the request it closes the socket at once and the
 * corked reply is lost. A write larger than this buffer bypasses it and reaches the socket before that close.
 */
const UWS_CORK_BUFFER_BYTES = 16 * 1024;

/**
 * `Content-Length` values uWebSockets.js v20.30's native parser accepts: 1 to 9 decimal digits (measured against this
 * build). For any other value it calls the handler, then drops the TCP connection without an answer.
 */
const NATIVE_CONTENT_LENGTH = /^\d{1,9}$/;

/**
 * Answers `reply` and closes the connection from within the request handler, for a request that uWebSockets.js's
 * native parser drops as soon as the handler returns: the JSON body is padded with spaces past
 * {@link UWS_CORK_BUFFER_BYTES} so that the reply is written to the socket before the parser closes it.
 */
const answerBeforeNativeDrop = (res: HttpResponse, status: number, value: unknown): void => {
  const body = JSON.stringify(value);
  res.writeStatus(`${status} ${STATUS_TEXT[status] ?? "Unknown"}`);
  res.writeHeader("content-type", "application/json");
  res.end(body.padEnd(UWS_CORK_BUFFER_BYTES + 1024, " "), true);
};

/**
 * Reads the whole request (headers synchronously, then the body), and hands it to `handle`. Refusals, each with a
 * JSON body and the connection closed: 400 `bad_content_length` for a `Content-Length` that is not a decimal number;
 * 413 `payload_too_large` for a body over `maxBodyBytes(url)` (declared or sent), without buffering it; 503
 * `server_busy` when the server-wide budget is exhausted. A handler crash gets 500 (503 when the storage is
 * unavailable) and is reported.
 */
export const serveHttp =
  (limits: HttpLimits, handle: (req: ReadRequest) => Promise<Reply>, onError: (err: unknown, req: ReadRequest) => void) =>
  (res: HttpResponse, req: HttpRequest): void => {
    const state = { aborted: false };
    let taken = 0;
    const releaseBody = (): void => {
      limits.budget.release(taken);
      taken = 0;
    };
    res.onAborted(() => {
      state.aborted = true;
      releaseBody();
    });
    const headers = new Map<string, string>();
    req.forEach((name, value) => headers.set(name, value));
    const read: Omit<ReadRequest, "body"> = {
      method: req.getCaseSensitiveMethod().toUpperCase(),
      url: req.getUrl(),
      query: new URLSearchParams(req.getQuery() ?? ""),
      headers,
    };
    const maxBodyBytes = limits.maxBodyBytes(read.url);
    const declaredHeader = headers.get("content-length");
    if (declaredHeader !== undefined && !/^\d+$/.test(declaredHeader)) {
      answerBeforeNativeDrop(res, 400, { error: "bad_content_length", reason: "Content-Length must be a decimal number of bytes" });
      return;
    }
    if (declaredHeader !== undefined && Number(declaredHeader) > maxBodyBytes) {
      const value = { error: "payload_too_large", reason: `Body over the limit of ${maxBodyBytes} bytes` };
      if (!NATIVE_CONTENT_LENGTH.test(declaredHeader)) answerBeforeNativeDrop(res, 413, value);
      else sendAndClose(res, state, json(413, value));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    res.onData((chunk, isLast) => {
      if (state.aborted) return;
      received += chunk.byteLength;
      if (received > maxBodyBytes) {
        releaseBody();
        sendAndClose(res, state, json(413, { error: "payload_too_large", reason: `Body over the limit of ${maxBodyBytes} bytes` }));
        return;
      }
      if (!limits.budget.tryTake(chunk.byteLength)) {
        releaseBody();
        sendAndClose(res, state, json(503, { error: "server_busy", reason: "Too much incoming data buffered, retry later" }));
        return;
      }
      taken += chunk.byteLength;
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      const full: ReadRequest = { ...read, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
      chunks.length = 0;
      handle(full)
        .then(
          (reply) => send(res, state, reply),
          (err: unknown) => {
            onError(err, full);
            send(res, state, isStorageUnavailable(err) ? json(503, { error: "storage_unavailable" }) : json(500, { error: "internal_error" }));
          },
        )
        .finally(releaseBody);
    });
  };

/** Writes `reply`, closes the connection, and ignores whatever the client still sends. */
const sendAndClose = (res: HttpResponse, state: { aborted: boolean }, reply: Reply): void => {
  if (state.aborted) return;
  state.aborted = true;
  res.cork(() => {
    res.writeStatus(`${reply.status} ${STATUS_TEXT[reply.status] ?? "Unknown"}`);
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.writeHeader(name, value);
    res.end(reply.body ?? "", true);
  });
};

/** Compares two secrets in constant time (the lengths are hidden by hashing first). */
export const secretsEqual = (given: string, expected: string): boolean =>
  timingSafeEqual(createHash("sha256").update(given).digest(), createHash("sha256").update(expected).digest());

/** `decodeURIComponent` that answers null instead of throwing on a malformed escape. */
export const decodePathSegment = (raw: string): string | null => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
};
