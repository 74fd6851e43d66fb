import { parseDsn } from "slonik";
import { describe, expect, it } from "vitest";
import { slonikConnectionUri } from "../../../src/adapters/persistence/postgres/pool.js";

/** The pool's URL means what libpq makes of `--db`, query parameters overriding the authority included. */
describe("slonikConnectionUri", () => {
  it("moves a socket directory given as ?host= into the host", () => {
    expect(parseDsn(slonikConnectionUri("postgresql://parsec@localhost/parsec?host=/var/run/postgresql"))).toEqual({
      host: "/var/run/postgresql",
      databaseName: "parsec",
      username: "parsec",
    });
  });

  it("accepts an empty authority with every part as a parameter", () => {
    expect(parseDsn(slonikConnectionUri("postgresql:///?host=%2Ftmp%2Fpg&port=6432&user=p%40rsec&password=a%3Ab&dbname=my%20db"))).toEqual({
      host: "/tmp/pg",
      port: 6432,
      databaseName: "my db",
      username: "p@rsec",
      password: "a:b",
    });
  });

  it("keeps the other parameters and a URL without overrides unchanged", () => {
    expect(slonikConnectionUri("postgresql://a:b@db.example:5433/p?sslmode=require")).toBe("postgresql://a:b@db.example:5433/p?sslmode=require");
    expect(parseDsn(slonikConnectionUri("postgresql://a@db.example/p?host=/s&sslmode=require&application_name=x"))).toEqual({
      host: "/s",
      databaseName: "p",
      username: "a",
      sslMode: "require",
      applicationName: "x",
    });
  });

  it("asks slonik to verify certificates for verify-ca and verify-full", () => {
    for (const mode of ["verify-ca", "verify-full"])
      expect(parseDsn(slonikConnectionUri(`postgresql://a@db.example/p?sslmode=${mode}`))).toMatchObject({ sslMode: "require" });
  });
});
