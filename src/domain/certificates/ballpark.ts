import type { DateTime } from "../time.js";

/** How far a client's timestamp may stray from the server's clock, in seconds (Parsec v2.16.3 `BALLPARK_CLIENT_*_OFFSET`). */
export interface BallparkOffsets {
  /** How far AHEAD of the server the client timestamp may be: strictly less than this (300 s). */
  readonly clientEarlyOffset: number;
  /** How far BEHIND the server the client timestamp may be: strictly less than this (320 s). */
  readonly clientLateOffset: number;
}

/**
 * Parsec v2.16.3's offsets, also sent to clients as `ballpark_client_early_offset` / `ballpark_client_late_offset`
 * (handshake challenge and `bad_timestamp` replies). Data reaches the server after some latency, so lateness is
 * tolerated a little more than advance.
 */
export const ballparkOffsets: BallparkOffsets = { clientEarlyOffset: 300, clientLateOffset: 320 };

/**
 * True when a client-chosen timestamp (e.g. a certificate's) is close enough to the server's clock:
 * `-clientEarlyOffset < server − client < clientLateOffset`, bounds excluded, computed in microseconds.
 *
 * Upstream: `parsec.utils.timestamps_in_the_ballpark`.
 */
export const timestampsInTheBallpark = (client: DateTime, server: DateTime, offsets: BallparkOffsets = ballparkOffsets): boolean => {
  const lateByMicroseconds = server.epochMicroseconds - client.epochMicroseconds;
  return lateByMicroseconds > -offsets.clientEarlyOffset * 1_000_000 && lateByMicroseconds < offsets.clientLateOffset * 1_000_000;
};
