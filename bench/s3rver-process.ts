/**
 * A local S3 server (`s3rver`) in a process of its own for the benchmark, so that it shares no event loop with the
 * benchmark's client: prints `{"endpointUrl": …}` on one line once listening, stops (folder removed) on SIGTERM.
 *
 *   node --import tsx bench/s3rver-process.ts <bucket>…
 */
import { startLocalS3 } from "../test/support/s3.js";

const local = await startLocalS3(process.argv.slice(2));
console.log(JSON.stringify({ endpointUrl: local.endpointUrl }));
process.once("SIGTERM", () => void local.close().then(() => process.exit(0)));
