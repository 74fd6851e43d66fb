import { describe, expect, it } from "vitest";
import { blockStoreProblem } from "../../src/bootstrap/compose.js";
import type { BackendSettings, BlockStoreSettings } from "../../src/bootstrap/settings.js";

const memoryDb: BackendSettings["db"] = { type: "MOCKED" };
const postgresDb: BackendSettings["db"] = { type: "POSTGRESQL", url: "postgresql://db.example/parsec", minConnections: 1, maxConnections: 2 };
const s3: BlockStoreSettings = { type: "S3", endpointUrl: null, region: "eu-west-1", bucket: "b", key: "k", secret: "secret-value" };
const raid = (type: "RAID0" | "RAID1" | "RAID5", nodes: BlockStoreSettings[]): BlockStoreSettings => ({ type, nodes });
const MOCKED: BlockStoreSettings = { type: "MOCKED" };

/** Which `--blockstore` settings this build serves, and the message for the others (`parsec backend run` exits 2 with it). */
describe("blockStoreProblem", () => {
  it("serves MOCKED, POSTGRESQL on a PostgreSQL --db, and RAID0/1/5 of MOCKED nodes", () => {
    expect(blockStoreProblem(MOCKED, memoryDb)).toBeNull();
    expect(blockStoreProblem({ type: "POSTGRESQL" }, postgresDb)).toBeNull();
    for (const type of ["RAID0", "RAID1", "RAID5"] as const) {
      expect(blockStoreProblem(raid(type, [MOCKED, MOCKED, MOCKED]), memoryDb)).toBeNull();
      expect(blockStoreProblem(raid(type, [MOCKED, MOCKED, MOCKED]), postgresDb)).toBeNull();
    }
  });

  it("refuses POSTGRESQL without a PostgreSQL --db, and as a RAID node, naming the node", () => {
    expect(blockStoreProblem({ type: "POSTGRESQL" }, memoryDb)).toMatch(/needs --db=postgresql/);
    expect(blockStoreProblem(raid("RAID1", [MOCKED, { type: "POSTGRESQL" }]), postgresDb)).toBe(
      "--blockstore: RAID1 node 1 is POSTGRESQL; every node would be the same table of the --db database (use POSTGRESQL alone)",
    );
  });

  it("says S3 and Swift are not available yet, alone or as RAID nodes, without quoting credentials", () => {
    const alone = blockStoreProblem(s3, memoryDb);
    expect(alone).toMatch(/S3 is not yet supported by this server build/);
    expect(blockStoreProblem(raid("RAID5", [MOCKED, s3, MOCKED]), memoryDb)).toMatch(/S3 is not yet supported/);
    expect(alone).not.toContain("secret-value");
  });
});
