import { defineConfig } from "vitest/config";
import SummaryReporter from "./test/support/summary-reporter.js";

export default defineConfig({
  test: {
    globalSetup: ["./test/support/postgres-global-setup.ts", "./test/support/swift-global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default", new SummaryReporter()],
    projects: [
      { extends: true, test: { name: "main", include: ["test/**/*.test.ts"] } },
      {
        // The whole end-to-end suite again, every server on PostgreSQL (metadata and blocks).
        extends: true,
        test: {
          name: "e2e-postgresql",
          include: ["test/e2e/**/*.test.ts"],
          // Already PostgreSQL-only, or about the process's command line, memory or transport limits rather than the storage.
          exclude: [
            "test/e2e/postgres-*.test.ts",
            "test/e2e/cli.test.ts",
            "test/e2e/block-upload-memory.test.ts",
            "test/e2e/pre-login-memory.test.ts",
            "test/e2e/hardening-transport.test.ts",
          ],
          env: { PARSEC_TEST_STORAGE: "postgresql" },
        },
      },
    ],
  },
});
