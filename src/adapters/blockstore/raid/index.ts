import { BlockStoreError, type BlockStore } from "../../../application/ports/index.js";
import type { BlockID, OrganizationID } from "../../../domain/ids.js";
import { rebuildBlock, splitIntoChunks, xorChunks } from "./chunks.js";

export { rebuildBlock, splitIntoChunks, xorChunks } from "./chunks.js";

/** Options of the RAID block stores. */
export interface RaidOptions {
  /**
   * RAID1 and RAID5 `create`: succeed although a node failed, as long as the block can still be read (RAID1: one node
   * wrote it; RAID5: at most one node failed). Parsec's `partial_create_ok`, off by default: then any node failure
   * fails the creation (the client retries it; creations are idempotent).
   */
  readonly partialCreateOk?: boolean;
  /**
   * Told of each node failure the store worked around or that failed an operation, with the node's index (0-based)
   * and the node's error (whose message never holds credentials).
   */
  readonly onNodeError?: (node: number, operation: "read" | "create", err: BlockStoreError) => void;
}

/** `err` as a {@link BlockStoreError} naming the RAID node. */
const nodeError = (kind: string, node: number, err: unknown): BlockStoreError =>
  err instanceof BlockStoreError
    ? new BlockStoreError(`${kind} node ${node}: ${err.message}`, { cause: err })
    : new BlockStoreError(`${kind} node ${node}: ${(err as Error)?.message ?? String(err)}`, { cause: err });

/** What one node did: its value, or its failure. */
type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: BlockStoreError };

const settle = <T>(kind: string, node: number, work: () => Promise<T>): Promise<Settled<T>> =>
  Promise.resolve()
    .then(work)
    .then(
      (value) => ({ ok: true as const, value }),
      (err: unknown) => ({ ok: false as const, error: nodeError(kind, node, err) }),
    );

const requireNodes = (kind: string, nodes: readonly BlockStore[], minimum: number): void => {
  if (nodes.length < minimum) throw new RangeError(`${kind} needs at least ${minimum} nodes, got ${nodes.length}`);
};

/**
 * RAID0 (`--blockstore RAID0:<i>:<config>` …): each block lives on one node, chosen by its id as a 128-bit integer
 * modulo the number of nodes (Parsec's layout). A failing node fails the blocks it holds.
 */
export class Raid0BlockStore implements BlockStore {
  constructor(private readonly nodes: readonly BlockStore[]) {
    requireNodes("RAID0", nodes, 2);
  }

  /** The index of the node that holds `blockId` (32 hex digits). */
  nodeOf(blockId: BlockID): number {
    return Number(BigInt(`0x${blockId}`) % BigInt(this.nodes.length));
  }

  async read(organizationId: OrganizationID, blockId: BlockID): Promise<Buffer | null> {
    const node = this.nodeOf(blockId);
    const result = await settle("RAID0", node, () => this.nodes[node]!.read(organizationId, blockId));
    if (!result.ok) throw result.error;
    return result.value;
  }

  async create(organizationId: OrganizationID, blockId: BlockID, data: Buffer): Promise<void> {
    const node = this.nodeOf(blockId);
    const result = await settle("RAID0", node, () => this.nodes[node]!.create(organizationId, blockId, data));
    if (!result.ok) throw result.error;
  }
}

/**
 * RAID1 (mirroring): `create` writes to every node at once; `read` asks every node at once and answers with the first
 * payload that comes back (a node that fails, hangs or lacks the block does not delay it). A read answers null only
 * when every node answered that it has no such block.
 */
export class Raid1BlockStore implements BlockStore {
  constructor(
    private readonly nodes: readonly BlockStore[],
    private readonly options: RaidOptions = {},
  ) {
    requireNodes("RAID1", nodes, 2);
  }

  read(organizationId: OrganizationID, blockId: BlockID): Promise<Buffer | null> {
    return new Promise((resolve, reject) => {
      let pending = this.nodes.length;
      let missing = 0;
      let done = false;
      const errors: BlockStoreError[] = [];
      this.nodes.forEach((store, node) => {
        void settle("RAID1", node, () => store.read(organizationId, blockId)).then((result) => {
          pending -= 1;
          if (!result.ok) {
            errors.push(result.error);
            this.options.onNodeError?.(node, "read", result.error);
          } else if (result.value === null) missing += 1;
          else if (!done) {
            done = true;
            resolve(result.value);
          }
          if (pending > 0 || done) return;
          done = true;
          if (missing === this.nodes.length) resolve(null);
          else reject(new BlockStoreError(`RAID1: no node could read the block (${errors.map((e) => e.message).join("; ")})`));
        });
      });
    });
  }

