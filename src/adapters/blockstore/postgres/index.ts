import { sql, type CommonQueryMethods } from "slonik";
import { z } from "zod";
import { BlockStoreError, type BlockStore } from "../../../application/ports/index.js";
import type { BlockID, OrganizationID } from "../../../domain/ids.js";
import { Batcher } from "../../support/index.js";

const DATA_ROW = z.object({ i: z.number().int(), data: z.instanceof(Buffer) });

/**
 * {@link BlockStore} in a table of the `--db` database (`--blockstore=POSTGRESQL`, table `block_data` of migration
 * 0003). The first write of a block id wins (`ON CONFLICT DO NOTHING`): a second write never replaces a payload.
 * The concurrent reads of every session share one query per batch. Database failures are {@link BlockStoreError}s
 * (the block commands then answer `timeout`).
 */
export class PostgresBlockStore implements BlockStore {
  private readonly reads: Batcher<{ organizationId: OrganizationID; blockId: BlockID }, Buffer | null>;

  /** @param db The server's slonik pool. */
  constructor(private readonly db: CommonQueryMethods) {
    this.reads = new Batcher(
      async (keys) => {
        const rows = await this.db.any(sql.type(DATA_ROW)`
          SELECT q.i, d.data
          FROM unnest(${sql.array(keys.map((k) => k.organizationId), "text")}, ${sql.array(keys.map((k) => k.blockId), "uuid")})
            WITH ORDINALITY AS q (organization_id, block_id, i)
          CROSS JOIN LATERAL (
            SELECT data FROM block_data WHERE organization_id = q.organization_id AND block_id = q.block_id OFFSET 0
          ) d`);
        const found: (Buffer | null)[] = keys.map(() => null);
        for (const row of rows) found[row.i - 1] = row.data;
        return found;
      },
      // Payloads are up to 512 KiB: smaller batches keep a reply's wait for its batch short.
      { maxSize: 16 },
    );
  }

  async read(organizationId: OrganizationID, blockId: BlockID): Promise<Buffer | null> {
    try {
      return await this.reads.load({ organizationId, blockId });
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
