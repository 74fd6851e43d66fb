import { describe, expect, it } from "vitest";
import { parseBlockStore, splitEscapedColons } from "../../src/bootstrap/cli/index.js";

const ok = (values: string[]) => {
  const result = parseBlockStore(values);
  if (!result.ok) throw new Error(result.error);
  return result.value;
};
const error = (values: string[]) => {
  const result = parseBlockStore(values);
  if (result.ok) throw new Error(`accepted ${JSON.stringify(values)}`);
  return result.error;
};

describe("splitEscapedColons", () => {
  it.each([
    ["a:b", ["a", "b"]],
    ["a\\:b:c", ["a:b", "c"]],
    ["a\\\\:b", ["a\\", "b"]],
    ["a\\b", ["a\\b"]],
    ["a\\", ["a\\"]],
    [":", ["", ""]],
  ])("%s", (text, parts) => {
    expect(splitEscapedColons(text)).toEqual(parts);
  });
});

describe("parseBlockStore", () => {
  it("reads MOCKED and POSTGRESQL in any case", () => {
    expect(ok(["MOCKED"])).toEqual({ type: "MOCKED" });
    expect(ok(["mocked"])).toEqual({ type: "MOCKED" });
    expect(ok(["PostgreSQL"])).toEqual({ type: "POSTGRESQL" });
  });

  it("reads S3 with an endpoint, adding https:// when no scheme is given", () => {
    expect(ok(["s3:minio.example.com\\:9000:eu-west-1:blocks:KEY:SECRET"])).toEqual({
      type: "S3",
      endpointUrl: "https://minio.example.com:9000",
      region: "eu-west-1",
      bucket: "blocks",
      key: "KEY",
      secret: "SECRET",
    });
    expect(ok(["S3:http\\://localhost\\:9000:r:b:k:s"])).toMatchObject({ endpointUrl: "http://localhost:9000" });
  });

  it("reads S3 with an empty endpoint as the provider's default", () => {
    expect(ok(["s3::us-east-1:b:k:s"])).toMatchObject({ type: "S3", endpointUrl: null, region: "us-east-1" });
  });

  it("unescapes colons inside secrets", () => {
    expect(ok(["s3::r:b:k:se\\:cr\\:et"])).toMatchObject({ secret: "se:cr:et" });
  });

  it("reads SWIFT", () => {
    expect(ok(["swift:auth.example.com/v3:tenant:container:user:pa\\:ss"])).toEqual({
      type: "SWIFT",
      authUrl: "https://auth.example.com/v3",
      tenant: "tenant",
      container: "container",
      user: "user",
      password: "pa:ss",
    });
  });

  it("refuses a container or bucket named `.` or `..` or holding `/` (it would address another place of the account)", () => {
    expect(error(["swift:auth.example.com/v1.0:tenant:.:user:pw"])).toContain("<container> cannot be `.`");
    expect(error(["swift:auth.example.com/v1.0:tenant:..:user:pw"])).toContain("<container> cannot be `..`");
    expect(error(["swift:auth.example.com/v1.0:tenant:a/b:user:pw"])).toContain("<container> cannot hold `/`");
    expect(error(["s3::us-east-1:..:key:secret"])).toContain("<bucket> cannot be `..`");
    expect(error(["s3::us-east-1:a/..:key:secret"])).toContain("<bucket> cannot hold `/`");
    expect(ok(["swift:auth.example.com/v1.0:tenant:a.b..c:user:pw"])).toMatchObject({ container: "a.b..c" });
  });

  it("reads RAID clusters whatever the order of the nodes", () => {
    expect(ok(["RAID1:1:POSTGRESQL", "RAID1:0:MOCKED"])).toEqual({ type: "RAID1", nodes: [{ type: "MOCKED" }, { type: "POSTGRESQL" }] });
    expect(ok(["raid0:0:MOCKED", "RAID0:1:s3::r:b:k:s"])).toMatchObject({ type: "RAID0", nodes: [{ type: "MOCKED" }, { type: "S3", bucket: "b" }] });
    expect(ok(["RAID5:0:MOCKED", "RAID5:1:MOCKED", "RAID5:2:swift:a:t:c:u:p"])).toMatchObject({ type: "RAID5", nodes: [{}, {}, { type: "SWIFT" }] });
  });

  it.each([
    [["s3:r:b:k:s"], /S3.*5/],
    [["s3::r:b:k:s:extra"], /S3.*5/],
    [["s3::r::k:s"], /bucket.*empty/],
    [["swift:a:t:c:u"], /SWIFT.*5/],
    [["swift::t:c:u:p"], /auth_url.*empty/],
    [["ftp:x"], /invalid blockstore type `ftp`/],
    [[""], /invalid blockstore type/],
    [["MOCKED", "POSTGRESQL"], /only allowed as RAID/],
    [["RAID1:0:MOCKED"], /RAID1 needs at least 2 nodes, got 1/],
    [["RAID5:0:MOCKED", "RAID5:1:MOCKED"], /RAID5 needs at least 3 nodes/],
    [["RAID1:0:MOCKED", "RAID1:2:MOCKED"], /missing node index 1/],
    [["RAID1:1:MOCKED", "RAID1:2:MOCKED"], /missing node index 0/],
    [["RAID1:0:MOCKED", "RAID1:0:POSTGRESQL"], /node index 0 is given more than once/],
    [["RAID1:x:MOCKED", "RAID1:1:MOCKED"], /node index `x`/],
    [["RAID1:-1:MOCKED", "RAID1:0:MOCKED"], /node index `-1`/],
    [["RAID0:0:MOCKED", "RAID1:1:MOCKED"], /mix RAID levels/],
    [["RAID1:0:MOCKED", "MOCKED"], /mix RAID node configs with a plain/],
    [["RAID1:0:MOCKED", "RAID1:1:ftp:x"], /RAID1 node 1: invalid blockstore type `ftp`/],
    [["RAID1:0:RAID0:0:MOCKED", "RAID1:1:MOCKED"], /RAID1 node 0: invalid blockstore type `RAID0`/],
    [["RAID1:0"], /invalid blockstore type `RAID1`/],
    [[], /no blockstore/],
  ])("rejects %j", (values, message) => {
    expect(error(values)).toMatch(message);
  });

  it("never echoes a secret in its errors", () => {
    expect(error(["s3::r:b:TOPSECRET"])).not.toContain("TOPSECRET");
  });
});