  async create(organizationId: OrganizationID, blockId: BlockID, data: Buffer): Promise<void> {
    const results = await Promise.all(this.nodes.map((store, node) => settle("RAID1", node, () => store.create(organizationId, blockId, data))));
    const failed = results.flatMap((r, node) => (r.ok ? [] : [{ node, error: r.error }]));
    for (const { node, error } of failed) this.options.onNodeError?.(node, "create", error);
    if (failed.length === 0) return;
    if (this.options.partialCreateOk && failed.length < this.nodes.length) return;
    throw new BlockStoreError(`RAID1: ${failed.map((f) => f.error.message).join("; ")}`);
  }
}

/**
 * RAID5: with N nodes, nodes 0..N-2 hold the data chunks of every block and node N-1 their XOR parity (Parsec's
 * layout, see `chunks.ts`). `read` asks the data nodes, and the parity node only when one data node fails or lacks
 * its chunk: any one node missing, the block reads back identical. Two nodes missing: {@link BlockStoreError}.
 * `create` writes every chunk at once.
 */
export class Raid5BlockStore implements BlockStore {
  constructor(
    private readonly nodes: readonly BlockStore[],
    private readonly options: RaidOptions = {},
  ) {
    requireNodes("RAID5", nodes, 3);
  }

  async read(organizationId: OrganizationID, blockId: BlockID): Promise<Buffer | null> {
    const dataNodes = this.nodes.length - 1;
    const results = await Promise.all(
      this.nodes.slice(0, dataNodes).map((store, node) => settle("RAID5", node, () => store.read(organizationId, blockId))),
    );
    const chunks = results.map((r) => (r.ok ? r.value : null));
    // No node has any chunk of it: an unknown block.
    if (results.every((r) => r.ok && r.value === null)) return null;
    const absent = results.flatMap((r, node) => (r.ok && r.value !== null ? [] : [{ node, error: r.ok ? new BlockStoreError(`RAID5 node ${node}: chunk missing`) : r.error }]));
    for (const { node, error } of absent) this.options.onNodeError?.(node, "read", error);
    if (absent.length > 1) throw new BlockStoreError(`RAID5: ${absent.length} nodes failed (${absent.map((a) => a.error.message).join("; ")})`);
    let parity: Buffer | null = null;
    if (absent.length === 1) {
      const parityNode = dataNodes;
      const result = await settle("RAID5", parityNode, () => this.nodes[parityNode]!.read(organizationId, blockId));
      if (!result.ok || result.value === null) {
        const error = result.ok ? new BlockStoreError(`RAID5 node ${parityNode}: chunk missing`) : result.error;
        this.options.onNodeError?.(parityNode, "read", error);
        throw new BlockStoreError(`RAID5: 2 nodes failed (${absent[0]!.error.message}; ${error.message})`);
      }
      parity = result.value;
    }
    try {
      return rebuildBlock(chunks, parity);
    } catch (err) {
      throw new BlockStoreError(`RAID5: chunks do not make a block (${(err as Error).message})`, { cause: err });
    }
  }

  async create(organizationId: OrganizationID, blockId: BlockID, data: Buffer): Promise<void> {
    const chunks = splitIntoChunks(data, this.nodes.length - 1);
    const pieces = [...chunks, xorChunks(chunks)];
    const results = await Promise.all(this.nodes.map((store, node) => settle("RAID5", node, () => store.create(organizationId, blockId, pieces[node]!))));
    const failed = results.flatMap((r, node) => (r.ok ? [] : [{ node, error: r.error }]));
    for (const { node, error } of failed) this.options.onNodeError?.(node, "create", error);
    if (failed.length === 0) return;
    if (this.options.partialCreateOk && failed.length === 1) return;
    throw new BlockStoreError(`RAID5: ${failed.map((f) => f.error.message).join("; ")}`);
  }
}

/**
 * `store` with each call bounded by `timeoutMs`: a node that does not answer in time fails the call with a
 * {@link BlockStoreError} (its late answer is ignored), so that a silent node cannot hang a session or a RAID read.
 */
export class TimeoutBlockStore implements BlockStore {
  constructor(
    private readonly store: BlockStore,
    private readonly timeoutMs: number,
  ) {}

  private bounded<T>(what: string, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BlockStoreError(`${what} not answered within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
      Promise.resolve()
        .then(work)
        .then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (err: unknown) => {
            clearTimeout(timer);
            reject(err);
          },
        );
    });
  }

  read(organizationId: OrganizationID, blockId: BlockID): Promise<Buffer | null> {
    return this.bounded("read", () => this.store.read(organizationId, blockId));
  }

  create(organizationId: OrganizationID, blockId: BlockID, data: Buffer): Promise<void> {
    return this.bounded("create", () => this.store.create(organizationId, blockId, data));
  }
}
