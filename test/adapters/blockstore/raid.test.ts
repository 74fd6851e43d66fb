import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryBlockStore } from "../../../src/adapters/blockstore/memory/index.js";
import {
  Raid0BlockStore,
  Raid1BlockStore,
  Raid5BlockStore,
  rebuildBlock,
  splitIntoChunks,
  TimeoutBlockStore,
  xorChunks,
  type RaidOptions,
} from "../../../src/adapters/blockstore/raid/index.js";
import { BlockStoreError, type BlockStore } from "../../../src/application/ports/index.js";
import type { BlockID, OrganizationID } from "../../../src/domain/ids.js";
import { blockStoreContract } from "../../contract/index.js";

const ORG = "RaidOrg" as OrganizationID;
const newBlockId = () => randomBytes(16).toString("hex") as BlockID;

/** A memory node that can be made to fail every call, hang, or forget what it holds. */
class FaultyNode implements BlockStore {
  readonly memory = new MemoryBlockStore();
  mode: "ok" | "error" | "hang" | "forget" = "ok";
  calls = 0;

  private async guard(): Promise<void> {
    this.calls += 1;
    if (this.mode === "error") throw new BlockStoreError("connection refused");
    if (this.mode === "hang") await new Promise<never>(() => undefined);
  }

  async read(organizationId: OrganizationID, blockId: BlockID): Promise<Buffer | null> {
    await this.guard();
    return this.mode === "forget" ? null : this.memory.read(organizationId, blockId);
  }

  async create(organizationId: OrganizationID, blockId: BlockID, data: Buffer): Promise<void> {
    await this.guard();
    if (this.mode !== "forget") await this.memory.create(organizationId, blockId, data);
  }
}

const nodes = (count: number) => Array.from({ length: count }, () => new FaultyNode());
/** Each node bounded by 100 ms, as the composition bounds real nodes. */
const bounded = (faulty: readonly FaultyNode[]) => faulty.map((node) => new TimeoutBlockStore(node, 100));

describe("RAID5 chunk layout (Parsec's)", () => {
  it("prefixes the length, pads with zeros, cuts into equal chunks, XORs the parity", () => {
    const chunks = splitIntoChunks(Buffer.from("abc"), 2);
    expect(chunks.map((c) => c.toString("hex"))).toEqual(["00000003", "61626300"]);
    expect(xorChunks(chunks).toString("hex")).toBe("61626303");
    // 4 bytes of prefix in 3 chunks: 2 bytes each, 2 of padding.
    expect(splitIntoChunks(Buffer.alloc(0), 3).map((c) => c.toString("hex"))).toEqual(["0000", "0000", "0000"]);
    expect(splitIntoChunks(Buffer.from("abcd"), 4).map((c) => c.toString("hex"))).toEqual(["0000", "0004", "6162", "6364"]);
  });

  it("rebuilds any block from its chunks with any one of them missing", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.integer({ min: 2, max: 6 }), fc.nat(), (bytes, dataChunks, pick) => {
        const block = Buffer.from(bytes);
        const chunks = splitIntoChunks(block, dataChunks);
        expect(new Set(chunks.map((c) => c.length)).size).toBe(1);
        const parity = xorChunks(chunks);
        expect(rebuildBlock(chunks, null).equals(block)).toBe(true);
        const missing = pick % dataChunks;
        expect(rebuildBlock(chunks.map((c, i) => (i === missing ? null : c)), parity).equals(block)).toBe(true);
      }),
    );
  });

  it("refuses two missing chunks, a missing parity, and a length prefix beyond the payload", () => {
    const chunks = splitIntoChunks(randomBytes(100), 3);
    expect(() => rebuildBlock([null, null, chunks[2]!], xorChunks(chunks))).toThrow(RangeError);
    expect(() => rebuildBlock([null, chunks[1]!, chunks[2]!], null)).toThrow(RangeError);
    expect(() => rebuildBlock([Buffer.from("ffffffff", "hex"), Buffer.alloc(4)], null)).toThrow(RangeError);
  });
});

