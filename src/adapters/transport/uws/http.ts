import { isStorageUnavailable } from "../../../application/ports/index.js";
import { timingSafeEqual, createHash } from "node:crypto";
import type { HttpRequest, HttpResponse } from "uWebSockets.js";

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

/**
 * Reads the whole request (headers synchronously, then the body), and hands it to `handle`.
 * Bodies larger than `maxBodyBytes` get 413 without being buffered; a handler crash gets 500 (503 when the storage is
 * unavailable) and is reported.
 */
export const serveHttp =
  (maxBodyBytes: number, handle: (req: ReadRequest) => Promise<Reply>, onError: (err: unknown, req: ReadRequest) => void) =>
  (res: HttpResponse, req: HttpRequest): void => {
    const state = { aborted: false };
    res.onAborted(() => (state.aborted = true));
    const headers = new Map<string, string>();
    req.forEach((name, value) => headers.set(name, value));
    const read: Omit<ReadRequest, "body"> = {
      method: req.getCaseSensitiveMethod().toUpperCase(),
      url: req.getUrl(),
      query: new URLSearchParams(req.getQuery() ?? ""),
      headers,
    };
    const declared = Number(headers.get("content-length") ?? "0");
    if (declared > maxBodyBytes) {
      send(res, state, json(413, { error: "payload_too_large" }));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    res.onData((chunk, isLast) => {
      if (state.aborted) return;
      received += chunk.byteLength;
      if (received > maxBodyBytes) {
        send(res, state, json(413, { error: "payload_too_large" }));
        state.aborted = true;
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      const full: ReadRequest = { ...read, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
      handle(full).then(
        (reply) => send(res, state, reply),
        (err: unknown) => {
          onError(err, full);
          send(res, state, isStorageUnavailable(err) ? json(503, { error: "storage_unavailable" }) : json(500, { error: "internal_error" }));
        },
      );
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
