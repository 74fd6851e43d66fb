import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

/**
 * PostgreSQL for tests: the cluster started by `postgres-global-setup.ts` for the whole run. Each test file (or
 * test) takes databases of its own, copied from the migrated template, so tests never see each other's rows.
 */

const quote = (id: string) => `"${id.replaceAll('"', '""')}"`;

/** Runs one statement as the cluster's superuser on `database` (default: the maintenance database). */
export const adminQuery = async (sql: string, values: unknown[] = [], database?: string): Promise<pg.QueryResult> => {
  const { adminUrl } = inject("postgres");
  const url = new URL(adminUrl);
  if (database) url.pathname = `/${encodeURIComponent(database)}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
};

/** URL of database `name` of the test cluster. */
export const databaseUrl = (name: string): string => {
  const url = new URL(inject("postgres").adminUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
};

/**
 * A fresh database: a copy of the migrated template (default), or an empty one with `{ migrated: false }`.
 * Returns its name and URL.
 */
export const createTestDatabase = async (options: { readonly migrated?: boolean } = {}): Promise<{ name: string; url: string }> => {
  const name = `test_${process.pid}_${randomBytes(5).toString("hex")}`;
  const template = options.migrated === false ? "template0" : inject("postgres").template;
  await adminQuery(`CREATE DATABASE ${quote(name)} TEMPLATE ${quote(template)}`);
  return { name, url: databaseUrl(name) };
};

/** Drops a test database, disconnecting whoever is still on it. */
export const dropTestDatabase = async (name: string): Promise<void> => {
  await adminQuery(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`);
};
