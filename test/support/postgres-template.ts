import { applyMigrations, connectDatabase } from "../../src/adapters/persistence/postgres/index.js";
import type { LocalPostgres } from "../../scripts/local-postgres.js";

/** Name of the migrated database every test database is copied from. */
export const TEMPLATE_DATABASE = "parsec_template";

/**
 * Creates the template database with every migration of the repository's `migrations/` applied (none is fine).
 * @throws when a migration fails or the files are refused, with the runner's message.
 */
export const prepareTemplateDatabase = async (cluster: LocalPostgres): Promise<void> => {
  const url = await cluster.createDatabase(TEMPLATE_DATABASE);
  const client = await connectDatabase(url);
  try {
    const outcome = await applyMigrations(client);
    if (outcome.kind !== "ok") throw new Error(`Cannot prepare the test database template: ${outcome.message}`);
  } finally {
    await client.end();
  }
};
