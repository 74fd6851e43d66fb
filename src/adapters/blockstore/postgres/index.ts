import { sql, type CommonQueryMethods } from "slonik";
import { z } from "zod";
import { BlockStoreError, type BlockStore } from "../../../application/ports/index.js";
import type { BlockID, OrganizationID } from "../../../domain/ids.js";

/** Row schemas of the queries below, built once (a zod schema is costly to build). */
const ROW_1 = z.object({ data: z.instanceof(Buffer) });

/**
 * {@link BlockStore} in a table of the `--db` database (`--blockstore=POSTGRESQL`, table `block_data` of migration
 * 0003). The first write of a block id wins (`ON CONFLICT DO NOTHING`): a second write never replaces a payload.
 * Database failures are {@link BlockStoreError}s (the block commands then answer `timeout`).
 */
export class PostgresBlockStore implements BlockStore {
  /** @param db The server's slonik pool. */
  constructor(private readonly db: CommonQueryMethods) {}

  async read(organizationId: OrganizationID, blockId: BlockID): Promise<Buffer | null> {
    try {
      return await this.db.maybeOneFirst(sql.type(ROW_1)`
        SELECT data FROM block_data WHERE organization_id = ${organizationId} AND block_id = ${blockId}`);
    } catch (err) {
      throw new BlockStoreError(`PostgreSQL block store read failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async create(organizationId: OrganizationID, blockId: BlockID, data: Buffer): Promise<void> {
    try {
      await this.db.query(sql.unsafe`
        INSERT INTO block_data (organization_id, block_id, data) VALUES (${organizationId}, ${blockId}, ${sql.binary(data)})
        ON CONFLICT (organization_id, block_id) DO NOTHING`);
    } catch (err) {
      throw new BlockStoreError(`PostgreSQL block store write failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
