import type { BlockMeta } from "../../domain/block/index.js";
import type { BlockID, OrganizationID, RealmID } from "../../domain/ids.js";
import type { DateTime } from "../../domain/time.js";
import type { Tx } from "./unit-of-work.js";

/**
 * Persistence of block metadata (which realm a block belongs to, its size, author and creation time);
 * the payloads themselves live in a {@link BlockStore}. Metadata is written only once the payload is
 * stored, so a block with metadata always has a payload (barring a block store losing data).
 */
export interface BlockRepository {
  /** The block's metadata, or null when the organization has no such block. */
  get(organizationId: OrganizationID, blockId: BlockID, tx?: Tx): Promise<BlockMeta | null>;
  /** Records a new block; `already_exists` (and nothing written) when the id is taken in the organization. */
  create(tx: Tx, organizationId: OrganizationID, block: BlockMeta): Promise<"ok" | "already_exists">;
  /** Bytes of every block of the realm (`realm_stats` `blocks_size`). */
  realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number>;
  /** Bytes of every block of the organization created at or before `at` (`data_size`). */
  dataSize(organizationId: OrganizationID, at: DateTime): Promise<number>;
}
