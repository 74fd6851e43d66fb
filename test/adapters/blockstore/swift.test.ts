import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Raid1BlockStore, Raid5BlockStore } from "../../../src/adapters/blockstore/raid/index.js";
import { S3BlockStore, type S3BlockStoreOptions } from "../../../src/adapters/blockstore/s3/index.js";
import { SwiftBlockStore, type SwiftBlockStoreOptions } from "../../../src/adapters/blockstore/swift/index.js";
import { BlockStoreError } from "../../../src/application/ports/index.js";
import type { BlockID, OrganizationID } from "../../../src/domain/ids.js";
import { blockStoreContract } from "../../contract/index.js";
import { testSwift } from "../../support/swift.js";

const swift = testSwift();
const ORG = "CoolOrg" as OrganizationID;
let counter = 0;
const blockId = (): BlockID => `${(0x5000 + counter++).toString(16).padStart(8, "0")}aaaabbbbccccddddeeeeffff` as BlockID;

const listen = async <S extends Server | HttpServer>(server: S): Promise<{ server: S; port: number }> => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port };
};

/**
 * The Swift block store against a real OpenStack Swift on loopback (Debian's packages, started by the run's global
 * setup): the block store contract on one container and on a RAID5 of three; Parsec's object names; the start-up
 * check (credentials, container); a token renewed when Swift forgets it. The S3 block store against the same server's
 * S3 API, which, unlike s3rver, checks credentials and signatures.
 */
