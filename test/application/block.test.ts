import { describe, expect, it } from "vitest";
import type { AuthenticatedSession } from "../../src/application/index.js";
import { BlockStoreError, type BlockStore } from "../../src/application/ports/index.js";
import { BlockID, RealmID } from "../../src/domain/ids.js";
import type { MaintenanceType, Realm } from "../../src/domain/realm/index.js";
import { buildTestApp, orgId, type TestApp, type TestAppOptions } from "../support/app.js";
import { fakeSession, parsed, realmWithGrants, storeRealm, type Grant } from "../support/world.js";

const ORG = orgId("CoolOrg");
const realmId = parsed(RealmID.parse("0000000000000000000000000000000a"));
const blockId = parsed(BlockID.parse("0000000000000000000000000000000b"));
const otherBlockId = parsed(BlockID.parse("0000000000000000000000000000000c"));
const DATA = Buffer.from("Hodi ho !");

/** An authenticated session of `raw` (`user@device`) in {@link ORG}; block use cases only read its ids. */
const session = fakeSession;

const alice = session("alice@dev1");
const bob = session("bob@dev1");

/** Saves the realm with `grants` (in order) and an optional maintenance, straight through the repository. */
const saveRealm = async (t: TestApp, grants: readonly Grant[], maintenance: MaintenanceType | null = null): Promise<Realm> => {
  const realm = realmWithGrants(t, realmId, grants, { maintenance });
  await storeRealm(t, ORG, realm);
  return realm;
};

/** A test app whose realm has alice as OWNER (plus `grants`). */
const setup = async (options: TestAppOptions = {}, grants: readonly Grant[] = [], maintenance: MaintenanceType | null = null) => {
  const t = buildTestApp(options);
  await saveRealm(t, [["alice", "OWNER"], ...grants], maintenance);
  return t;
};

/** A block store whose every call fails like an unreachable node. */
const failingStore: BlockStore = {
  read: async () => {
    throw new BlockStoreError("node down");
  },
  create: async () => {
    throw new BlockStoreError("node down");
  },
};

const create = (t: TestApp, who: AuthenticatedSession, id = blockId, data = DATA) =>
  t.app.createBlock(who, { blockId: id, realmId, block: data });

