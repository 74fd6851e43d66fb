import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockStoreProblem } from "../../src/bootstrap/compose.js";
import type { BackendSettings, BlockStoreSettings } from "../../src/bootstrap/settings.js";
import { startLocalS3, type LocalS3 } from "../support/s3.js";
import { startTestServer } from "../support/server.js";
import { testSwift } from "../support/swift.js";

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

  it("serves S3 and Swift, alone or as RAID nodes", () => {
    const swift: BlockStoreSettings = { type: "SWIFT", authUrl: "http://swift.example/auth/v1.0", tenant: "t", container: "c", user: "u", password: "secret-value" };
    expect(blockStoreProblem(s3, memoryDb)).toBeNull();
    expect(blockStoreProblem(swift, postgresDb)).toBeNull();
    expect(blockStoreProblem(raid("RAID5", [MOCKED, s3, MOCKED]), memoryDb)).toBeNull();
    expect(blockStoreProblem(raid("RAID1", [swift, s3]), memoryDb)).toBeNull();
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

const swift = testSwift();

describe.skipIf(!swift)(`start-up with a Swift block store${swift ? "" : " (SKIPPED: Swift is not installed)"}`, () => {
  let container: string;
  beforeAll(async () => {
    container = await swift!.createContainer("startup");
  });
  const settings = (overrides: Partial<Extract<BlockStoreSettings, { type: "SWIFT" }>>): BlockStoreSettings => ({
    type: "SWIFT",
    authUrl: swift!.authUrl,
    tenant: swift!.tenant,
    container,
    user: swift!.user,
    password: swift!.password,
    ...overrides,
  });
  const startFailure = (blockstore: BlockStoreSettings) =>
    startTestServer({ blockstore }).then(
      async (server) => {
        await server.stop();
        return null;
      },
      (err: unknown) => err as Error,
    );

  it("refuses to start (exit 1) when the password is wrong or the container is missing, naming the node, never the password", async () => {
    const wrong = await startFailure(raid("RAID1", [settings({}), settings({ password: "the-wrong-password" })]));
    expect(wrong?.name).toBe("BlockStoreUnavailableError");
    expect(wrong?.message).toBe(
      `--blockstore RAID1(SWIFT,SWIFT) (object storage node 1): Swift container ${container} at ${swift!.authUrl}: authentication refused (HTTP 401; check the tenant, user and password)`,
    );
    expect(wrong?.message).not.toContain("the-wrong-password");
    const missing = await startFailure(settings({ container: "no-such-container" }));
    expect(missing?.message).toBe(`--blockstore SWIFT: Swift container no-such-container at ${swift!.authUrl}: no such container`);
  });

  it("starts when the container answers", async () => {
    const server = await startTestServer({ blockstore: settings({}) });
    expect(server.loggedErrors).toEqual([]);
    await server.stop();
  });
});
