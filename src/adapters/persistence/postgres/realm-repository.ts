import { z } from "zod";
import type { RealmLock, RealmRepository, Tx } from "../../../application/ports/index.js";
import type { OrganizationID, RealmID, UserID } from "../../../domain/ids.js";
import type { Realm, RealmAccess, RealmMaintenance, RealmRoleGrant } from "../../../domain/realm/index.js";
import type { DateTime } from "../../../domain/time.js";
import {
  accessColumns,
  accessFrom,
  asDeviceIdOrNull,
  asRealmId,
  asUserId,
  bytes,
  dt,
  maintenanceFrom,
  orgKey,
  sql,
  zAccessColumns,
  zBytes,
  zInt,
  zMaintenanceType,
  zRole,
} from "./sql.js";
import type { PgUnitOfWork } from "./unit-of-work.js";

const LOCKS = {
  update: sql.fragment`FOR UPDATE OF r`,
  write: sql.fragment`FOR NO KEY UPDATE OF r`,
  share: sql.fragment`FOR KEY SHARE OF r`,
} as const;

/** Row schemas of the queries below, built once (a zod schema is costly to build). */
const REALM_ROW = z.object({
  _id: zInt,
  created_on: zInt,
  encryption_revision: zInt,
  maintenance_type: zMaintenanceType.nullable(),
  maintenance_started_by: z.string().nullable(),
  maintenance_started_on: zInt.nullable(),
});
const GRANT_ROW = z.object({ user_id: z.string(), role: zRole.nullable(), certificate: zBytes, certified_by: z.string().nullable(), certified_on: zInt });
const ID_ROW = z.object({ _id: zInt });
const ACCESS_ROW = z.object(zAccessColumns);
const REALM_ID_ROW = z.object({ realm_id: z.string() });
const COUNT_ROW = z.object({ n: zInt });

/**
 * {@link RealmRepository} on PostgreSQL (`realm`, `realm_role` for every certificate, `realm_member` for each user's
 * last grant). Holds are row locks on the realm row: `update` is `FOR UPDATE`, `write` is `FOR NO KEY UPDATE` (the
 * lock a checkpoint increment takes anyway), `share` is `FOR KEY SHARE`.
 * `getAccess` is one primary-key lookup joined with the user's `realm_member` row.
 */
export class PgRealmRepository implements RealmRepository {
  constructor(private readonly uow: PgUnitOfWork) {}

  async get(organizationId: OrganizationID, realmId: RealmID, tx?: Tx): Promise<Realm | null> {
    const connection = this.uow.connectionOf(tx);
    const realm = await connection.maybeOne(sql.type(REALM_ROW)`
      SELECT r._id, r.created_on, r.encryption_revision, r.maintenance_type, r.maintenance_started_by, r.maintenance_started_on
      FROM realm r WHERE r.organization = ${orgKey(organizationId)} AND r.realm_id = ${realmId}
      ${tx ? LOCKS.update : sql.fragment``}`);
    if (!realm) return null;
    const grants = await connection.any(sql.type(GRANT_ROW)`SELECT user_id, role, certificate, certified_by, certified_on FROM realm_role WHERE realm = ${realm._id} ORDER BY _id`);
    return {
      id: realmId,
      createdOn: dt(realm.created_on),
      encryptionRevision: realm.encryption_revision,
      maintenance: maintenanceFrom(realm),
      grants: grants.map((g) => ({
        userId: asUserId(g.user_id),
        role: g.role,
        certificate: g.certificate,
        grantedBy: asDeviceIdOrNull(g.certified_by),
        grantedOn: dt(g.certified_on),
      })),
    };
  }

  async getAccess(organizationId: OrganizationID, realmId: RealmID, userId: UserID, tx?: Tx, lock?: RealmLock): Promise<RealmAccess | null> {
    const connection = this.uow.connectionOf(tx);
    if (tx && lock) {
      // The lock in a statement of its own: a statement that waited for it would still read the user's grant as of
      // its own start, missing a role change committed meanwhile. The next statement reads after the wait.
      const locked = await connection.maybeOneFirst(sql.type(ID_ROW)`
        SELECT r._id FROM realm r WHERE r.organization = ${orgKey(organizationId)} AND r.realm_id = ${realmId} ${LOCKS[lock]}`);
      if (locked === null) return null;
      const row = await connection.one(sql.type(ACCESS_ROW)`
        SELECT ${accessColumns} FROM realm r LEFT JOIN realm_member m ON m.realm = r._id AND m.user_id = ${userId} WHERE r._id = ${locked}`);
      return accessFrom(row);
    }
    const row = await connection.maybeOne(sql.type(ACCESS_ROW)`
      SELECT ${accessColumns}
      FROM realm r LEFT JOIN realm_member m ON m.realm = r._id AND m.user_id = ${userId}
      WHERE r.organization = ${orgKey(organizationId)} AND r.realm_id = ${realmId}`);
    return row ? accessFrom(row) : null;
  }

