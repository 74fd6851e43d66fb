import type { BlockForRead, BlockRepository, Tx } from "../../../application/ports/index.js";
import type { BlockMeta } from "../../../domain/block/index.js";
import type { BlockID, OrganizationID, RealmID, UserID } from "../../../domain/ids.js";
import { accessOf } from "../../../domain/realm/index.js";
import type { DateTime } from "../../../domain/time.js";
import type { MemoryStore } from "./store.js";
import type { MemoryTx } from "./unit-of-work.js";

/** {@link BlockRepository} in memory: block metadata per organization (payloads are in the block store). */
export class MemoryBlockRepository implements BlockRepository {
  private readonly blocks = new Map<OrganizationID, Map<BlockID, BlockMeta>>();

  constructor(private readonly store: MemoryStore) {}

  private of(organizationId: OrganizationID): Map<BlockID, BlockMeta> {
    let map = this.blocks.get(organizationId);
    if (!map) this.blocks.set(organizationId, (map = new Map()));
    return map;
  }

  async exists(organizationId: OrganizationID, blockId: BlockID): Promise<boolean> {
    return this.blocks.get(organizationId)?.has(blockId) ?? false;
  }

  async getForRead(organizationId: OrganizationID, blockId: BlockID, readerId: UserID): Promise<BlockForRead | null> {
    const meta = this.blocks.get(organizationId)?.get(blockId);
    const realm = meta && this.store.realms.get(organizationId)?.get(meta.realmId);
    return meta && realm ? { meta, realm: accessOf(realm, readerId) } : null;
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
