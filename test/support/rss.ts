import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { within } from "../e2e/helpers.js";

/** The resident memory of another process (a server under test), read from `/proc/<pid>/status`. */

/** `VmRSS` and `VmHWM` of process `pid`, in bytes. */
export const memoryOf = (pid: number): { rss: number; hwm: number } => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
    if (!match) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
};

/** Samples `VmRSS` of `pid` every `intervalMs` in a worker thread; slots of the shared array: stop flag, last KiB, max KiB, samples. */
const SAMPLER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { readFileSync } = require("node:fs");
const { pid, shared, intervalMs } = workerData;
const view = new Int32Array(shared);
while (Atomics.load(view, 0) === 0) {
  let kib = -1;
  try {
    const match = /^VmRSS:\\s+(\\d+) kB$/m.exec(readFileSync("/proc/" + pid + "/status", "utf8"));
    if (match) kib = Number(match[1]);
  } catch {
    break;
  }
  Atomics.store(view, 1, kib);
  if (kib > Atomics.load(view, 2)) Atomics.store(view, 2, kib);
  Atomics.add(view, 3, 1);
  Atomics.wait(view, 0, 0, intervalMs);
}
`;

export interface RssSampler {
  /** Forgets the maximum seen so far (and the sample count). */
  reset(): void;
  /** The largest RSS sampled since the last reset, in bytes, and how many samples were taken. */
  read(): { max: number; samples: number };
  stop(): Promise<void>;
}

export const startRssSampler = (pid: number, intervalMs: number): RssSampler => {
  const shared = new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT);
  const view = new Int32Array(shared);
  const worker = new Worker(SAMPLER_SOURCE, { eval: true, workerData: { pid, shared, intervalMs } });
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    reset() {
      Atomics.store(view, 2, 0);
      Atomics.store(view, 3, 0);
    },
    read: () => ({ max: Atomics.load(view, 2) * 1024, samples: Atomics.load(view, 3) }),
    async stop() {
      Atomics.store(view, 0, 1);
      Atomics.notify(view, 0);
      await within(5_000, exited, "stopping the RSS sampler").catch(() => worker.terminate());
    },
  };
};
