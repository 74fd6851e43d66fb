import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockStoreProblem } from "../../src/bootstrap/compose.js";
import type { BackendSettings, BlockStoreSettings } from "../../src/bootstrap/settings.js";
import { startLocalS3, type LocalS3 } from "../support/s3.js";
import { startTestServer } from "../support/server.js";

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

  it("serves S3, alone or as RAID nodes; says Swift is not available yet, without quoting credentials", () => {
    expect(blockStoreProblem(s3, memoryDb)).toBeNull();
    expect(blockStoreProblem(raid("RAID5", [MOCKED, s3, MOCKED]), memoryDb)).toBeNull();
    const swift: BlockStoreSettings = { type: "SWIFT", authUrl: "http://swift.example/auth/v1.0", tenant: "t", container: "c", user: "u", password: "secret-value" };
    const refused = blockStoreProblem(raid("RAID1", [swift, MOCKED]), memoryDb);
    expect(refused).toMatch(/SWIFT is not yet supported/);
    expect(refused).not.toContain("secret-value");
  });
});

describe("start-up with an S3 block store", () => {
  let local: LocalS3;
  beforeAll(async () => {
    local = await startLocalS3(["parsec"]);
  });
  afterAll(async () => {
    await local?.close();
  });

  const bucket = (name: string): BlockStoreSettings => ({ type: "S3", endpointUrl: local.endpointUrl, region: "us-east-1", bucket: name, key: "S3RVER", secret: "the-secret" });

  it("refuses to start (BlockStoreUnavailableError, exit 1) when a bucket does not exist, naming the node and the bucket", async () => {
    const failure = await startTestServer({ blockstore: raid("RAID1", [bucket("parsec"), bucket("missing-bucket")]) }).then(
      async (server) => {
        await server.stop();
        return null;
      },
      (err: unknown) => err as Error,
    );
    expect(failure?.name).toBe("BlockStoreUnavailableError");
    expect(failure?.message).toBe(`--blockstore RAID1(S3,S3) (object storage node 1): S3 bucket missing-bucket at ${local.endpointUrl}: no such bucket`);
    expect(failure?.message).not.toContain("the-secret");
  });

  it("starts when every bucket answers", async () => {
    const server = await startTestServer({ blockstore: bucket("parsec") });
    expect(server.port).toBeGreaterThan(0);
    expect(server.loggedErrors).toEqual([]);
    await server.stop();
  });
});