describe("unescaped URLs in an S3 or Swift config", () => {
  it("says to write https\\:// when a URL's colons are not escaped, quoting no secret", () => {
    const message = error(["s3:https://s3.example:9000:eu-west-1:bucket:key:s3cret"]);
    expect(message).toContain("the colons of a URL must be escaped: write `https\\://host`, and `\\:` before a port");
    expect(message).not.toContain("s3cret");
    expect(error(["swift:http://swift.example/auth/v1.0:tenant:container:user:pa55"])).toContain("write `http\\://host`");
  });

  it("says to escape a port's colon when only the port is not escaped", () => {
    const message = error(["s3:https\\://s3.example:9000:eu-west-1:bucket:key:s3cret"]);
    expect(message).toContain("a colon inside a field (a URL's port) must be written `\\:`");
    expect(message).not.toContain("s3cret");
  });

  it("adds no hint when the field count is wrong for another reason", () => {
    expect(error(["s3:eu-west-1:bucket:key:secret"])).toMatch(/expected 5\), must be `s3:\[<endpoint_url>\]:<region>:<bucket>:<key>:<secret>`$/);
    expect(ok(["s3:https\\://s3.example\\:9000:eu-west-1:bucket:key:secret"])).toMatchObject({ endpointUrl: "https://s3.example:9000" });
  });
});