describe("createBlock (block_create)", () => {
  it("stores the payload and records realm, size, author and creation time", async () => {
    const t = await setup();
    expect(await create(t, alice)).toEqual({ kind: "ok" });
    expect(await t.deps.blockStore.read(ORG, blockId)).toEqual(DATA);
    expect(await t.deps.blocks.exists(ORG, blockId)).toBe(true);
    expect((await t.deps.blocks.getForRead(ORG, blockId, alice.userId))?.meta).toEqual({ id: blockId, realmId, size: DATA.length, author: alice.deviceId, createdOn: t.clock.now() });
    expect(await t.app.readBlock(alice, blockId)).toEqual({ kind: "ok", block: DATA });
  });

  it("answers not_found when the realm does not exist", async () => {
    const t = buildTestApp();
    expect(await create(t, alice)).toEqual({ kind: "not_found" });
    expect(await t.deps.blocks.exists(ORG, blockId)).toBe(false);
  });

  it("needs CONTRIBUTOR or above: not_allowed for non-members, READERs and removed members", async () => {
    const t = await setup({}, [
      ["bob", "READER"],
      ["carl", "CONTRIBUTOR"],
      ["dave", "MANAGER"],
      ["eve", "CONTRIBUTOR"],
      ["eve", null],
    ]);
    expect(await create(t, session("zack@dev1"))).toEqual({ kind: "not_allowed" });
    expect(await create(t, bob)).toEqual({ kind: "not_allowed" });
    expect(await create(t, session("eve@dev1"))).toEqual({ kind: "not_allowed" });
    expect(await t.deps.blockStore.read(ORG, blockId)).toBeNull();
    expect(await create(t, session("carl@dev1"), blockId)).toEqual({ kind: "ok" });
    expect(await create(t, session("dave@dev1"), otherBlockId)).toEqual({ kind: "ok" });
  });

  it.each<MaintenanceType>(["REENCRYPTION", "GARBAGE_COLLECTION"])("answers in_maintenance during a %s maintenance, before already_exists", async (type) => {
    const t = await setup();
    expect(await create(t, alice)).toEqual({ kind: "ok" });
    await saveRealm(t, [["alice", "OWNER"]], type);
    expect(await create(t, alice, otherBlockId)).toEqual({ kind: "in_maintenance" });
    expect(await create(t, alice, blockId)).toEqual({ kind: "in_maintenance" });
  });

  it("checks the role before the maintenance", async () => {
    const t = await setup({}, [], "REENCRYPTION");
    expect(await create(t, bob)).toEqual({ kind: "not_allowed" });
  });

  it("answers already_exists for a taken id and keeps the first payload", async () => {
    const t = await setup();
    expect(await create(t, alice)).toEqual({ kind: "ok" });
    expect(await create(t, alice, blockId, Buffer.from("other"))).toEqual({ kind: "already_exists" });
    expect(await t.app.readBlock(alice, blockId)).toEqual({ kind: "ok", block: DATA });
  });

  it("lets one of two concurrent creations of one id win", async () => {
    const t = await setup();
    const outcomes = await Promise.all([create(t, alice), create(t, alice)]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(["already_exists", "ok"]);
  });

  it("pairs the winner's metadata with the winner's payload when concurrent creations of one id carry different payloads", async () => {
    // A slow store that records each write it is given: the loser must not write at all.
    const writes: Buffer[] = [];
    const payloads = new Map<string, Buffer>();
    const slowStore: BlockStore = {
      read: async (org, id) => payloads.get(`${org}/${id}`) ?? null,
      create: async (org, id, data) => {
        writes.push(data);
        await new Promise((resolve) => setTimeout(resolve, 5));
        payloads.set(`${org}/${id}`, data);
      },
    };
    const t = await setup({ blockStore: slowStore }, [["bob", "CONTRIBUTOR"]]);
    const [fromAlice, fromBob] = [Buffer.from("alice's payload"), Buffer.from("bob's payload, longer")];
    const outcomes = await Promise.all([create(t, alice, blockId, fromAlice), create(t, bob, blockId, fromBob)]);
    expect(outcomes).toEqual([{ kind: "ok" }, { kind: "already_exists" }]);
    expect(writes).toEqual([fromAlice]);
    const stored = await t.deps.blocks.getForRead(ORG, blockId, alice.userId);
    expect(stored?.meta).toMatchObject({ author: alice.deviceId, size: fromAlice.length });
    expect(await t.app.readBlock(bob, blockId)).toEqual({ kind: "ok", block: fromAlice });
    // Another id is not held up by the first one, and a failed creation does not block the next one of its id.
    expect(await create(t, alice, otherBlockId)).toEqual({ kind: "ok" });
  });

  it("lets a creation of an id go on after an earlier creation of the same id failed in the store", async () => {
    let failNext = true;
    const payloads = new Map<string, Buffer>();
    const flakyStore: BlockStore = {
      read: async (org, id) => payloads.get(`${org}/${id}`) ?? null,
      create: async (org, id, data) => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        if (failNext) {
          failNext = false;
          throw new BlockStoreError("node down");
        }
        payloads.set(`${org}/${id}`, data);
      },
    };
    const t = await setup({ blockStore: flakyStore });
    const outcomes = await Promise.all([create(t, alice), create(t, alice)]);
    expect(outcomes).toEqual([{ kind: "timeout" }, { kind: "ok" }]);
    expect(await t.app.readBlock(alice, blockId)).toEqual({ kind: "ok", block: DATA });
  });

  it("answers timeout on a block store failure and records no metadata", async () => {
    const t = await setup({ blockStore: failingStore });
    expect(await create(t, alice)).toEqual({ kind: "timeout" });
    expect(await t.deps.blocks.exists(ORG, blockId)).toBe(false);
    expect(await t.deps.blocks.dataSize(ORG, t.clock.now())).toBe(0);
  });

  it("lets an unexpected error (a bug, not a store failure) propagate", async () => {
    const t = await setup({
      blockStore: {
        read: async () => null,
        create: async () => {
          throw new TypeError("bug");
        },
      },
    });
    await expect(create(t, alice)).rejects.toThrow(TypeError);
  });

  it("re-checks access in the unit of work: a role removed while the payload was uploading wins", async () => {
    let t!: TestApp;
    const store: BlockStore = {
      read: async () => null,
      create: async () => {
        await saveRealm(t, [
          ["alice", "OWNER"],
          ["bob", "CONTRIBUTOR"],
          ["bob", null],
        ]);
      },
    };
    t = await setup({ blockStore: store }, [["bob", "CONTRIBUTOR"]]);
    expect(await create(t, bob)).toEqual({ kind: "not_allowed" });
    expect(await t.deps.blocks.exists(ORG, blockId)).toBe(false);
  });
});

