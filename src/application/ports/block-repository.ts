import type { BlockMeta } from "../../domain/block/index.js";
import type { BlockID, OrganizationID, RealmID, UserID } from "../../domain/ids.js";
import type { RealmAccess } from "../../domain/realm/index.js";
import type { DateTime } from "../../domain/time.js";
import type { Tx } from "./unit-of-work.js";

/**
 * Persistence of block metadata (which realm a block belongs to, its size, author and creation time);
 * the payloads themselves live in a {@link BlockStore}. Metadata is written only once the payload is
 * stored, so a block with metadata always has a payload (barring a block store losing data).
 */
export interface BlockRepository {
  /** True when the organization has a block with this id. */
  exists(organizationId: OrganizationID, blockId: BlockID, tx?: Tx): Promise<boolean>;
  /** `block_read`'s lookup: the block's metadata and `readerId`'s access to its realm; null when either is unknown. A hot read. */
  getForRead(organizationId: OrganizationID, blockId: BlockID, readerId: UserID): Promise<{ readonly meta: BlockMeta; readonly realm: RealmAccess } | null>;
  /**
   * Records a new block of a realm the caller holds (`RealmRepository.getAccess` with lock `share`); `already_exists`
   * (nothing written) when the id is taken in the organization.
   */
  create(tx: Tx, organizationId: OrganizationID, block: BlockMeta): Promise<"ok" | "already_exists">;
  /** Bytes of every block of the realm (`realm_stats` `blocks_size`). */
  realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number>;
  /** Bytes of every block of the organization created at or before `at` (`data_size`). */
  dataSize(organizationId: OrganizationID, at: DateTime): Promise<number>;
}
