import { describe, expect, it } from "vitest";
import { CryptoRandom, SystemClock } from "../../src/adapters/system/index.js";

describe("SystemClock", () => {
  it("reads the wall clock at microsecond resolution and never goes backwards", () => {
    const clock = new SystemClock();
    let previous = clock.now().epochMicroseconds;
    for (let i = 0; i < 10_000; i++) {
      const before = Date.now() * 1000;
      const current = clock.now().epochMicroseconds;
      expect(current).toBeGreaterThanOrEqual(previous);
      expect(Math.abs(current - before)).toBeLessThan(50_000);
      expect(Number.isInteger(current)).toBe(true);
      previous = current;
    }
  });
});

describe("CryptoRandom", () => {
  it("gives the requested number of bytes, different each time", () => {
    const random = new CryptoRandom();
    const a = random.bytes(48);
    const b = random.bytes(48);
    expect(a).toHaveLength(48);
    expect(a.equals(b)).toBe(false);
  });
});
