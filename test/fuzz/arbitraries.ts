import fc from "fast-check";
import { MUTATION_OPS, mutate, type Mutation, type MutationOp } from "./mutate.js";
import type { FuzzTarget } from "./targets.js";

const COSTLY: readonly MutationOp[] = ["deep_nest", "wide_container"];

/** A mutation operator; the costly ones (inputs of up to hundreds of thousands of values) are drawn 1 time in 40. */
const opArb: fc.Arbitrary<MutationOp> = fc.oneof(
  { weight: 39, arbitrary: fc.constantFrom(...MUTATION_OPS.filter((op) => !COSTLY.includes(op))) },
  { weight: 1, arbitrary: fc.constantFrom(...COSTLY) },
);

/** A mutation program of 1 to 4 steps, shrinkable by fast-check. */
export const mutationsArb: fc.Arbitrary<Mutation[]> = fc.array(fc.record({ op: opArb, at: fc.nat(), arg: fc.nat() }), { minLength: 1, maxLength: 4 });

/** An input of `target`: one of its seeds, mutated (the seed index and the program are what fast-check shrinks). */
export const mutatedInputArb = (target: FuzzTarget): fc.Arbitrary<Buffer> =>
  fc.record({ seed: fc.nat(), mutations: mutationsArb }).map(({ seed, mutations }) => mutate(target.seeds[seed % target.seeds.length]!, mutations, target.donors));

/** The longest one input may take in the short runs of `npm test` before it counts as a hang, in milliseconds. */
export const INPUT_BUDGET_MS = 2_000;
