import { z } from "zod";
import type { BlockRepository, Tx } from "../../../application/ports/index.js";
import type { BlockMeta } from "../../../domain/block/index.js";
import type { BlockID, OrganizationID, RealmID, UserID } from "../../../domain/ids.js";
import type { RealmAccess } from "../../../domain/realm/index.js";
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
const READ_ROW = z.object({ i: zInt, ...zAccessColumns, block_id: z.string(), size: zInt, author: z.string(), created_on: zInt });
const ID_ROW = z.object({ _id: zInt });
const SIZE_ROW = z.object({ n: zInt });

/**
 * {@link BlockRepository} on PostgreSQL (`block`: metadata only). `getForRead` is one query (the block joined with
 * its realm and the reader's grant), shared by the concurrent reads of every session; `create` is `INSERT … ON CONFLICT DO NOTHING`, whose foreign key share-locks the
 * realm row (the caller holds it `share` already).
 */
export class PgBlockRepository implements BlockRepository {
  constructor(private readonly uow: PgUnitOfWork) {}

  async exists(organizationId: OrganizationID, blockId: BlockID, tx?: Tx): Promise<boolean> {
    return this.uow.connectionOf(tx).exists(sql.unsafe`SELECT 1 FROM block WHERE organization = ${orgKey(organizationId)} AND block_id = ${blockId}`);
  }

  /** `block_read` lookups of every session, a batch per turn of the event loop: one query for all (see {@link Batcher}). */
  private readonly reads = new Batcher<ReadKey, { readonly meta: BlockMeta; readonly realm: RealmAccess } | null>(async (keys) => {
    const rows = await this.uow.connectionOf(null).any(sql.type(READ_ROW)`
      SELECT q.i, ${accessColumns}, b.block_id::text AS block_id, b.size, b.author, b.created_on
      FROM unnest(
        ${sql.array(keys.map((k) => k.organizationId), "text")}, ${sql.array(keys.map((k) => k.blockId), "uuid")},
        ${sql.array(keys.map((k) => k.readerId), "text")}
      ) WITH ORDINALITY AS q (organization_id, block_id, reader, i)
      JOIN organization o ON o.organization_id = q.organization_id
      JOIN block b ON b.organization = o._id AND b.block_id = q.block_id
      JOIN realm r ON r._id = b.realm
      LEFT JOIN realm_member m ON m.realm = r._id AND m.user_id = q.reader`);
    const results: ({ readonly meta: BlockMeta; readonly realm: RealmAccess } | null)[] = keys.map(() => null);
    for (const row of rows) {
      const realm = accessFrom(row);
      results[row.i - 1] = {
        realm,
        meta: { id: asBlockId(row.block_id), realmId: realm.realmId, size: row.size, author: asDeviceId(row.author), createdOn: dt(row.created_on) },
      };
    }
    return results;
  });

  getForRead(organizationId: OrganizationID, blockId: BlockID, readerId: UserID): Promise<{ readonly meta: BlockMeta; readonly realm: RealmAccess } | null> {
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
