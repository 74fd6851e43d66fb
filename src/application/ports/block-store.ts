import type { BlockID, OrganizationID } from "../../domain/ids.js";

/** Why a block store operation failed (the command then answers `timeout` and the failure is logged). */
export class BlockStoreError extends Error {
  override readonly name = "BlockStoreError";
}

/**
 * Storage of block payloads (encrypted, opaque, up to 512 KiB each): memory, PostgreSQL, S3, Swift,
 * or a RAID 0/1/5 cluster of those. Payloads are immutable once written.
 */
export interface BlockStore {
  /** The payload, or null when this store has no such block. @throws BlockStoreError when the store cannot answer. */
  read(organizationId: OrganizationID, blockId: BlockID): Promise<Buffer | null>;
  /** Stores the payload (idempotent for the same content). @throws BlockStoreError when the store cannot write. */
  create(organizationId: OrganizationID, blockId: BlockID, data: Buffer): Promise<void>;
}
