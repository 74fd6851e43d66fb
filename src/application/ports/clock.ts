import type { DateTime } from "../../domain/time.js";

/** The server's clock (µs precision). */
export interface Clock {
  now(): DateTime;
}
