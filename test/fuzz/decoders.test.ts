import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest } from "../../src/adapters/protocol/index.js";
import { INPUT_BUDGET_MS, mutatedInputArb } from "./arbitraries.js";
import { loadCorpus } from "./corpus.js";
import { synthesizeRequests } from "./synthesize.js";
import { decoderTargets } from "./targets.js";

/**
 * Short mutation runs over every decoder, seeded from the protocol vectors (read in place) and frames synthesized
 * for every command: the documented outcomes only, no exception, no input slower than {@link INPUT_BUDGET_MS}.
 * `npm run fuzz` runs the same targets for much longer.
 */
const corpus = loadCorpus();
const RUNS = 300;

describe("the seed corpus", () => {
  it("holds a valid frame for every command of every client family", () => {
    const { requests, missing } = synthesizeRequests();
    expect(missing).toEqual([]);
    for (const r of requests) expect(decodeRequest(r.family, r.frame)).toMatchObject({ kind: "ok", cmd: r.cmd });
  });

  it("gives every decoder target some seeds", () => {
    for (const target of decoderTargets(corpus)) expect(target.seeds.length, target.name).toBeGreaterThan(0);
  });
});

describe("decoders on mutated valid frames", () => {
  for (const target of decoderTargets(corpus)) {
    it(`${target.name}: documented outcomes only, within the time budget`, () => {
      fc.assert(
        fc.property(mutatedInputArb(target), (input) => {
          const start = performance.now();
          target.run(input);
          expect(performance.now() - start).toBeLessThan(INPUT_BUDGET_MS);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it("the unmutated seeds pass too", () => {
    for (const target of decoderTargets(corpus)) for (const seed of target.seeds) target.run(seed);
  });
});
