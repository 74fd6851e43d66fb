import type { Clock } from "../../application/ports/index.js";
import { DateTime } from "../../domain/time.js";

/**
 * The machine's wall clock at microsecond resolution: `Date.now()` milliseconds plus the sub-millisecond part
 * of the monotonic clock, never going backwards between two readings of this instance (a wall clock set back
 * holds the reading until it catches up), so it follows NTP corrections instead of drifting from start-up.
 */
export class SystemClock implements Clock {
  private last = 0;

  now(): DateTime {
    const subMillisecond = Number((process.hrtime.bigint() / 1000n) % 1000n);
    const us = Math.max(this.last, Date.now() * 1000 + subMillisecond);
    this.last = us;
    return DateTime.fromEpochMicroseconds(us);
  }
}