describe("readBlock (block_read)", () => {
  it("answers not_found for an unknown block", async () => {
    const t = await setup();
    expect(await t.app.readBlock(alice, blockId)).toEqual({ kind: "not_found" });
  });

  it("lets every role read, and nobody else", async () => {
    const t = await setup();
    expect(await create(t, alice)).toEqual({ kind: "ok" });
    expect(await t.app.readBlock(bob, blockId)).toEqual({ kind: "not_allowed" });
    for (const role of ["READER", "CONTRIBUTOR", "MANAGER", "OWNER"] as const) {
      await saveRealm(t, [
        ["alice", "OWNER"],
        ["bob", role],
      ]);
      expect(await t.app.readBlock(bob, blockId)).toEqual({ kind: "ok", block: DATA });
    }
    await saveRealm(t, [
      ["alice", "OWNER"],
      ["bob", "READER"],
      ["bob", null],
    ]);
    expect(await t.app.readBlock(bob, blockId)).toEqual({ kind: "not_allowed" });
  });

  it("does not see blocks of another organization", async () => {
    const t = await setup();
    expect(await create(t, alice)).toEqual({ kind: "ok" });
    expect(await t.app.readBlock(session("alice@dev1", orgId("OtherOrg")), blockId)).toEqual({ kind: "not_found" });
  });

  it("still reads during a re-encryption, not during another maintenance", async () => {
    const t = await setup();
    expect(await create(t, alice)).toEqual({ kind: "ok" });
    await saveRealm(t, [["alice", "OWNER"]], "REENCRYPTION");
    expect(await t.app.readBlock(alice, blockId)).toEqual({ kind: "ok", block: DATA });
    await saveRealm(t, [["alice", "OWNER"]], "GARBAGE_COLLECTION");
    expect(await t.app.readBlock(alice, blockId)).toEqual({ kind: "in_maintenance" });
  });

  it("answers timeout when the block store fails or has lost the payload", async () => {
    const failing = { ...failingStore, create: async () => {} } satisfies BlockStore;
    const t = await setup({ blockStore: failing });
    expect(await create(t, alice)).toEqual({ kind: "ok" });
    expect(await t.app.readBlock(alice, blockId)).toEqual({ kind: "timeout" });

    const forgetful = await setup({ blockStore: { read: async () => null, create: async () => {} } });
    expect(await create(forgetful, alice)).toEqual({ kind: "ok" });
    expect(await forgetful.app.readBlock(alice, blockId)).toEqual({ kind: "timeout" });
  });
});

