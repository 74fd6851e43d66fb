/**
 * The victim of `bench/attack.ts`, in a worker thread of its own so that the attackers' work in the main thread
 * (building and writing megabytes of bodies) cannot delay its pings: it logs in with the options it is given, pings
 * continuously (a ping unanswered after 10 s is a failure: the session is closed and logged in again), and posts
 * `{ latenciesMs, failures, lost }` batches to its parent every 100 ms until it receives `"stop"`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { connectAuthenticated, expectSession, type AuthenticatedConnectOptions } from "../test/support/client.js";

/** What the parent sends as `workerData`. */
export type VictimOptions = AuthenticatedConnectOptions;

/** One batch of figures posted to the parent. */
export interface VictimBatch {
  readonly latenciesMs: number[];
  readonly failures: number;
  readonly lost: string | null;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const run = async (): Promise<void> => {
  const options = workerData as VictimOptions;
  const login = async () => expectSession(await connectAuthenticated(options));
  let session = await login();
  await session.ping("warm-up");
  let running = true;
  let batch: { latenciesMs: number[]; failures: number; lost: string | null } = { latenciesMs: [], failures: 0, lost: null };
  const flush = setInterval(() => {
    parentPort!.postMessage(batch satisfies VictimBatch);
    batch = { latenciesMs: [], failures: 0, lost: null };
  }, 100);
  parentPort!.on("message", (message) => {
    if (message === "stop") running = false;
  });
  parentPort!.postMessage("ready");
  while (running) {
    const t0 = performance.now();
    try {
      await Promise.race([session.ping("victim"), sleep(10_000).then(() => Promise.reject(new Error("ping timeout (10 s)")))]);
      batch.latenciesMs.push(performance.now() - t0);
      await sleep(5);
    } catch (err) {
      // A ping that timed out or failed counts with the time it took, so that the maximum shows the stall.
      batch.latenciesMs.push(performance.now() - t0);
      batch.failures++;
      batch.lost = err instanceof Error ? err.message : String(err);
      try {
        await session.close();
        session = await login();
      } catch {
        await sleep(500);
      }
    }
  }
  clearInterval(flush);
  parentPort!.postMessage(batch satisfies VictimBatch);
  await session.close();
  parentPort!.postMessage("stopped");
};

await run();
