import type { BlockMeta } from "../../domain/block/index.js";
import type { BlockID, OrganizationID, RealmID, UserID } from "../../domain/ids.js";
import type { RealmAccess } from "../../domain/realm/index.js";
import type { DateTime } from "../../domain/time.js";
import type { Tx } from "./unit-of-work.js";

/**
 * What `block_read` needs of a block: its metadata, the reader's access to its realm and, from a repository that
 * {@link BlockRepository.readsPayloads | reads payloads}, the payload itself.
 */
export interface BlockForRead {
  readonly meta: BlockMeta;
  readonly realm: RealmAccess;
  /**
   * Present only from a repository that reads payloads: the payload, or null when the block store has lost it (a
   * storage fault: metadata is written after the payload).
   */
  readonly payload?: Buffer | null;
}

/**
 * Persistence of block metadata (which realm a block belongs to, its size, author and creation time);
 * the payloads themselves live in a {@link BlockStore}. Metadata is written only once the payload is
 * stored, so a block with metadata always has a payload (barring a block store losing data).
 */
export interface BlockRepository {
  /** True when the organization has a block with this id. */
  exists(organizationId: OrganizationID, blockId: BlockID, tx?: Tx): Promise<boolean>;
  /**
   * True when the payloads are kept in this repository's own storage (PostgreSQL `--db` with
   * `--blockstore=POSTGRESQL`) and {@link getForRead} returns each one with its metadata, from the same query: then
   * `block_read` does not ask the block store. Absent or false: payloads come from the {@link BlockStore}.
   */
  readonly readsPayloads?: boolean;
  /**
   * `block_read`'s lookup: the block's metadata and `readerId`'s access to its realm (and its payload, see
   * {@link readsPayloads}); null when the block or its realm is unknown. A hot read.
   */
  getForRead(organizationId: OrganizationID, blockId: BlockID, readerId: UserID): Promise<BlockForRead | null>;
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
