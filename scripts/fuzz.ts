/**
 * The long mutation fuzzer over the decoders and the command loop (the targets of test/fuzz/targets.ts, seeded from
 * the protocol vectors read in place and from frames synthesized for every command).
 *
 *   npm run fuzz                                  # 1 000 000 inputs split evenly across every target, 2 at a time
 *   npm run fuzz -- --inputs 100000               # fewer inputs (or FUZZ_INPUTS=100000)
 *   npm run fuzz -- --targets request,handshake   # targets whose name starts with one of these
 *   npm run fuzz -- --seed 42 --jobs 1            # reproducible run, one target at a time
 *   npm run fuzz -- --replay .tmp/fuzz-crashes/request-authenticated-123.bin --targets request-authenticated
 *
 * Each target runs in a worker thread; input `i` of a target is derived from (seed, target, i) alone, so the main
 * thread, watching each worker's progress counter, can rebuild an input the worker hangs on (no progress for
 * `--stall-seconds`, default 10), save it and go on from the next one. Every crash (a broken property: an
 * undocumented exception or outcome, a bad reply, a hang) is saved with its stack under `.tmp/fuzz-crashes/`
 * (gitignored), at most 20 distinct ones per target, and so is each target's slowest input (`slowest-<target>.bin`).
 * Reports, per target: inputs, inputs/s (mutation included), crashes, the slowest input's time in the run and when
 * run again alone (best of 3: the run's figure includes garbage collection), and its size. Exits 1 on any crash.
 *
 * Coverage-guided fuzzing with Jazzer.js was tried first: @jazzer.js/core 4.0.0 installs, but its prebuilt addon
 * needs glibc 2.38 (Debian 12 has 2.36); 2.1.0 downloads its addon from GitHub at install time, unreachable here.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { loadCorpus, type FuzzCorpus } from "../test/fuzz/corpus.js";
import { Rng, mutate, randomMutations } from "../test/fuzz/mutate.js";
import { commandLoopTargets, decoderTargets, FuzzViolation, type FuzzTarget } from "../test/fuzz/targets.js";

/** Every target name, decoders first. */
const TARGET_NAMES = [
  "unpack-wire",
  "handshake",
  "request-authenticated",
  "request-invited",
  "request-anonymous",
  "certificate-signed",
  "certificate-payload",
  "engine-authenticated",
  "engine-invited",
  "engine-anonymous",
  "engine-handshake",
] as const;

const OUT_DIR = ".tmp/fuzz-crashes";
const MAX_SAVED_CRASHES = 20;

/** What the main thread tells a worker. */
interface WorkerInput {
  readonly target: string;
  readonly seed: number;
  readonly from: number;
  readonly to: number;
  readonly progress: SharedArrayBuffer;
}

/** A crash, as a worker reports it. */
interface CrashReport {
  readonly index: number;
  readonly message: string;
  readonly stack: string;
  readonly file: string | null;
}

/** What a worker reports when it is done. */
interface WorkerResult {
  readonly inputs: number;
  readonly elapsedMs: number;
  readonly slowestMs: number;
  /** The slowest input run again three times: the best time, without the noise of the run. */
  readonly slowestReplayMs: number;
  readonly slowestIndex: number;
  readonly slowestSize: number;
  readonly crashes: CrashReport[];
}

const hashName = (name: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
};

/** Input `index` of `target` for run seed `seed`: a seed frame of the target, mutated by a random program. */
const inputAt = (target: FuzzTarget, seed: number, index: number): Buffer => {
  const rng = new Rng((seed ^ hashName(target.name)) + Math.imul(index, 0x9e3779b9));
  const frame = target.seeds[rng.below(target.seeds.length)]!;
  return mutate(frame, randomMutations(rng), target.donors);
};

const buildTarget = async (name: string, corpus: FuzzCorpus): Promise<FuzzTarget> => {
  const targets = name.startsWith("engine-") ? await commandLoopTargets(corpus) : decoderTargets(corpus);
  const found = targets.find((t) => t.name === name);
  if (!found) throw new Error(`unknown fuzz target ${name}`);
  return found;
};

const describe = (err: unknown): { message: string; stack: string } => {
  if (!(err instanceof Error)) return { message: String(err), stack: String(err) };
  const cause = err.cause instanceof Error ? `\nCaused by: ${err.cause.stack ?? err.cause.message}` : "";
  return { message: err.message, stack: `${err.stack ?? err.message}${cause}` };
};

/** The signature two crashes share when they are the same bug: the message without numbers, and the cause's top frame. */
const signatureOf = (err: unknown): string => {
  const { message } = describe(err);
  const frame = err instanceof Error && err.cause instanceof Error ? (err.cause.stack?.split("\n")[1] ?? "") : "";
  return `${message.replace(/\d+/g, "N").slice(0, 120)}|${frame.trim()}`;
};

