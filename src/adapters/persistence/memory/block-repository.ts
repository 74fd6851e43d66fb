import type { BlockRepository, Tx } from "../../../application/ports/index.js";
import type { BlockMeta } from "../../../domain/block/index.js";
import type { BlockID, OrganizationID, RealmID } from "../../../domain/ids.js";
import type { DateTime } from "../../../domain/time.js";
import type { MemoryTx } from "./unit-of-work.js";

/** {@link BlockRepository} in memory: block metadata per organization (payloads are in the block store). */
export class MemoryBlockRepository implements BlockRepository {
  private readonly blocks = new Map<OrganizationID, Map<BlockID, BlockMeta>>();

  private of(organizationId: OrganizationID): Map<BlockID, BlockMeta> {
    let map = this.blocks.get(organizationId);
    if (!map) this.blocks.set(organizationId, (map = new Map()));
    return map;
  }

  async get(organizationId: OrganizationID, blockId: BlockID): Promise<BlockMeta | null> {
    return this.blocks.get(organizationId)?.get(blockId) ?? null;
  }

  async create(tx: Tx, organizationId: OrganizationID, block: BlockMeta): Promise<"ok" | "already_exists"> {
    const map = this.of(organizationId);
    if (map.has(block.id)) return "already_exists";
    map.set(block.id, block);
    (tx as MemoryTx).onRollback(() => map.delete(block.id));
    return "ok";
  }

  async realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number> {
    let size = 0;
    for (const block of this.blocks.get(organizationId)?.values() ?? []) if (block.realmId === realmId) size += block.size;
    return size;
  }

  async dataSize(organizationId: OrganizationID, at: DateTime): Promise<number> {
    let size = 0;
    for (const block of this.blocks.get(organizationId)?.values() ?? []) if (!block.createdOn.isAfter(at)) size += block.size;
    return size;
  }
}
