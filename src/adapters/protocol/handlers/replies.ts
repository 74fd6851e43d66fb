/** Wire fragments several command handlers share: the request `bytes` conversion and the replies common to many commands. */
import type { BadTimestamp } from "../../../domain/certificates/index.js";
import type { RequireGreaterTimestamp } from "../../../domain/realm/index.js";

/**
 * A `bytes` field of a decoded request as a Buffer over the same memory (no copy), the form the use cases take.
 */
export const bytes = (raw: Uint8Array): Buffer => Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);

/**
 * The `bad_timestamp` reply of any command: Parsec's ballpark offsets, the server's and the client's timestamps,
 * and `reason: null` (Parsec v2.16.3 sends no reason).
 */
export const badTimestampReply = (outcome: BadTimestamp) =>
  ({
    status: "bad_timestamp",
    reason: null,
    ballpark_client_early_offset: outcome.ballparkClientEarlyOffset,
    ballpark_client_late_offset: outcome.ballparkClientLateOffset,
    backend_timestamp: outcome.backendTimestamp,
    client_timestamp: outcome.clientTimestamp,
  }) as const;

/** The `require_greater_timestamp` reply of any command: the client must retry strictly after `strictly_greater_than`. */
export const requireGreaterTimestampReply = (outcome: RequireGreaterTimestamp) =>
  ({ status: "require_greater_timestamp", strictly_greater_than: outcome.strictlyGreaterThan }) as const;
