import { describe, expect, it } from "vitest";
import { DateTime } from "../../src/domain/time.js";

describe("DateTime", () => {
  it("keeps microseconds through the float64 seconds of the wire", () => {
    const dt = DateTime.parseRfc3339("2022-03-21T17:40:34.477750Z")!;
    expect(dt.epochMicroseconds).toBe(1_647_884_434_477_750);
    expect(DateTime.fromEpochSeconds(dt.epochSeconds).equals(dt)).toBe(true);
  });

  it("rounds a float64 fraction to the nearest microsecond", () => {
    expect(DateTime.fromEpochSeconds(1.0000004).epochMicroseconds).toBe(1_000_000);
    expect(DateTime.fromEpochSeconds(1.0000006).epochMicroseconds).toBe(1_000_001);
  });

  it("prints RFC 3339 with six fraction digits only when needed", () => {
    expect(DateTime.fromEpochMicroseconds(946_778_400_000_000).toRfc3339()).toBe("2000-01-02T02:00:00Z");
    expect(DateTime.fromEpochMicroseconds(946_778_400_000_001).toRfc3339()).toBe("2000-01-02T02:00:00.000001Z");
  });

  it("parses offsets, and refuses malformed or impossible dates", () => {
    expect(DateTime.parseRfc3339("2030-01-01T10:00:00.5+02:00")!.toRfc3339()).toBe("2030-01-01T08:00:00.500000Z");
    expect(DateTime.parseRfc3339("2028-02-29T00:00:00Z")).not.toBeNull();
    for (const raw of ["2030-02-30T00:00:00Z", "2030-13-01T00:00:00Z", "2030-01-01T24:00:00Z", "2030-01-01", "yesterday", "2030-01-01T00:00:00"])
      expect(DateTime.parseRfc3339(raw)).toBeNull();
  });

  it("compares and shifts", () => {
    const a = DateTime.fromEpochMicroseconds(1_000_000);
    const b = a.addSeconds(1.5);
    expect(b.epochMicroseconds).toBe(2_500_000);
    expect(a.isBefore(b) && b.isAfter(a) && a.compare(b) < 0 && !a.equals(b)).toBe(true);
  });
});