describe.skipIf(!swift)(`SwiftBlockStore on OpenStack Swift${swift ? "" : " (SKIPPED: Swift is not installed, see the run's first lines)"}`, () => {
  const containers: Record<"main" | "raid0" | "raid1" | "raid2", string> = { main: "", raid0: "", raid1: "", raid2: "" };
  const stores: SwiftBlockStore[] = [];
  const store = (overrides: Partial<SwiftBlockStoreOptions> = {}): SwiftBlockStore => {
    const s = new SwiftBlockStore({
      authUrl: swift!.authUrl,
      tenant: swift!.tenant,
      container: containers.main,
      user: swift!.user,
      password: swift!.password,
      requestTimeoutMs: 5_000,
      ...overrides,
    });
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    for (const key of Object.keys(containers) as (keyof typeof containers)[]) containers[key] = await swift!.createContainer(`swift-${key}`);
  });
  afterAll(() => {
    for (const s of stores) s.destroy();
  });

  blockStoreContract(async () => ({ store: store() }));
  blockStoreContract(async () => ({ store: new Raid5BlockStore([containers.raid0, containers.raid1, containers.raid2].map((container) => store({ container }))) }));

  it("names objects as Parsec does: <organization>/<hyphenated block id>, in the configured container", async () => {
    const id = blockId();
    await store().create(ORG, id, Buffer.from("payload"));
    const uuid = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
    const answer = await swift!.request("GET", `${containers.main}/${ORG}/${uuid}`);
    expect(answer.status).toBe(200);
    expect(Buffer.from(await answer.arrayBuffer())).toEqual(Buffer.from("payload"));
  });

  it("serves an object that was already in the container (an existing Parsec container)", async () => {
    const id = blockId();
    const uuid = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
    expect((await swift!.request("PUT", `${containers.main}/${ORG}/${uuid}`, Buffer.from("written by Parsec"))).status).toBe(201);
    expect(await store().read(ORG, id)).toEqual(Buffer.from("written by Parsec"));
  });

  it("keeps the first payload written under a block id", async () => {
    const id = blockId();
    const s = store();
    await s.create(ORG, id, Buffer.from("first"));
    await s.create(ORG, id, Buffer.from("second"));
    expect(await s.read(ORG, id)).toEqual(Buffer.from("first"));
  });

  it("checks at start-up that the credentials are accepted and that the container exists, naming neither password nor token", async () => {
    await expect(store().checkReady()).resolves.toBeUndefined();
    const refused = await store({ password: "the-wrong-password" }).checkReady().then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(refused).toBeInstanceOf(BlockStoreError);
    expect(refused?.message).toBe(`Swift container ${containers.main} at ${swift!.authUrl}: authentication refused (HTTP 401; check the tenant, user and password)`);
    await expect(store({ tenant: "nosuchtenant" }).checkReady()).rejects.toThrow(/authentication refused/);
    await expect(store({ container: "no-such-container" }).checkReady()).rejects.toThrow(
      new BlockStoreError(`Swift container no-such-container at ${swift!.authUrl}: no such container`),
    );
    // A user of another account: authenticated, but the container is not its own.
    await expect(store({ tenant: "test2", user: "tester2", password: "testing2" }).checkReady()).rejects.toThrow(/no such container/);
  });

  it("fails reads and writes with a BlockStoreError when the credentials are wrong or the container is missing", async () => {
    for (const bad of [store({ password: "the-wrong-password" }), store({ container: "no-such-container" })]) {
      const id = blockId();
      await expect(bad.create(ORG, id, Buffer.from("x"))).rejects.toThrow(BlockStoreError);
      const read = await bad.read(ORG, id).then(
        (value) => ({ value }),
        (err: unknown) => ({ err: err as Error }),
      );
      // A missing container cannot be told from a missing object on GET: the block is then not found.
      if ("err" in read) {
        expect(read.err).toBeInstanceOf(BlockStoreError);
        expect(read.err.message).not.toContain("the-wrong-password");
      } else expect(read.value).toBeNull();
    }
  });

  it("authenticates again when Swift no longer knows the token (401)", async () => {
    const s = store();
    const ids = Array.from({ length: 20 }, blockId);
    await Promise.all(ids.map((id) => s.create(ORG, id, Buffer.from(id))));
    await swift!.revokeTokens();
    const read = await Promise.all(ids.map((id) => s.read(ORG, id)));
    expect(read.map(String)).toEqual(ids);
  });

  it("fails within its request timeout against a server that accepts connections and never answers, and when nothing listens", async () => {
    const { server: silent, port } = await listen(createServer(() => undefined));
    try {
      const s = store({ authUrl: `http://127.0.0.1:${port}/auth/v1.0`, requestTimeoutMs: 300 });
      const started = Date.now();
      await expect(s.read(ORG, blockId())).rejects.toThrow(/authentication failed: no answer within 300 ms/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.close();
    }
    const { server: closed, port: closedPort } = await listen(createServer());
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(store({ authUrl: `http://127.0.0.1:${closedPort}/auth/v1.0` }).checkReady()).rejects.toThrow(/authentication failed: .*ECONNREFUSED/);
  });

  it("fails a read whose storage server hangs after authentication, within the request timeout", async () => {
    // Authentication answers, pointing to a storage URL that never answers.
    const { server: silent, port: silentPort } = await listen(createServer(() => undefined));
    const { server: auth, port } = await listen(
      createHttpServer((_request, response) => {
        response.writeHead(200, { "X-Storage-Url": `http://127.0.0.1:${silentPort}/v1/AUTH_x`, "X-Auth-Token": "tk" }).end();
      }),
    );
    try {
      const s = store({ authUrl: `http://127.0.0.1:${port}/auth/v1.0`, requestTimeoutMs: 300 });
      await expect(s.read(ORG, blockId())).rejects.toThrow(/GET failed: no answer within 300 ms/);
      await expect(s.create(ORG, blockId(), Buffer.alloc(1024))).rejects.toThrow(/PUT failed: no answer within 300 ms/);
    } finally {
      auth.close();
      silent.close();
    }
  });

  it("refuses an object body longer or shorter than announced, or far larger than a block", async () => {
    const cases: [string, (response: import("node:http").ServerResponse) => void][] = [
      ["cut short", (response) => response.writeHead(200, { "Content-Length": "10" }).end("12345")],
      ["too large", (response) => response.writeHead(200, { "Content-Length": String(64 * 1024 * 1024) }).end()],
    ];
    for (const [label, answer] of cases) {
      const { server, port } = await listen(
        createHttpServer((request, response) => {
          if (request.url?.startsWith("/auth")) response.writeHead(200, { "X-Storage-Url": `http://127.0.0.1:${port}/v1/AUTH_x`, "X-Auth-Token": "tk" }).end();
          else answer(response);
        }),
      );
      try {
        const s = store({ authUrl: `http://127.0.0.1:${port}/auth/v1.0`, requestTimeoutMs: 2_000 });
        await expect(s.read(ORG, blockId()), label).rejects.toThrow(BlockStoreError);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    }
  });

  describe("the S3 block store on Swift's S3 API", () => {
    const s3Stores: S3BlockStore[] = [];
    const s3 = (overrides: Partial<S3BlockStoreOptions> = {}): S3BlockStore => {
      const s = new S3BlockStore({
        endpointUrl: swift!.proxyUrl,
        region: "us-east-1",
        bucket: containers.main,
        ...swift!.s3,
        requestTimeoutMs: 5_000,
        ...overrides,
      });
      s3Stores.push(s);
      return s;
    };
    afterAll(() => {
      for (const s of s3Stores) s.destroy();
    });

    // Swift's s3api answers 501 to If-None-Match: plain writes, a second one replaces the object.
    blockStoreContract(async () => ({ store: s3() }), { firstWriteWins: false });
    blockStoreContract(async () => ({ store: new Raid1BlockStore([containers.raid0, containers.raid1].map((bucket) => s3({ bucket }))) }), { firstWriteWins: false });

    it("reads through S3 what was written through Swift, under the same object name", async () => {
      const id = blockId();
      await store().create(ORG, id, Buffer.from("through swift"));
      expect(await s3().read(ORG, id)).toEqual(Buffer.from("through swift"));
    });

    it("refuses a wrong key or secret at start-up and on every request, naming neither", async () => {
      const wrongSecret = s3({ secretAccessKey: "the-wrong-secret" });
      await expect(wrongSecret.checkReady()).rejects.toThrow(
        new BlockStoreError(`S3 bucket ${containers.main} at ${swift!.proxyUrl}: access denied (check the key and secret)`),
      );
      await expect(s3({ accessKeyId: "test:nobody" }).checkReady()).rejects.toThrow(/access denied/);
      for (const attempt of [() => wrongSecret.read(ORG, blockId()), () => wrongSecret.create(ORG, blockId(), Buffer.from("x"))]) {
        const err = await attempt().then(
          () => null,
          (e: unknown) => e as Error,
        );
        expect(err).toBeInstanceOf(BlockStoreError);
        expect(err?.message).toMatch(/(read|write) failed: .*(SignatureDoesNotMatch|AccessDenied)/);
        expect(err?.message).not.toContain("the-wrong-secret");
      }
      await expect(s3({ bucket: "no-such-bucket" }).checkReady()).rejects.toThrow(/no such bucket/);
    });
  });
});

/** A minimal Swift for what a real one cannot be made to do on demand: counts authentications, expires tokens. */
const fakeSwift = async (options: { readonly expiresInSeconds?: number; readonly putStatus?: number }) => {
  let tokens = 0;
  let valid = new Set<string>();
  let refuseEveryToken = false;
  const authentications: string[] = [];
  const objects = new Map<string, Buffer>();
  const { server, port } = await listen(
    createHttpServer((request, response) => {
      if (request.url === "/auth/v1.0") {
        authentications.push(String(request.headers["x-auth-user"]));
        const token = `tk${++tokens}`;
        valid.add(token);
        response
          .writeHead(200, {
            "X-Storage-Url": `http://127.0.0.1:${port}/v1/AUTH_test`,
            "X-Auth-Token": token,
            ...(options.expiresInSeconds !== undefined && { "X-Auth-Token-Expires": String(options.expiresInSeconds) }),
          })
          .end();
        return;
      }
      if (refuseEveryToken || !valid.has(String(request.headers["x-auth-token"]))) return void response.writeHead(401).end();
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const key = request.url!;
        if (request.method === "PUT") {
          if (objects.has(key)) return void response.writeHead(412).end();
          objects.set(key, Buffer.concat(chunks));
          return void response.writeHead(options.putStatus ?? 201).end();
        }
        const object = objects.get(key);
        if (!object) return void response.writeHead(404).end();
        response.writeHead(200, { "Content-Length": object.length }).end(object);
      });
    }),
  );
  return {
    port,
    authentications,
    revoke: () => (valid = new Set()),
    refuseEveryToken: (refuse: boolean) => (refuseEveryToken = refuse),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
};

