import { z } from "zod";
import type { BlockForRead, BlockRepository, Tx } from "../../../application/ports/index.js";
import type { BlockMeta } from "../../../domain/block/index.js";
import type { BlockID, OrganizationID, RealmID, UserID } from "../../../domain/ids.js";
import type { DateTime } from "../../../domain/time.js";
import { accessColumns, accessFrom, asBlockId, asDeviceId, dt, orgKey, sql, zAccessColumns, zInt } from "./sql.js";
import { Batcher } from "../../support/index.js";
import type { PgUnitOfWork } from "./unit-of-work.js";

/** One `block_read` lookup of a batch. */
interface ReadKey {
  readonly organizationId: OrganizationID;
  readonly blockId: BlockID;
  readonly readerId: UserID;
}

/** Row schemas of the queries below, built once (a zod schema is costly to build). */
const READ_ROW = z.object({
  i: zInt,
  ...zAccessColumns,
  block_id: z.string(),
  size: zInt,
  author: z.string(),
  created_on: zInt,
  data: z.instanceof(Buffer).nullable().optional(),
});
const ID_ROW = z.object({ _id: zInt });
const SIZE_ROW = z.object({ n: zInt });

/**
 * {@link BlockRepository} on PostgreSQL (`block`: metadata only). `getForRead` is one query (the block joined with
 * its realm and the reader's grant, and with `payloads` its payload from `block_data`, the table of the POSTGRESQL
 * block store), shared by the concurrent reads of every session; `create` is `INSERT … ON CONFLICT DO NOTHING`,
 * whose foreign key share-locks the realm row (the caller holds it `share` already).
 */
export class PgBlockRepository implements BlockRepository {
  readonly readsPayloads: boolean;

  /**
   * @param options.payloads The block store is `PostgresBlockStore` on the same database: `getForRead` returns the
   *   payloads too ({@link BlockRepository.readsPayloads}).
   */
  constructor(
    private readonly uow: PgUnitOfWork,
    options: { readonly payloads?: boolean } = {},
  ) {
    this.readsPayloads = options.payloads ?? false;
    const payloadColumn = this.readsPayloads ? sql.fragment`, d.data` : sql.fragment``;
    const payloadJoin = this.readsPayloads
      ? sql.fragment`LEFT JOIN LATERAL (SELECT data FROM block_data WHERE organization_id = q.organization_id AND block_id = q.block_id OFFSET 0) d ON true`
      : sql.fragment``;
    this.reads = new Batcher(
      async (keys) => {
        const rows = await this.uow.connectionOf(null).any(sql.type(READ_ROW)`
          SELECT q.i, ${accessColumns}, b.block_id::text AS block_id, b.size, b.author, b.created_on ${payloadColumn}
          FROM unnest(
            ${sql.array(keys.map((k) => k.organizationId), "text")}, ${sql.array(keys.map((k) => k.blockId), "uuid")},
            ${sql.array(keys.map((k) => k.readerId), "text")}
          ) WITH ORDINALITY AS q (organization_id, block_id, reader, i)
          JOIN organization o ON o.organization_id = q.organization_id
          CROSS JOIN LATERAL (
            SELECT block_id, realm, size, author, created_on FROM block WHERE organization = o._id AND block_id = q.block_id OFFSET 0
          ) b
          JOIN realm r ON r._id = b.realm
          LEFT JOIN LATERAL (SELECT role, granted_on FROM realm_member WHERE realm = r._id AND user_id = q.reader OFFSET 0) m ON true
          ${payloadJoin}`);
        const results: (BlockForRead | null)[] = keys.map(() => null);
        for (const row of rows) {
          const realm = accessFrom(row);
          const meta = { id: asBlockId(row.block_id), realmId: realm.realmId, size: row.size, author: asDeviceId(row.author), createdOn: dt(row.created_on) };
          results[row.i - 1] = this.readsPayloads ? { realm, meta, payload: row.data ?? null } : { realm, meta };
        }
        return results;
      },
      // Payloads are up to 512 KiB: smaller batches keep a reply's wait for its batch short.
      this.readsPayloads ? { maxSize: 16 } : {},
    );
  }

  async exists(organizationId: OrganizationID, blockId: BlockID, tx?: Tx): Promise<boolean> {
    return this.uow.connectionOf(tx).exists(sql.unsafe`SELECT 1 FROM block WHERE organization = ${orgKey(organizationId)} AND block_id = ${blockId}`);
  }

  /** `block_read` lookups of every session, a batch per turn of the event loop: one query for all (see {@link Batcher}). */
  private readonly reads: Batcher<ReadKey, BlockForRead | null>;

  getForRead(organizationId: OrganizationID, blockId: BlockID, readerId: UserID): Promise<BlockForRead | null> {
    return this.reads.load({ organizationId, blockId, readerId });
  }

  async create(tx: Tx, organizationId: OrganizationID, block: BlockMeta): Promise<"ok" | "already_exists"> {
    const row = await this.uow.connectionOf(tx).maybeOne(sql.type(ID_ROW)`
      INSERT INTO block (organization, block_id, realm, author, size, created_on)
      SELECT r.organization, ${block.id}, r._id, ${block.author}, ${block.size}, ${block.createdOn.epochMicroseconds}
      FROM realm r WHERE r.organization = ${orgKey(organizationId)} AND r.realm_id = ${block.realmId}
      ON CONFLICT (organization, block_id) DO NOTHING
      RETURNING _id`);
    if (row) return "ok";
    const realmExists = await this.uow
      .connectionOf(tx)
      .exists(sql.unsafe`SELECT 1 FROM realm WHERE organization = ${orgKey(organizationId)} AND realm_id = ${block.realmId}`);
    if (!realmExists) throw new Error(`PgBlockRepository.create: no realm ${block.realmId}`);
    return "already_exists";
  }

  async realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number> {
    return this.uow.connectionOf(null).oneFirst(sql.type(SIZE_ROW)`
      SELECT coalesce(sum(b.size), 0)::bigint AS n FROM block b JOIN realm r ON r._id = b.realm
      WHERE r.organization = ${orgKey(organizationId)} AND r.realm_id = ${realmId}`);
  }

  async dataSize(organizationId: OrganizationID, at: DateTime): Promise<number> {
    return this.uow.connectionOf(null).oneFirst(sql.type(SIZE_ROW)`
      SELECT coalesce(sum(size), 0)::bigint AS n FROM block WHERE organization = ${orgKey(organizationId)} AND created_on <= ${at.epochMicroseconds}`);
  }
}
