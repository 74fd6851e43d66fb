import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { parseDsn } from "slonik";
import { afterAll, describe, expect, it, vi } from "vitest";
import { listenConnectionUrl } from "../../../src/adapters/events/postgres/listen-connection.js";
import { pgConnectionString } from "../../../src/adapters/persistence/postgres/connection.js";
import { slonikConnectionUri, slonikSslOptions } from "../../../src/adapters/persistence/postgres/pool.js";

/**
 * `sslmode` the same on every connection of the server, without node-postgres's start-up warning: `require` and
 * `verify-ca` (which node-postgres treats as aliases of `verify-full`, warning about it) reach it as `verify-full`;
 * slonik's pool gets its own spelling of the same verifying mode, and the certificate files.
 */
describe("sslmode of the server's connections", () => {
  const folder = mkdtempSync(join(tmpdir(), "parsec-ssl-mode-"));
  const ca = join(folder, "root.crt");
  writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n");
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const sslModeOf = (url: string): string | null => new URL(url).searchParams.get("sslmode");

  it("writes node-postgres's aliases of verify-full as verify-full, and leaves the rest of the URL as written", () => {
    for (const mode of ["require", "verify-ca", "prefer"]) {
      expect(pgConnectionString(`postgresql://p%40rsec:a%3Ab@db.example:5433/parsec?sslmode=${mode}&host=/run/pg&application_name=x`)).toBe(
        "postgresql://p%40rsec:a%3Ab@db.example:5433/parsec?sslmode=verify-full&host=/run/pg&application_name=x",
      );
      expect(pgConnectionString(`postgresql://db.example/parsec?application_name=x&sslmode=${mode}`)).toBe("postgresql://db.example/parsec?application_name=x&sslmode=verify-full");
    }
    for (const url of [
      "postgresql://db.example/parsec",
      "postgresql://db.example/parsec?sslmode=verify-full",
      "postgresql://db.example/parsec?sslmode=disable",
      "postgresql://db.example/parsec?sslmode=no-verify",
      "postgresql://db.example/parsec?xsslmode=require",
    ])
      expect(pgConnectionString(url)).toBe(url);
  });

  it("does the same for the LISTEN connection's URL", () => {
    for (const mode of ["require", "verify-ca", "verify-full"]) {
      const url = listenConnectionUrl(`postgresql://parsec@db.example/parsec?sslmode=${mode}&sslrootcert=${ca}`, "parsec-listen-1");
      expect(sslModeOf(url)).toBe("verify-full");
      expect(new URL(url).searchParams.get("application_name")).toBe("parsec-listen-1");
      expect(new URL(url).searchParams.get("sslrootcert")).toBe(ca);
    }
    expect(sslModeOf(listenConnectionUrl("postgresql://db.example/parsec?sslmode=no-verify", "l"))).toBe("no-verify");
    expect(sslModeOf(listenConnectionUrl("postgresql://db.example/parsec", "l"))).toBeNull();
  });

  it("gives slonik's pool its verifying mode and the certificate files, or plain text for disable", () => {
    for (const mode of ["require", "verify-ca", "verify-full"]) {
      const uri = slonikConnectionUri(pgConnectionString(`postgresql://parsec@db.example/parsec?sslmode=${mode}&sslrootcert=${ca}`));
      expect(parseDsn(uri)).toMatchObject({ sslMode: "require" });
      expect(slonikSslOptions(uri)).toMatchObject({ ca: expect.stringContaining("not really") as unknown, rejectUnauthorized: true });
    }
    expect(slonikSslOptions(slonikConnectionUri(`postgresql://db.example/parsec?sslmode=no-verify&sslrootcert=${ca}`))).toMatchObject({ rejectUnauthorized: false });
    expect(slonikSslOptions(slonikConnectionUri(`postgresql://db.example/parsec?sslmode=disable&sslrootcert=${ca}`))).toBeUndefined();
    expect(slonikSslOptions(slonikConnectionUri("postgresql://db.example/parsec?sslmode=require"))).toBeUndefined();
  });

  it("spares node-postgres's SECURITY WARNING, which the raw URL triggers", () => {
    const warnings = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      const verifying = (url: string) => (new pg.Client({ connectionString: url }) as unknown as { connectionParameters: { ssl: unknown } }).connectionParameters.ssl;
      for (const mode of ["require", "verify-ca"]) {
        // Verifying all the same: TLS options without rejectUnauthorized: false.
        expect(verifying(pgConnectionString(`postgresql://db.example/parsec?sslmode=${mode}`))).toEqual({});
        expect(verifying(listenConnectionUrl(`postgresql://db.example/parsec?sslmode=${mode}`, "l"))).toEqual({});
      }
      expect(warnings).not.toHaveBeenCalled();
      // node-postgres warns once per process: last, the raw URL shows the spy sees it.
      expect(verifying("postgresql://db.example/parsec?sslmode=require")).toEqual({});
      expect(warnings).toHaveBeenCalledWith(expect.stringContaining("SECURITY WARNING"));
    } finally {
      warnings.mockRestore();
    }
  });
});
