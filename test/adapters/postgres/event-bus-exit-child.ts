/**
 * Child process of the event bus tests: starts a bus on the database URL given as first argument, receives one of
 * its own events, optionally loses its LISTEN connection (`lost`: closes while a reconnection is pending), closes the
 * bus and its pool — and must then exit by itself. It never calls `process.exit` on success; if something keeps it
 * alive, an unref'd timer prints what is left and exits with 3.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { listenApplicationName, PostgresEventBus } from "../../../src/adapters/events/postgres/index.js";
import type { BackendEvent } from "../../../src/application/ports/index.js";
import type { OrganizationID } from "../../../src/domain/ids.js";

const [url, mode = "plain"] = process.argv.slice(2);
if (!url) throw new Error("usage: event-bus-exit-child.ts <database URL> [plain|lost]");

const pool = new pg.Pool({ connectionString: url });
const processId = randomBytes(8).toString("hex");
let lost = false;
const bus = new PostgresEventBus({
  listenUrl: url,
  executorOf: () => pool,
  processId,
  onError: (message) => {
    if (message.startsWith("LISTEN connection to PostgreSQL lost")) lost = true;
  },
  options: { reconnectDelaysMs: [5_000] },
});
await bus.start();
const organizationId = "ExitOrg" as OrganizationID;
const received = new Promise<BackendEvent>((resolve) => bus.subscribe(organizationId, { event: resolve }));
await bus.publishNow({ type: "organization.expired", organizationId });
await received;
if (mode === "lost") {
  await pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [listenApplicationName(processId)]);
  while (!lost) await new Promise((resolve) => setTimeout(resolve, 10));
}
await bus.close();
await bus.close();
await pool.end();
process.stdout.write("closed\n");
setTimeout(() => {
  process.stderr.write(`still alive: ${JSON.stringify(process.getActiveResourcesInfo())}\n`);
  process.exit(3);
}, 3_000).unref();
