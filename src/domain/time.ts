/**
 * A point in time with Parsec's resolution: one microsecond, UTC.
 *
 * Stored as an integer count of microseconds since the Unix epoch (safe up to year 2255).
 * On the wire (msgpack ext 1) it travels as a float64 of seconds; {@link DateTime.fromEpochSeconds}
 * and {@link DateTime.epochSeconds} implement Parsec's rounding so that every value round-trips bit for bit.
 */
export class DateTime {
  /**
   * Largest distance from the epoch, in seconds, of a DateTime read from the wire: where microseconds stop being
   * exact integers in a float64 (about 285 years: 1685-04 to 2255-06). Parsec clients send times near now.
   */
  static readonly MAX_EPOCH_SECONDS = Math.floor(Number.MAX_SAFE_INTEGER / 1_000_000);

  private constructor(
    /** Microseconds since 1970-01-01T00:00:00Z. */
    readonly epochMicroseconds: number,
  ) {}

  /** From an integer number of microseconds since the epoch (fractions are rounded to the nearest µs). */
  static fromEpochMicroseconds(us: number): DateTime {
    return new DateTime(Math.round(us));
  }

  /**
   * From a float64 of seconds since the epoch, as Parsec's msgpack ext 1 carries it:
   * the integer part of the seconds, plus the fraction rounded to the nearest microsecond.
   */
  static fromEpochSeconds(seconds: number): DateTime {
    const whole = Math.floor(seconds);
    return new DateTime(whole * 1_000_000 + Math.round((seconds - whole) * 1_000_000));
  }

  /** From milliseconds since the epoch (a JavaScript `Date` value). */
  static fromEpochMilliseconds(ms: number): DateTime {
    return new DateTime(Math.round(ms * 1000));
  }

  /** Parses an RFC 3339 timestamp (e.g. `2000-01-02T01:00:00.123456Z`), keeping microseconds. Returns null when malformed. */
  static parseRfc3339(raw: string): DateTime | null {
    const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(raw);
    if (!m) return null;
    const [year, month, day] = m[1]!.split("-").map(Number) as [number, number, number];
    const [hour, minute, second] = m[2]!.split(":").map(Number) as [number, number, number];
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return null;
    const baseMs = Date.parse(`${m[1]}T${m[2]}${m[4]!.toUpperCase() === "Z" ? "Z" : m[4]}`);
    if (Number.isNaN(baseMs)) return null;
    const fraction = m[3] ? Math.round(Number(`0.${m[3]}`) * 1_000_000) : 0;
    return new DateTime(baseMs * 1000 + fraction);
  }

  /** Seconds since the epoch as a float64: the wire form of msgpack ext 1. */
  get epochSeconds(): number {
    return this.epochMicroseconds / 1_000_000;
  }

  /** This instant shifted by `seconds` (may be fractional or negative). */
  addSeconds(seconds: number): DateTime {
    return new DateTime(this.epochMicroseconds + Math.round(seconds * 1_000_000));
  }

  /** Negative, zero or positive as this instant is before, equal to or after `other`. */
  compare(other: DateTime): number {
    return this.epochMicroseconds - other.epochMicroseconds;
  }

  isBefore(other: DateTime): boolean {
    return this.epochMicroseconds < other.epochMicroseconds;
  }

  isAfter(other: DateTime): boolean {
    return this.epochMicroseconds > other.epochMicroseconds;
  }

  equals(other: DateTime): boolean {
    return this.epochMicroseconds === other.epochMicroseconds;
  }

  /** RFC 3339 in UTC with `Z`; six fraction digits when the value is not a whole second. */
  toRfc3339(): string {
    const us = this.epochMicroseconds;
    const ms = Math.floor(us / 1_000_000) * 1000;
    const base = new Date(ms).toISOString().slice(0, 19);
    const fraction = us - ms * 1000;
    return fraction === 0 ? `${base}Z` : `${base}.${String(fraction).padStart(6, "0")}Z`;
  }

  toString(): string {
    return this.toRfc3339();
  }

  toJSON(): string {
    return this.toRfc3339();
  }
}
