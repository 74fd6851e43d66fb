import type { BlockStore } from "../../../application/ports/index.js";
import type { BlockID, OrganizationID } from "../../../domain/ids.js";

/** {@link BlockStore} in memory (`--blockstore=MOCKED`). The first payload written under a block id is kept. */
export class MemoryBlockStore implements BlockStore {
  private readonly blocks = new Map<string, Buffer>();

  async read(organizationId: OrganizationID, blockId: BlockID): Promise<Buffer | null> {
    return this.blocks.get(`${organizationId}/${blockId}`) ?? null;
  }

  async create(organizationId: OrganizationID, blockId: BlockID, data: Buffer): Promise<void> {
    const key = `${organizationId}/${blockId}`;
    if (!this.blocks.has(key)) this.blocks.set(key, Buffer.from(data));
  }
}
