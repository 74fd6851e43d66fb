import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INPUT_BUDGET_MS, mutatedInputArb } from "./arbitraries.js";
import { loadCorpus } from "./corpus.js";
import { commandLoopTargets, type FuzzTarget } from "./targets.js";

/**
 * Short mutation runs of the command loop (complements test/application/engine-fuzz.test.ts, which generates typed
 * field values): mutated vector and synthesized frames for every command, through the wire engine on a memory
 * application. Every reply is a msgpack map with a string `status`; nothing rejects, hangs or reaches the error reporter.
 */
let targets: FuzzTarget[] = [];
beforeAll(async () => {
  targets = await commandLoopTargets(loadCorpus());
});
afterAll(async () => {
  for (const target of targets) await target.close?.();
});

const RUNS = 200;

describe("the command loop on mutated valid frames", () => {
  for (const name of ["engine-authenticated", "engine-invited", "engine-anonymous", "engine-handshake"]) {
    it(`${name}: a valid reply to every input`, async () => {
      const target = targets.find((t) => t.name === name)!;
      await fc.assert(
        fc.asyncProperty(mutatedInputArb(target), async (input) => {
          const start = performance.now();
          await target.run(input);
          expect(performance.now() - start).toBeLessThan(INPUT_BUDGET_MS);
        }),
        { numRuns: RUNS },
      );
    });
  }
});