describe("RAID block stores on memory nodes", () => {
  blockStoreContract(async () => ({ store: new Raid0BlockStore(nodes(3)) }));
  blockStoreContract(async () => ({ store: new Raid1BlockStore(nodes(2)) }));
  blockStoreContract(async () => ({ store: new Raid5BlockStore(nodes(3)) }));
  blockStoreContract(async () => ({ store: new Raid5BlockStore(nodes(5)) }));
});

describe("RAID0", () => {
  it("puts a block on the node of its id modulo the node count, and only there", async () => {
    const faulty = nodes(3);
    const raid = new Raid0BlockStore(faulty);
    // 0x…0b = 11: 11 mod 3 = 2.
    const blockId = "0000000000000000000000000000000b" as BlockID;
    expect(raid.nodeOf(blockId)).toBe(2);
    // 2^128 - 1 is a multiple of 3 (2^128 = (-1)^128 = 1 mod 3): no precision lost on the way.
    expect(raid.nodeOf("ffffffffffffffffffffffffffffffff" as BlockID)).toBe(0);
    expect(raid.nodeOf("fffffffffffffffffffffffffffffffe" as BlockID)).toBe(2);
    await raid.create(ORG, blockId, Buffer.from("payload"));
    expect(await faulty[2]!.memory.read(ORG, blockId)).toEqual(Buffer.from("payload"));
    expect(await faulty[0]!.memory.read(ORG, blockId)).toBeNull();
    expect(await faulty[1]!.memory.read(ORG, blockId)).toBeNull();
  });

  it("fails, naming the node, the blocks of a failing node", async () => {
    const faulty = nodes(2);
    const raid = new Raid0BlockStore(faulty);
    const blockId = "00000000000000000000000000000001" as BlockID;
    await raid.create(ORG, blockId, Buffer.from("x"));
    faulty[1]!.mode = "error";
    await expect(raid.read(ORG, blockId)).rejects.toThrow(new BlockStoreError("RAID0 node 1: connection refused"));
  });
});

describe("RAID1", () => {
  it("reads identical bytes with one node failing, hanging or having lost the block", async () => {
    for (const mode of ["error", "hang", "forget"] as const) {
      for (const down of [0, 1]) {
        const faulty = nodes(2);
        const raid = new Raid1BlockStore(bounded(faulty));
        const blockId = newBlockId();
        const payload = randomBytes(4096);
        await raid.create(ORG, blockId, payload);
        faulty[down]!.mode = mode;
        expect((await raid.read(ORG, blockId))?.equals(payload)).toBe(true);
      }
    }
  });

  it("answers null when every node lacks the block, an error when none can answer", async () => {
    const faulty = nodes(2);
    const raid = new Raid1BlockStore(bounded(faulty));
    expect(await raid.read(ORG, newBlockId())).toBeNull();
    faulty[0]!.mode = "error";
    faulty[1]!.mode = "hang";
    await expect(raid.read(ORG, newBlockId())).rejects.toThrow(/RAID1: no node could read the block \(RAID1 node 0: connection refused; RAID1 node 1: read not answered within 0.1 s\)/);
  });

  it("fails a creation when a node fails (Parsec's default), or accepts it with partialCreateOk while one node wrote it", async () => {
    const faulty = nodes(2);
    const reported: [number, string][] = [];
    const options: RaidOptions = { onNodeError: (node, operation) => void reported.push([node, operation]) };
    faulty[1]!.mode = "error";
    await expect(new Raid1BlockStore(faulty, options).create(ORG, newBlockId(), Buffer.from("x"))).rejects.toThrow("RAID1: RAID1 node 1: connection refused");
    expect(reported).toEqual([[1, "create"]]);
    const blockId = newBlockId();
    await new Raid1BlockStore(faulty, { partialCreateOk: true }).create(ORG, blockId, Buffer.from("x"));
    expect(await faulty[0]!.memory.read(ORG, blockId)).toEqual(Buffer.from("x"));
    faulty[0]!.mode = "error";
    await expect(new Raid1BlockStore(faulty, { partialCreateOk: true }).create(ORG, newBlockId(), Buffer.from("x"))).rejects.toThrow(BlockStoreError);
  });
});

