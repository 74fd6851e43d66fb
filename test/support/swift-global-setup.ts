import type { TestProject } from "vitest/node";
import { localSwiftUnavailable, startLocalSwift } from "../../scripts/local-swift.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The test run's OpenStack Swift (see `test/support/swift.ts`), or why there is none. */
    swift: { readonly proxyUrl: string; readonly memcachePort: number } | { readonly unavailable: string };
  }
}

/**
 * Vitest global setup: one OpenStack Swift for the whole run (`scripts/local-swift.ts`: tempauth, Swift v1 and S3
 * through s3api, on free loopback ports, data in a fresh temporary folder) when Debian's Swift packages are installed
 * (`.ci/run` installs them). Without them the Swift tests are skipped with a message, except under `CI=true`, where
 * the run fails.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const unavailable = localSwiftUnavailable();
  if (unavailable !== null) {
    if (process.env.CI === "true") throw new Error(`The Swift tests must run under CI=true, but ${unavailable}`);
    console.warn(`\n[swift] Swift tests are SKIPPED: ${unavailable}\n`);
    project.provide("swift", { unavailable });
    return undefined;
  }
  const swift = await startLocalSwift();
  project.provide("swift", { proxyUrl: swift.proxyUrl, memcachePort: swift.memcachePort });
  return swift.stop;
}
