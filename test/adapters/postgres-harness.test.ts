import { describe, expect, it } from "vitest";
import { adminQuery, createTestDatabase, dropTestDatabase } from "../support/postgres.js";

describe("test PostgreSQL cluster", () => {
  it("hands out separate databases copied from the template", async () => {
    const a = await createTestDatabase();
    const b = await createTestDatabase();
    expect(a.name).not.toBe(b.name);
    await adminQuery("CREATE TABLE only_in_a (x int)", [], a.name);
    const tables = await adminQuery("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'only_in_a'", [], b.name);
    expect(tables.rows[0].n).toBe(0);
    await dropTestDatabase(a.name);
    await dropTestDatabase(b.name);
    const left = await adminQuery("SELECT count(*)::int AS n FROM pg_database WHERE datname = ANY($1)", [[a.name, b.name]]);
    expect(left.rows[0].n).toBe(0);
  });
});