describe("RAID5", () => {
  it("reads identical bytes with any one node failing, hanging or having lost its chunk, reporting that node", async () => {
    for (const mode of ["error", "hang", "forget"] as const) {
      for (const down of [0, 1, 2, 3]) {
        const faulty = nodes(4);
        const reported: number[] = [];
        const raid = new Raid5BlockStore(bounded(faulty), { onNodeError: (node) => void reported.push(node) });
        const blockId = newBlockId();
        const payload = randomBytes(512 * 1024 + 3);
        await raid.create(ORG, blockId, payload);
        faulty[down]!.mode = mode;
        const read = await raid.read(ORG, blockId);
        expect(read?.equals(payload)).toBe(true);
        // The parity node is asked only when a data node is missing.
        expect(reported).toEqual(down === 3 ? [] : [down]);
      }
    }
  });

  it("fails with two nodes down, and reads the block intact once they are back", async () => {
    const faulty = nodes(3);
    const raid = new Raid5BlockStore(bounded(faulty));
    const blockId = newBlockId();
    const payload = randomBytes(10_000);
    await raid.create(ORG, blockId, payload);
    faulty[0]!.mode = "error";
    faulty[2]!.mode = "hang";
    await expect(raid.read(ORG, blockId)).rejects.toThrow(/RAID5: 2 nodes failed \(RAID5 node 0: connection refused; RAID5 node 2: read not answered within 0.1 s\)/);
    faulty[1]!.mode = "error";
    await expect(raid.read(ORG, blockId)).rejects.toThrow(BlockStoreError);
    for (const node of faulty) node.mode = "ok";
    expect((await raid.read(ORG, blockId))?.equals(payload)).toBe(true);
  });

  it("answers null for a block no node has", async () => {
    expect(await new Raid5BlockStore(nodes(3)).read(ORG, newBlockId())).toBeNull();
  });

  it("fails a creation when a node fails (Parsec's default); with partialCreateOk tolerates one, and the block reads back", async () => {
    const faulty = nodes(3);
    faulty[1]!.mode = "error";
    await expect(new Raid5BlockStore(faulty).create(ORG, newBlockId(), Buffer.from("x"))).rejects.toThrow("RAID5: RAID5 node 1: connection refused");
    const blockId = newBlockId();
    const payload = randomBytes(999);
    const tolerant = new Raid5BlockStore(faulty, { partialCreateOk: true });
    await tolerant.create(ORG, blockId, payload);
    faulty[1]!.mode = "ok";
    expect((await tolerant.read(ORG, blockId))?.equals(payload)).toBe(true);
    faulty[0]!.mode = "error";
    faulty[2]!.mode = "error";
    await expect(tolerant.create(ORG, newBlockId(), payload)).rejects.toThrow(BlockStoreError);
  });
});

describe("TimeoutBlockStore", () => {
  it("fails a call not answered in time, and passes answers and errors through", async () => {
    const node = new FaultyNode();
    const store = new TimeoutBlockStore(node, 50);
    const blockId = newBlockId();
    await store.create(ORG, blockId, Buffer.from("y"));
    expect(await store.read(ORG, blockId)).toEqual(Buffer.from("y"));
    node.mode = "error";
    await expect(store.read(ORG, blockId)).rejects.toThrow("connection refused");
    node.mode = "hang";
    await expect(store.read(ORG, blockId)).rejects.toThrow("read not answered within 0.05 s");
    await expect(store.create(ORG, blockId, Buffer.from("y"))).rejects.toThrow("create not answered within 0.05 s");
  });
});
