import { connect, type Socket } from "node:net";
import { within } from "../e2e/helpers.js";

/**
 * Raw TCP clients for the transport's edge cases: HTTP requests and WebSocket frames written byte by byte, where a
 * library would hide what the server does (no answer, a dropped connection, an unfinished fragmented message).
 */

/** A TCP connection to the server, its received bytes, and its end. */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves with the milliseconds between connecting and the socket closing. */
  readonly closed: Promise<number>;
  /** Resolves once `predicate` holds for the bytes received, or rejects after `ms`. */
  until(predicate: (received: Buffer) => boolean, ms: number, what: string): Promise<Buffer>;
}

/** Opens a TCP connection from `localAddress` (a loopback address) to the server on 127.0.0.1, writing `data`. */
export const rawConnect = (port: number, data: string | Buffer = "", localAddress = "127.0.0.1"): Promise<RawConnection> =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ port, host: "127.0.0.1", localAddress });
    let received = Buffer.alloc(0);
    const listeners = new Set<() => void>();
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      for (const l of [...listeners]) l();
    });
    socket.on("error", () => undefined);
    const closed = new Promise<number>((r) => socket.once("close", () => (r(Date.now() - started), [...listeners].forEach((l) => l()))));
    const until: RawConnection["until"] = (predicate, ms, what) =>
      within(
        ms,
        new Promise<Buffer>((r, j) => {
          const check = () => {
            if (predicate(received)) listeners.delete(check), r(received);
            else if (socket.destroyed) listeners.delete(check), j(new Error(`${what}: socket closed, received ${JSON.stringify(received.toString("latin1").slice(0, 200))}`));
          };
          listeners.add(check);
          check();
        }),
        what,
      );
    socket.once("connect", () => {
      if (data.length) socket.write(data);
      resolve({ socket, received: () => received, closed, until });
    });
    socket.once("error", reject);
  });

export const UPGRADE = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** A raw WebSocket upgrade: resolves once the server answered it (101 and its challenge frame, or a refusal with its body). */
export const rawUpgrade = async (port: number, localAddress = "127.0.0.1"): Promise<RawConnection & { readonly status: number; readonly body: string }> => {
  const conn = await rawConnect(port, UPGRADE, localAddress);
  const head = await conn.until((r) => r.includes("\r\n\r\n"), 3_000, "upgrade answer");
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.toString("latin1"))?.[1] ?? 0);
  const length = Number(/content-length: (\d+)/i.exec(head.toString("latin1"))?.[1] ?? 0);
  const headEnd = head.indexOf("\r\n\r\n") + 4;
  // 101: the challenge frame follows; a refusal: its body.
  const full = await conn.until((r) => (status === 101 ? r.length > headEnd + 2 : r.length >= headEnd + length), 3_000, "upgrade body");
  return { ...conn, status, body: status === 101 ? "" : full.subarray(headEnd, headEnd + length).toString("utf8") };
};

/**
 * A client WebSocket frame header (masked with a zero key, so the payload goes as is) declaring `length` payload
 * bytes; `fin` false for a fragment, `opcode` 0 for a continuation.
 */
export const frameHeader = (length: number, { fin = true, opcode = 2 } = {}): Buffer => {
  const first = (fin ? 0x80 : 0) | opcode;
  if (length < 126) return Buffer.from([first, 0x80 | length, 0, 0, 0, 0]);
  if (length < 65536) return Buffer.from([first, 0x80 | 126, length >> 8, length & 0xff, 0, 0, 0, 0]);
  const header = Buffer.alloc(14);
  header[0] = first;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
};

/** A raw HTTP request on its own connection: the status (0 when none came), and how the connection ended. */
export const rawHttp = async (port: number, request: string, ms = 2_000): Promise<{ status: number; body: string; closedByServer: boolean }> => {
  const conn = await rawConnect(port, request);
  const timedOut = await within(ms, conn.closed, "server close").then(
    () => false,
    () => true,
  );
  conn.socket.destroy();
  const text = conn.received().toString("latin1");
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4), closedByServer: !timedOut };
};
