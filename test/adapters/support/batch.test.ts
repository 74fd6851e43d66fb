import { describe, expect, it } from "vitest";
import { Batcher } from "../../../src/adapters/support/index.js";

describe("Batcher", () => {
  it("answers the calls of one turn of the event loop with one run, each with its own result", async () => {
    const runs: number[][] = [];
    const batcher = new Batcher<number, string>(async (keys) => (runs.push([...keys]), keys.map((k) => `r${k}`)));
    expect(await Promise.all([1, 2, 3].map((k) => batcher.load(k)))).toEqual(["r1", "r2", "r3"]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it("splits batches at maxSize", async () => {
    const runs: number[][] = [];
    const batcher = new Batcher<number, number>(async (keys) => (runs.push([...keys]), [...keys]), { maxSize: 2 });
    expect(await Promise.all([1, 2, 3, 4, 5].map((k) => batcher.load(k)))).toEqual([1, 2, 3, 4, 5]);
    expect(runs).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("fails only the call whose key fails: the others of its batch are run again alone and answered", async () => {
    const runs: number[][] = [];
    const batcher = new Batcher<number, number>(async (keys) => {
      runs.push([...keys]);
      if (keys.includes(13)) throw new Error("unlucky key");
      return keys.map((k) => k * 10);
    });
    const outcomes = await Promise.allSettled([1, 13, 2].map((k) => batcher.load(k)));
    expect(outcomes.map((o) => (o.status === "fulfilled" ? o.value : (o.reason as Error).message))).toEqual([10, "unlucky key", 20]);
    expect(runs).toEqual([[1, 13, 2], [1], [13], [2]]);
  });

  it("keeps working after a failed batch", async () => {
    let fail = true;
    const batcher = new Batcher<number, number>(async (keys) => {
      if (fail) throw new Error("down");
      return [...keys];
    });
    await expect(batcher.load(1)).rejects.toThrow("down");
    fail = false;
    expect(await Promise.all([4, 5].map((k) => batcher.load(k)))).toEqual([4, 5]);
  });
});