describe("readBlock: the payload read", () => {
  /** A block store whose reads never answer, counting them (creates are kept in memory). */
  const stalledStore = () => {
    const kept = new Map<string, Buffer>();
    const store = {
      reads: 0,
      read: async () => {
        store.reads += 1;
        return new Promise<Buffer | null>(() => undefined);
      },
      create: async (_organizationId: unknown, id: BlockID, data: Buffer) => void kept.set(id, data),
    };
    return store;
  };

  it("asks the block store at the same time as the check, and refuses without waiting for the store", async () => {
    const store = stalledStore();
    const t = await setup({ blockStore: store });
    expect(await create(t, alice)).toEqual({ kind: "ok" });
    // The store never answers: only a refusal decided by the check alone can come back.
    expect(await t.app.readBlock(bob, blockId)).toEqual({ kind: "not_allowed" });
    expect(await t.app.readBlock(alice, otherBlockId)).toEqual({ kind: "not_found" });
    expect(store.reads).toBe(2);
    await saveRealm(t, [["alice", "OWNER"]], "GARBAGE_COLLECTION");
    expect(await t.app.readBlock(alice, blockId)).toEqual({ kind: "in_maintenance" });
    expect(t.reportedErrors).toEqual([]);
  });

  it("answers a refusal, and reports nothing, when the store's read fails for a block the reader may not see", async () => {
    const failing = { ...failingStore, create: async () => {} } satisfies BlockStore;
    const t = await setup({ blockStore: failing });
    expect(await create(t, alice)).toEqual({ kind: "ok" });
    expect(await t.app.readBlock(bob, blockId)).toEqual({ kind: "not_allowed" });
    expect(await t.app.readBlock(alice, otherBlockId)).toEqual({ kind: "not_found" });
    expect(t.reportedErrors).toEqual([]);
    expect(await t.app.readBlock(alice, blockId)).toEqual({ kind: "timeout" });
    expect(t.reportedErrors).toEqual([{ message: "Block store read failed", context: { organizationId: ORG, blockId, cause: "node down" } }]);
  });

  it("takes the payload from a repository that reads payloads, without asking the block store", async () => {
    const store = stalledStore();
    const payloads = new Map<BlockID, Buffer | null>([[blockId, DATA]]);
    const t = await setup({
      blockStore: store,
      overrides: (base) => ({
        blocks: Object.assign(Object.create(base.blocks) as typeof base.blocks, {
          readsPayloads: true,
          getForRead: async (...args: Parameters<typeof base.blocks.getForRead>) => {
            const found = await base.blocks.getForRead(...args);
            return found && { ...found, payload: payloads.get(found.meta.id) ?? null };
          },
        }),
      }),
    });
    expect(await create(t, alice)).toEqual({ kind: "ok" });
    expect(await t.app.readBlock(alice, blockId)).toEqual({ kind: "ok", block: DATA });
    expect(await t.app.readBlock(bob, blockId)).toEqual({ kind: "not_allowed" });
    expect(store.reads).toBe(0);
    // Metadata without its payload: a storage fault, reported.
    payloads.set(blockId, null);
    expect(await t.app.readBlock(alice, blockId)).toEqual({ kind: "timeout" });
    expect(t.reportedErrors).toEqual([{ message: "Block payload missing from the block store", context: { organizationId: ORG, blockId } }]);
    expect(store.reads).toBe(0);
  });
});

describe("block sizes (MemoryBlockRepository)", () => {
  it("sums the realm's blocks, and the organization's blocks created at or before `at`", async () => {
    const t = await setup();
    const t0 = t.clock.now();
    expect(await create(t, alice, blockId, Buffer.alloc(10))).toEqual({ kind: "ok" });
    t.clock.advance(60);
    expect(await create(t, alice, otherBlockId, Buffer.alloc(5))).toEqual({ kind: "ok" });
    expect(await t.deps.blocks.realmSize(ORG, realmId)).toBe(15);
    expect(await t.deps.blocks.dataSize(ORG, t.clock.now())).toBe(15);
    expect(await t.deps.blocks.dataSize(ORG, t0)).toBe(10);
    expect(await t.deps.blocks.dataSize(ORG, t0.addSeconds(-1))).toBe(0);
    expect(await t.deps.blocks.dataSize(orgId("OtherOrg"), t.clock.now())).toBe(0);
  });

  it("undoes a creation when its unit of work rolls back", async () => {
    const t = buildTestApp();
    const meta = { id: blockId, realmId, size: 3, author: alice.deviceId, createdOn: t.clock.now() };
    await expect(
      t.deps.uow.run(ORG, async (tx) => {
        await t.deps.blocks.create(tx, ORG, meta);
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await t.deps.blocks.exists(ORG, blockId)).toBe(false);
  });
});
