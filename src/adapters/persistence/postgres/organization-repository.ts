import { z } from "zod";
import type { OrganizationBootstrap, OrganizationRepository, Tx } from "../../../application/ports/index.js";
import type { OrganizationID } from "../../../domain/ids.js";
import { userStatsFrom, type Organization, type OrganizationPatch, type OrganizationStats } from "../../../domain/organization/index.js";
import type { DateTime } from "../../../domain/time.js";
import { bytes, bytesOrNull, dt, dtOrNull, orgKey, sql, zBytes, zInt } from "./sql.js";
import type { PgUnitOfWork } from "./unit-of-work.js";

const zOrganization = z.object({
  organization_id: z.string(),
  bootstrap_token: z.string(),
  is_expired: z.boolean(),
  created_on: zInt,
  bootstrapped_on: zInt.nullable(),
  root_verify_key: zBytes.nullable(),
  user_profile_outsider_allowed: z.boolean(),
  active_users_limit: zInt.nullable(),
  minimum_archiving_period: zInt,
  sequester_authority_certificate: zBytes.nullable(),
  sequester_authority_verify_key_der: zBytes.nullable(),
});

const COLUMNS = sql.fragment`organization_id, bootstrap_token, is_expired, created_on, bootstrapped_on, root_verify_key, user_profile_outsider_allowed,
  active_users_limit, minimum_archiving_period, sequester_authority_certificate, sequester_authority_verify_key_der`;

/** An organization row as the domain sees it. */
export const organizationFrom = (row: z.infer<typeof zOrganization>): Organization => ({
  id: row.organization_id as OrganizationID,
  bootstrapToken: row.bootstrap_token,
  isExpired: row.is_expired,
  createdOn: dt(row.created_on),
  bootstrappedOn: dtOrNull(row.bootstrapped_on),
  rootVerifyKey: row.root_verify_key,
  userProfileOutsiderAllowed: row.user_profile_outsider_allowed,
  activeUsersLimit: row.active_users_limit,
  minimumArchivingPeriod: row.minimum_archiving_period,
  sequesterAuthority:
    row.sequester_authority_certificate && row.sequester_authority_verify_key_der
      ? { certificate: row.sequester_authority_certificate, verifyKeyDer: row.sequester_authority_verify_key_der }
      : null,
  // No sequester service registry yet: a sequestered organization has none.
  sequesterServicesCertificates: row.sequester_authority_certificate ? [] : null,
});

/** The organization columns (prefixed `o.`) and their schema, for queries that join the organization. */
export const organizationColumns = { zod: zOrganization, sql: sql.fragment`o.organization_id, o.bootstrap_token, o.is_expired, o.created_on, o.bootstrapped_on,
  o.root_verify_key, o.user_profile_outsider_allowed, o.active_users_limit, o.minimum_archiving_period, o.sequester_authority_certificate,
  o.sequester_authority_verify_key_der` };

/** Row schemas of the queries below, built once (a zod schema is costly to build). */
const ID_ROW = z.object({ _id: zInt });
const BOOTSTRAPPED_ROW = z.object({ bootstrapped: z.boolean() });
const PROFILE_COUNTS_ROW = z.object({ profile: z.enum(["ADMIN", "STANDARD", "OUTSIDER"]), active: zInt, revoked: zInt });

/**
 * {@link OrganizationRepository} on PostgreSQL (`organization` table). `create` is `INSERT … ON CONFLICT DO NOTHING`;
 * `replaceNotBootstrapped` and `bootstrap` are conditional `UPDATE`s (`root_verify_key IS NULL`), which take the
 * organization's row lock, so of concurrent bootstraps exactly one commits and a re-creation never resets a
 * bootstrapped organization.
 */
export class PgOrganizationRepository implements OrganizationRepository {
  /** @param now Dates the statistics asked without `at`. */
  constructor(
    private readonly uow: PgUnitOfWork,
    private readonly now: () => DateTime,
  ) {}

  async get(id: OrganizationID, tx?: Tx): Promise<Organization | null> {
    const row = await this.uow
      .connectionOf(tx)
      .maybeOne(sql.type(zOrganization)`SELECT ${COLUMNS} FROM organization WHERE organization_id = ${id}`);
    return row ? organizationFrom(row) : null;
  }

  async list(): Promise<readonly Organization[]> {
    const rows = await this.uow.connectionOf(null).any(sql.type(zOrganization)`SELECT ${COLUMNS} FROM organization ORDER BY _id`);
    return rows.map(organizationFrom);
  }