const saveCrash = (target: string, index: number, input: Buffer, text: string): string => {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${target}-${index}.bin`);
  writeFileSync(file, input);
  writeFileSync(`${file}.txt`, `${text}\n\ninput (${input.length} bytes), hex:\n${input.toString("hex")}\n`);
  return file;
};

const runWorker = async (): Promise<void> => {
  const { target: name, seed, from, to, progress } = workerData as WorkerInput;
  const counter = new Int32Array(progress);
  const target = await buildTarget(name, loadCorpus());
  const crashes: CrashReport[] = [];
  const signatures = new Set<string>();
  let slowest = { ms: -1, index: -1, size: 0 };
  const start = performance.now();
  for (let index = from; index < to; index++) {
    Atomics.store(counter, 0, index);
    const input = inputAt(target, seed, index);
    const t0 = performance.now();
    try {
      const pending = target.run(input);
      if (pending) await pending;
    } catch (err) {
      const signature = signatureOf(err);
      const { message, stack } = describe(err);
      const fresh = !signatures.has(signature) && signatures.size < MAX_SAVED_CRASHES;
      signatures.add(signature);
      crashes.push({ index, message, stack: fresh ? stack : "", file: fresh ? saveCrash(name, index, input, stack) : null });
      if (!(err instanceof FuzzViolation)) crashes[crashes.length - 1] = { ...crashes[crashes.length - 1]!, message: `harness: ${message}` };
    }
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { ms, index, size: input.length };
  }
  const elapsedMs = performance.now() - start;
  // The slowest time of a run includes garbage collection and the other worker's load: run it again, keep the best.
  let slowestReplayMs = -1;
  if (slowest.index >= 0) {
    const input = inputAt(target, seed, slowest.index);
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, `slowest-${name}.bin`), input);
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      try {
        await target.run(input);
      } catch {
        // Already counted as a crash.
      }
      const ms = performance.now() - t0;
      slowestReplayMs = slowestReplayMs < 0 ? ms : Math.min(slowestReplayMs, ms);
    }
  }
  await target.close?.();
  const result: WorkerResult = { inputs: to - from, elapsedMs, slowestMs: slowest.ms, slowestReplayMs, slowestIndex: slowest.index, slowestSize: slowest.size, crashes };
  parentPort!.postMessage(result);
};

/** Figures of one target, once every input ran. */
interface TargetFigures {
  target: string;
  inputs: number;
  perSecond: number;
  crashes: number;
  distinctCrashes: number;
  hangs: number;
  slowestMs: number;
  slowestReplayMs: number;
  slowestInputBytes: number;
}

const startWorker = (data: WorkerInput): Worker => {
  const bootstrap = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: data });
};

/** Runs inputs `[0, count)` of `name`, restarting after a hang; returns its figures and prints its crashes. */
const fuzzTarget = async (name: string, count: number, seed: number, stallMs: number, corpus: FuzzCorpus): Promise<TargetFigures> => {
  let from = 0;
  let elapsedMs = 0;
  let slowestMs = -1;
  let slowestReplayMs = -1;
  let slowestInputBytes = 0;
  let hangs = 0;
  const crashes: CrashReport[] = [];
  while (from < count) {
    const progress = new SharedArrayBuffer(4);
    const counter = new Int32Array(progress);
    // -1 until the worker has built its target and starts on its first input: start-up is not a hang.
    Atomics.store(counter, 0, -1);
    const worker = startWorker({ target: name, seed, from, to: count, progress });
    const started = performance.now();
    const outcome = await new Promise<{ kind: "done"; result: WorkerResult } | { kind: "hang"; index: number } | { kind: "error"; error: Error }>((resolve) => {
      let last = -1;
      let lastChange = performance.now();
      const watchdog = setInterval(() => {
        const now = Atomics.load(counter, 0);
        if (now !== last || now === -1) (last = now), (lastChange = performance.now());
        else if (performance.now() - lastChange > stallMs) {
          clearInterval(watchdog);
          void worker.terminate();
          resolve({ kind: "hang", index: now });
        }
      }, 250);
      worker.once("message", (result: WorkerResult) => (clearInterval(watchdog), resolve({ kind: "done", result })));
      worker.once("error", (error) => (clearInterval(watchdog), resolve({ kind: "error", error })));
    });
    if (outcome.kind === "error") throw outcome.error;
    if (outcome.kind === "done") {
      const r = outcome.result;
      elapsedMs += r.elapsedMs;
      crashes.push(...r.crashes);
      if (r.slowestMs > slowestMs) (slowestMs = r.slowestMs), (slowestReplayMs = r.slowestReplayMs), (slowestInputBytes = r.slowestSize);
      break;
    }
    // A hang: the input is rebuilt here from its index, saved, and the target goes on after it.
    hangs++;
    elapsedMs += performance.now() - started - stallMs;
    const target = await buildTarget(name, corpus);
    const input = inputAt(target, seed, outcome.index);
    await target.close?.();
    const message = `no progress for ${stallMs} ms on input ${outcome.index} (a hang or an endless loop)`;
    crashes.push({ index: outcome.index, message, stack: message, file: saveCrash(name, outcome.index, input, message) });
    if (stallMs > slowestMs) (slowestMs = stallMs), (slowestReplayMs = stallMs), (slowestInputBytes = input.length);
    from = outcome.index + 1;
  }
  for (const c of crashes.filter((c) => c.file !== null))
    console.error(`[fuzz] ${name}: CRASH on input ${c.index}: ${c.message}\n        saved to ${c.file} (stack in ${c.file}.txt)`);
  return {
    target: name,
    inputs: count,
    perSecond: Math.round(count / Math.max(elapsedMs / 1000, 1e-6)),
    crashes: crashes.length,
    distinctCrashes: crashes.filter((c) => c.file !== null).length,
    hangs,
    slowestMs: Number(slowestMs.toFixed(3)),
    slowestReplayMs: Number(slowestReplayMs.toFixed(3)),
    slowestInputBytes,
  };
};

/** `--replay FILE`: runs one saved input through each selected target and prints what happened. */
const replay = async (file: string, names: readonly string[]): Promise<void> => {
  const input = readFileSync(file);
  const corpus = loadCorpus();
  for (const name of names) {
    const target = await buildTarget(name, corpus);
    const t0 = performance.now();
    try {
      await target.run(input);
      console.log(`${name}: ok (${(performance.now() - t0).toFixed(3)} ms)`);
    } catch (err) {
      console.log(`${name}: FAILED (${(performance.now() - t0).toFixed(3)} ms)\n${describe(err).stack}`);
      process.exitCode = 1;
    }
    await target.close?.();
  }
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      inputs: { type: "string", default: process.env["FUZZ_INPUTS"] ?? "1000000" },
      targets: { type: "string" },
      seed: { type: "string" },
      jobs: { type: "string", default: String(Math.min(2, availableParallelism())) },
      "stall-seconds": { type: "string", default: "10" },
      replay: { type: "string" },
    },
  });
  const prefixes = values.targets?.split(",").map((s) => s.trim()).filter(Boolean) ?? null;
  const names = TARGET_NAMES.filter((n) => prefixes === null || prefixes.some((p) => n.startsWith(p)));
  if (names.length === 0) throw new Error(`--targets ${values.targets}: no target matches (targets: ${TARGET_NAMES.join(", ")})`);
  if (values.replay) return replay(values.replay, names);
  const total = Number(values.inputs);
  const jobs = Number(values.jobs);
  const stallMs = Number(values["stall-seconds"]) * 1000;
  if (!(total > 0) || !(jobs >= 1) || !(stallMs > 0)) throw new Error("--inputs, --jobs and --stall-seconds take positive numbers");
  const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : Date.now() >>> 0;
  const perTarget = Math.max(1, Math.floor(total / names.length));
  console.error(`[fuzz] seed ${seed}: ${perTarget} inputs for each of ${names.length} targets, ${jobs} at a time`);
  const corpus = loadCorpus();
  const queue = [...names];
  const figures: TargetFigures[] = [];
  await Promise.all(
    Array.from({ length: Math.min(jobs, names.length) }, async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const f = await fuzzTarget(name, perTarget, seed, stallMs, corpus);
        console.error(`[fuzz] ${f.target}: ${f.inputs} inputs, ${f.perSecond}/s, ${f.crashes} crashes (${f.distinctCrashes} distinct, ${f.hangs} hangs), slowest ${f.slowestMs} ms (${f.slowestReplayMs} ms again; ${f.slowestInputBytes} bytes)`);
        figures.push(f);
      }
    }),
  );
  figures.sort((a, b) => names.indexOf(a.target as never) - names.indexOf(b.target as never));
  console.table(figures);
  console.log(JSON.stringify({ seed, inputsPerTarget: perTarget, results: figures }));
  if (figures.some((f) => f.crashes > 0)) {
    console.error(`[fuzz] crashes saved under ${OUT_DIR}/ (replay one with --replay FILE --targets TARGET)`);
    process.exitCode = 1;
  }
};

if (isMainThread) await main();
else await runWorker();
