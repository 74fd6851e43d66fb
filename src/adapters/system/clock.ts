import type { Clock } from "../../application/ports/index.js";
import { DateTime } from "../../domain/time.js";

/** The machine clock, microsecond resolution (wall-clock milliseconds plus the monotonic sub-millisecond part). */
export class SystemClock implements Clock {
  private readonly originMs = Date.now();
  private readonly originHr = process.hrtime.bigint();

  now(): DateTime {
    const elapsedUs = Number((process.hrtime.bigint() - this.originHr) / 1000n);
    return DateTime.fromEpochMicroseconds(this.originMs * 1000 + elapsedUs);
  }
}