  async create(tx: Tx, o: Organization): Promise<"ok" | "already_exists"> {
    const inserted = await this.uow.connectionOf(tx).maybeOne(sql.type(ID_ROW)`
      INSERT INTO organization (organization_id, bootstrap_token, is_expired, created_on, bootstrapped_on, root_verify_key,
        user_profile_outsider_allowed, active_users_limit, minimum_archiving_period, sequester_authority_certificate, sequester_authority_verify_key_der)
      VALUES (${o.id}, ${o.bootstrapToken}, ${o.isExpired}, ${o.createdOn.epochMicroseconds}, ${o.bootstrappedOn?.epochMicroseconds ?? null},
        ${bytesOrNull(o.rootVerifyKey)}, ${o.userProfileOutsiderAllowed}, ${o.activeUsersLimit}, ${o.minimumArchivingPeriod},
        ${bytesOrNull(o.sequesterAuthority?.certificate ?? null)}, ${bytesOrNull(o.sequesterAuthority?.verifyKeyDer ?? null)})
      ON CONFLICT (organization_id) DO NOTHING
      RETURNING _id`);
    return inserted ? "ok" : "already_exists";
  }

  async replaceNotBootstrapped(tx: Tx, o: Organization): Promise<"ok" | "not_found" | "already_bootstrapped"> {
    const connection = this.uow.connectionOf(tx);
    const updated = await connection.maybeOne(sql.type(ID_ROW)`
      UPDATE organization SET bootstrap_token = ${o.bootstrapToken}, is_expired = ${o.isExpired}, created_on = ${o.createdOn.epochMicroseconds},
        user_profile_outsider_allowed = ${o.userProfileOutsiderAllowed}, active_users_limit = ${o.activeUsersLimit},
        minimum_archiving_period = ${o.minimumArchivingPeriod}
      WHERE organization_id = ${o.id} AND root_verify_key IS NULL
      RETURNING _id`);
    if (updated) return "ok";
    return (await this.exists(tx, o.id)) ? "already_bootstrapped" : "not_found";
  }

  async bootstrap(tx: Tx, id: OrganizationID, b: OrganizationBootstrap): Promise<"ok" | "not_found" | "already_bootstrapped" | "bad_token"> {
    const connection = this.uow.connectionOf(tx);
    const updated = await connection.maybeOne(sql.type(ID_ROW)`
      UPDATE organization SET root_verify_key = ${bytes(b.rootVerifyKey)}, bootstrapped_on = ${b.bootstrappedOn.epochMicroseconds},
        sequester_authority_certificate = ${bytesOrNull(b.sequesterAuthority?.certificate ?? null)},
        sequester_authority_verify_key_der = ${bytesOrNull(b.sequesterAuthority?.verifyKeyDer ?? null)}
      WHERE organization_id = ${id} AND root_verify_key IS NULL AND bootstrap_token = ${b.bootstrapToken}
      RETURNING _id`);
    if (updated) return "ok";
    const row = await connection.maybeOne(
      sql.type(BOOTSTRAPPED_ROW)`SELECT root_verify_key IS NOT NULL AS bootstrapped FROM organization WHERE organization_id = ${id}`,
    );
    return row === null ? "not_found" : row.bootstrapped ? "already_bootstrapped" : "bad_token";
  }

  async update(tx: Tx, id: OrganizationID, patch: OrganizationPatch): Promise<"ok" | "not_found"> {
    const sets = [
      patch.isExpired !== undefined ? sql.fragment`is_expired = ${patch.isExpired}` : null,
      patch.userProfileOutsiderAllowed !== undefined ? sql.fragment`user_profile_outsider_allowed = ${patch.userProfileOutsiderAllowed}` : null,
      patch.activeUsersLimit !== undefined ? sql.fragment`active_users_limit = ${patch.activeUsersLimit}` : null,
      patch.minimumArchivingPeriod !== undefined ? sql.fragment`minimum_archiving_period = ${patch.minimumArchivingPeriod}` : null,
    ].filter((set) => set !== null);
    if (sets.length === 0) return (await this.exists(tx, id)) ? "ok" : "not_found";
    const updated = await this.uow
      .connectionOf(tx)
      .maybeOne(sql.type(ID_ROW)`UPDATE organization SET ${sql.join(sets, sql.fragment`, `)} WHERE organization_id = ${id} RETURNING _id`);
    return updated ? "ok" : "not_found";
  }

  async stats(id: OrganizationID, at?: DateTime): Promise<OrganizationStats> {
    const when = (at ?? this.now()).epochMicroseconds;
    const rows = await this.uow.connectionOf(null).any(sql.type(PROFILE_COUNTS_ROW)`
      SELECT profile,
        count(*) FILTER (WHERE revoked_on IS NULL OR revoked_on > ${when}) AS active,
        count(*) FILTER (WHERE revoked_on IS NOT NULL AND revoked_on <= ${when}) AS revoked
      FROM user_ WHERE organization = ${orgKey(id)} AND created_on <= ${when}
      GROUP BY profile`);
    return userStatsFrom(rows);
  }

  private async exists(tx: Tx | undefined, id: OrganizationID): Promise<boolean> {
    return this.uow.connectionOf(tx).exists(sql.unsafe`SELECT 1 FROM organization WHERE organization_id = ${id}`);
  }
}
