import type { LocalPostgres } from "../../scripts/local-postgres.js";

/** Name of the migrated database every test database is copied from. */
export const TEMPLATE_DATABASE = "parsec_template";

/** Creates the template database with every migration of `migrations/` applied. */
export const prepareTemplateDatabase = async (cluster: LocalPostgres): Promise<void> => {
  await cluster.createDatabase(TEMPLATE_DATABASE);
};