  async create(tx: Tx, organizationId: OrganizationID, realm: Realm): Promise<"ok" | "already_exists"> {
    const connection = this.uow.connectionOf(tx);
    const inserted = await connection.maybeOne(sql.type(ID_ROW)`
      INSERT INTO realm (organization, realm_id, created_on, encryption_revision, maintenance_type, maintenance_started_by, maintenance_started_on)
      VALUES (${orgKey(organizationId)}, ${realm.id}, ${realm.createdOn.epochMicroseconds}, ${realm.encryptionRevision},
        ${realm.maintenance?.type ?? null}, ${realm.maintenance?.startedBy ?? null}, ${realm.maintenance?.startedOn.epochMicroseconds ?? null})
      ON CONFLICT (organization, realm_id) DO NOTHING
      RETURNING _id`);
    if (!inserted) return "already_exists";
    for (const grant of realm.grants) await this.insertGrant(tx, inserted._id, grant);
    return "ok";
  }

  async addGrant(tx: Tx, organizationId: OrganizationID, realmId: RealmID, grant: RealmRoleGrant): Promise<void> {
    const key = await this.uow
      .connectionOf(tx)
      .oneFirst(sql.type(ID_ROW)`SELECT _id FROM realm WHERE organization = ${orgKey(organizationId)} AND realm_id = ${realmId}`);
    await this.insertGrant(tx, key, grant);
  }

  private async insertGrant(tx: Tx, realmKey: number, grant: RealmRoleGrant): Promise<void> {
    await this.uow.connectionOf(tx).query(sql.unsafe`
      WITH history AS (
        INSERT INTO realm_role (realm, user_id, role, certificate, certified_by, certified_on)
        VALUES (${realmKey}, ${grant.userId}, ${grant.role}, ${bytes(grant.certificate)}, ${grant.grantedBy}, ${grant.grantedOn.epochMicroseconds})
      )
      INSERT INTO realm_member (realm, user_id, organization, role, granted_on)
      SELECT ${realmKey}, ${grant.userId}, organization, ${grant.role}, ${grant.grantedOn.epochMicroseconds} FROM realm WHERE _id = ${realmKey}
      ON CONFLICT (realm, user_id) DO UPDATE SET role = EXCLUDED.role, granted_on = EXCLUDED.granted_on`);
  }

  async setMaintenance(
    tx: Tx,
    organizationId: OrganizationID,
    realmId: RealmID,
    state: { readonly encryptionRevision: number; readonly maintenance: RealmMaintenance | null },
  ): Promise<void> {
    const m = state.maintenance;
    await this.uow.connectionOf(tx).query(sql.unsafe`
      UPDATE realm SET encryption_revision = ${state.encryptionRevision}, maintenance_type = ${m?.type ?? null},
        maintenance_started_by = ${m?.startedBy ?? null}, maintenance_started_on = ${m?.startedOn.epochMicroseconds ?? null}
      WHERE organization = ${orgKey(organizationId)} AND realm_id = ${realmId}`);
  }

  async listForUser(organizationId: OrganizationID, userId: UserID): Promise<readonly RealmID[]> {
    const rows = await this.uow.connectionOf(null).anyFirst(sql.type(REALM_ID_ROW)`
      SELECT r.realm_id::text AS realm_id FROM realm_member m JOIN realm r ON r._id = m.realm
      WHERE m.organization = ${orgKey(organizationId)} AND m.user_id = ${userId} AND m.role IS NOT NULL
      ORDER BY r._id`);
    return rows.map(asRealmId);
  }

  async countCreatedBefore(organizationId: OrganizationID, at: DateTime): Promise<number> {
    return this.uow
      .connectionOf(null)
      .oneFirst(sql.type(COUNT_ROW)`SELECT count(*) AS n FROM realm WHERE organization = ${orgKey(organizationId)} AND created_on <= ${at.epochMicroseconds}`);
  }
}