/** Runs `test` with a {@link fakeSwift} and a store on it (`authSuffix` appended to its auth URL), both closed after. */
const onFakeSwift = async (
  options: Parameters<typeof fakeSwift>[0],
  test: (fake: Awaited<ReturnType<typeof fakeSwift>>, store: (authSuffix?: string) => SwiftBlockStore) => Promise<void>,
): Promise<void> => {
  const fake = await fakeSwift(options);
  const stores: SwiftBlockStore[] = [];
  const store = (authSuffix = "") => {
    const s = new SwiftBlockStore({ authUrl: `http://127.0.0.1:${fake.port}/auth/v1.0${authSuffix}`, tenant: "acme", container: "c", user: "alice", password: "pw" });
    stores.push(s);
    return s;
  };
  try {
    await test(fake, store);
  } finally {
    for (const s of stores) s.destroy();
    fake.close();
  }
};

describe("SwiftBlockStore's Swift v1 session", () => {
  it("authenticates once as <tenant>:<user> for concurrent requests, and once more after a 401", () =>
    onFakeSwift({}, async (fake, store) => {
      const s = store();
      const ids = Array.from({ length: 20 }, blockId);
      await Promise.all(ids.map((id) => s.create(ORG, id, Buffer.from(id))));
      expect(fake.authentications).toEqual(["acme:alice"]);
      fake.revoke();
      expect((await Promise.all(ids.map((id) => s.read(ORG, id)))).map(String)).toEqual(ids);
      expect(fake.authentications).toEqual(["acme:alice", "acme:alice"]);
    }));

  it("renews the token before the expiry the server announced (a minute before, at most half its life)", () =>
    // A token of 1 s: renewed after half a second.
    onFakeSwift({ expiresInSeconds: 1 }, async (fake, store) => {
      const s = store();
      const id = blockId();
      await s.create(ORG, id, Buffer.from("x"));
      await s.read(ORG, id);
      expect(fake.authentications).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await s.read(ORG, id)).toEqual(Buffer.from("x"));
      expect(fake.authentications).toHaveLength(2);
    }));

  it("accepts any 2xx answer to a write (gateways answer 200), and names the auth URL without its query (which may hold a key)", () =>
    onFakeSwift({ putStatus: 200 }, async (fake, store) => {
      const s = store();
      const withKey = store("?key=the-secret-key#x");
      const id = blockId();
      await s.create(ORG, id, Buffer.from("y"));
      expect(await s.read(ORG, id)).toEqual(Buffer.from("y"));
      expect(withKey.description).toBe(`Swift container c at http://127.0.0.1:${fake.port}/auth/v1.0?…`);
      const refused = await withKey.checkReady().then(
        () => null,
        (err: unknown) => err as Error,
      );
      expect(refused?.message).toMatch(/authentication refused/);
      expect(refused?.message).not.toContain("the-secret-key");
    }));

  it("gives up after one renewal when the new token is refused too, and tries again on the next request", () =>
    onFakeSwift({}, async (fake, store) => {
      const s = store();
      await s.create(ORG, blockId(), Buffer.from("x"));
      fake.refuseEveryToken(true);
      await expect(s.read(ORG, blockId())).rejects.toThrow(/read failed: HTTP 401/);
      expect(fake.authentications).toHaveLength(2);
      fake.refuseEveryToken(false);
      expect(await s.read(ORG, blockId())).toBeNull();
      expect(fake.authentications).toHaveLength(2);
    }));
});
