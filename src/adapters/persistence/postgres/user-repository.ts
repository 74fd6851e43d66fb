import { z } from "zod";
import type { AuthenticationLookup, Tx, UserRepository, UserRevocation, UserWithDevicesAndTrustchain } from "../../../application/ports/index.js";
import { DeviceID as DeviceIDs, type DeviceID, type DeviceLabel, type OrganizationID, type UserID } from "../../../domain/ids.js";
import type { DateTime } from "../../../domain/time.js";
import {
  humanQueryWords,
  trustchainRoots,
  walkTrustchain,
  type AdmissionFacts,
  type Device,
  type HumanFindPage,
  type HumanSearch,
  type TrustchainLink,
  type User,
  type UserSummary,
} from "../../../domain/user/index.js";
import { organizationColumns, organizationFrom } from "./organization-repository.js";
import { asDeviceId, asDeviceIdOrNull, asUserId, bytes, bytesOrNull, dt, dtOrNull, orgKey, sql, zBytes, zInt } from "./sql.js";
import type { PgUnitOfWork } from "./unit-of-work.js";

const zUser = {
  u_user_id: z.string(),
  u_email: z.string().nullable(),
  u_label: z.string().nullable(),
  u_profile: z.enum(["ADMIN", "STANDARD", "OUTSIDER"]),
  u_public_key: zBytes,
  u_user_certificate: zBytes,
  u_redacted_user_certificate: zBytes,
  u_user_certifier: z.string().nullable(),
  u_created_on: zInt,
  u_revoked_on: zInt.nullable(),
  u_revoked_user_certificate: zBytes.nullable(),
  u_revoked_user_certifier: z.string().nullable(),
};
const USER_COLUMNS = sql.fragment`u.user_id AS u_user_id, u.email AS u_email, u.label AS u_label, u.profile AS u_profile, u.public_key AS u_public_key,
  u.user_certificate AS u_user_certificate, u.redacted_user_certificate AS u_redacted_user_certificate, u.user_certifier AS u_user_certifier,
  u.created_on AS u_created_on, u.revoked_on AS u_revoked_on, u.revoked_user_certificate AS u_revoked_user_certificate,
  u.revoked_user_certifier AS u_revoked_user_certifier`;

const zDevice = {
  d_device_id: z.string(),
  d_device_label: z.string().nullable(),
  d_verify_key: zBytes,
  d_device_certificate: zBytes,
  d_redacted_device_certificate: zBytes,
  d_device_certifier: z.string().nullable(),
  d_created_on: zInt,
};
const DEVICE_COLUMNS = sql.fragment`d.device_id AS d_device_id, d.device_label AS d_device_label, d.verify_key AS d_verify_key,
  d.device_certificate AS d_device_certificate, d.redacted_device_certificate AS d_redacted_device_certificate,
  d.device_certifier AS d_device_certifier, d.created_on AS d_created_on`;

type UserRow = { [K in keyof typeof zUser]: z.infer<(typeof zUser)[K]> };
type DeviceRow = { [K in keyof typeof zDevice]: z.infer<(typeof zDevice)[K]> };

const userFrom = (r: UserRow): User => ({
  userId: asUserId(r.u_user_id),
  humanHandle: r.u_email !== null && r.u_label !== null ? { email: r.u_email, label: r.u_label } : null,
  profile: r.u_profile,
  publicKey: r.u_public_key,
  userCertificate: r.u_user_certificate,
  redactedUserCertificate: r.u_redacted_user_certificate,
  userCertifier: asDeviceIdOrNull(r.u_user_certifier),
  createdOn: dt(r.u_created_on),
  revokedOn: dtOrNull(r.u_revoked_on),
  revokedUserCertificate: r.u_revoked_user_certificate,
  revokedUserCertifier: asDeviceIdOrNull(r.u_revoked_user_certifier),
});

const deviceFrom = (r: DeviceRow): Device => ({
  deviceId: asDeviceId(r.d_device_id),
  deviceLabel: r.d_device_label as DeviceLabel | null,
  verifyKey: r.d_verify_key,
  deviceCertificate: r.d_device_certificate,
  redactedDeviceCertificate: r.d_redacted_device_certificate,
  deviceCertifier: asDeviceIdOrNull(r.d_device_certifier),
  createdOn: dt(r.d_created_on),
});

const zSummary = z.object({ user_id: z.string(), email: z.string().nullable(), label: z.string().nullable(), profile: z.enum(["ADMIN", "STANDARD", "OUTSIDER"]), revoked_on: zInt.nullable() });
const summaryFrom = (r: z.infer<typeof zSummary>): UserSummary => ({
  userId: asUserId(r.user_id),
  humanHandle: r.email !== null && r.label !== null ? { email: r.email, label: r.label } : null,
  profile: r.profile,
  revokedOn: dtOrNull(r.revoked_on),
});

/** `LIKE` pattern of the words, in order, anything in between (`\`, `%` and `_` taken literally). */
const likePattern = (words: readonly string[]): string => `%${words.map((w) => w.replace(/[\\%_]/g, (c) => `\\${c}`)).join("%")}%`;

/** Key space of the per-email advisory locks of user creation (`pg_advisory_xact_lock(int4, int4)`). */
const EMAIL_LOCK_SPACE = 0x50_61_72; // "Par"

/** Row schemas of the queries below, built once (a zod schema is costly to build). */
const AUTHENTICATION_ROW = organizationColumns.zod.extend({ ...partial(zUser), ...partial(zDevice) });
const USER_DEVICE_ROW = z.object({ ...zUser, ...partial(zDevice) });
const TRUSTCHAIN_LINK_ROW = z.object({ ...zUser, ...zDevice });
const ADMISSION_ROW = z.object({ active_users: zInt, user_id_taken: z.boolean(), email_taken: z.boolean() });
const HUMAN_PAGE_ROW = z.object({ total: zInt, user_id: z.string().nullable(), email: z.string().nullable(), label: z.string().nullable(), revoked_on: zInt.nullable() });
const CREATED_KEYS_ROW = z.object({ user_key: zInt, device_key: zInt.nullable() });
const USER_TAKEN_ROW = z.object({ user_taken: z.boolean() });
const ID_ROW = z.object({ _id: zInt });

/**
 * {@link UserRepository} on PostgreSQL (`user_`, `device`). The handshake lookup is one query (organization LEFT JOIN
 * device and user); `user_get` is two (the user with its devices, then the trustchain in one recursive query, walked in
 * the domain's order); `human_find` filters, orders and pages in SQL on lower-cased copies of the searched fields.
 * Creations rely on the unique constraints (`ON CONFLICT DO NOTHING`), with the partial unique index on the email of
 * users without revocation as the last word on human handles.
 */
export class PgUserRepository implements UserRepository {
  constructor(private readonly uow: PgUnitOfWork) {}

  async getAuthentication(organizationId: OrganizationID, deviceId: DeviceID): Promise<AuthenticationLookup | null> {
    const row = await this.uow.connectionOf(null).maybeOne(sql.type(AUTHENTICATION_ROW)`
      SELECT ${organizationColumns.sql}, ${USER_COLUMNS}, ${DEVICE_COLUMNS}
      FROM organization o
      LEFT JOIN device d ON d.organization = o._id AND d.device_id = ${deviceId}
      LEFT JOIN user_ u ON u._id = d.user_
      WHERE o.organization_id = ${organizationId}`);
    if (!row) return null;
    const found = row.d_device_id !== null && row.u_user_id !== null;
    return {
      organization: organizationFrom(row),
      device: found ? { user: userFrom(row as UserRow), device: deviceFrom(row as DeviceRow) } : null,
    };
  }

  async getUserWithDevicesAndTrustchain(organizationId: OrganizationID, userId: UserID): Promise<UserWithDevicesAndTrustchain | null> {
    const connection = this.uow.connectionOf(null);
    const rows = await connection.any(sql.type(USER_DEVICE_ROW)`
      SELECT ${USER_COLUMNS}, ${DEVICE_COLUMNS}
      FROM user_ u LEFT JOIN device d ON d.user_ = u._id
      WHERE u.organization = ${orgKey(organizationId)} AND u.user_id = ${userId}
      ORDER BY d._id`);
    if (rows.length === 0) return null;
    const user = userFrom(rows[0]!);
    const devices = rows.filter((r) => r.d_device_id !== null).map((r) => deviceFrom(r as DeviceRow));
    const roots = trustchainRoots(user, devices);
    if (roots.length === 0) return { user, devices, trustchain: [] };
    const links = await connection.any(sql.type(TRUSTCHAIN_LINK_ROW)`
      WITH RECURSIVE chain (device_id) AS (
        SELECT unnest(${sql.array(roots, "text")})
        UNION
        SELECT c.certifier
        FROM chain
        JOIN device d ON d.organization = ${orgKey(organizationId)} AND d.device_id = chain.device_id
        JOIN user_ u ON u._id = d.user_
        CROSS JOIN LATERAL (VALUES (d.device_certifier), (u.user_certifier), (u.revoked_user_certifier)) AS c (certifier)
        WHERE c.certifier IS NOT NULL
      )
      SELECT ${USER_COLUMNS}, ${DEVICE_COLUMNS}
      FROM chain
      JOIN device d ON d.organization = ${orgKey(organizationId)} AND d.device_id = chain.device_id
      JOIN user_ u ON u._id = d.user_`);
    const byDevice = new Map<DeviceID, TrustchainLink>(links.map((r) => [asDeviceId(r.d_device_id), { user: userFrom(r), device: deviceFrom(r) }]));
    return { user, devices, trustchain: walkTrustchain(roots, (id) => byDevice.get(id) ?? null) };
  }

  async getSummary(organizationId: OrganizationID, userId: UserID, tx?: Tx): Promise<UserSummary | null> {
    const row = await this.uow.connectionOf(tx).maybeOne(sql.type(zSummary)`
      SELECT user_id, email, label, profile, revoked_on FROM user_ WHERE organization = ${orgKey(organizationId)} AND user_id = ${userId}`);
    return row ? summaryFrom(row) : null;
  }

  async getSummaries(organizationId: OrganizationID, userIds: readonly UserID[], tx?: Tx): Promise<ReadonlyMap<UserID, UserSummary>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.uow.connectionOf(tx).any(sql.type(zSummary)`
      SELECT user_id, email, label, profile, revoked_on FROM user_
      WHERE organization = ${orgKey(organizationId)} AND user_id = ANY(${sql.array(userIds, "text")})`);
    return new Map(rows.map((row) => [asUserId(row.user_id), summaryFrom(row)]));
  }

  async isEmailTaken(organizationId: OrganizationID, email: string, now: DateTime, tx?: Tx): Promise<boolean> {
    return this.uow.connectionOf(tx).exists(sql.unsafe`
      SELECT 1 FROM user_ WHERE organization = ${orgKey(organizationId)} AND email = ${email}
        AND (revoked_on IS NULL OR revoked_on > ${now.epochMicroseconds})`);
  }

  async admissionFacts(
    tx: Tx,
    organizationId: OrganizationID,
    request: { readonly userId: UserID; readonly email: string | null; readonly now: DateTime; readonly countActiveUsers: boolean },
  ): Promise<AdmissionFacts> {
    const connection = this.uow.connectionOf(tx);
    // Locks first, in their own statements: a statement that waited for a lock still reads its own older snapshot.
    if (request.countActiveUsers) await connection.query(sql.unsafe`SELECT 1 FROM organization WHERE organization_id = ${organizationId} FOR UPDATE`);
    if (request.email !== null)
      await connection.query(sql.unsafe`SELECT pg_advisory_xact_lock(${EMAIL_LOCK_SPACE}, hashtext(${`${organizationId}\n${request.email}`}))`);
    const row = await connection.one(sql.type(ADMISSION_ROW)`
      SELECT
        (SELECT count(*) FROM user_ WHERE organization = o._id AND revoked_on IS NULL) AS active_users,
        EXISTS (SELECT 1 FROM user_ WHERE organization = o._id AND user_id = ${request.userId}) AS user_id_taken,
        EXISTS (SELECT 1 FROM user_ WHERE organization = o._id AND email = ${request.email}
          AND (revoked_on IS NULL OR revoked_on > ${request.now.epochMicroseconds})) AS email_taken
      FROM organization o WHERE o.organization_id = ${organizationId}`);
    return {
      activeUsers: request.countActiveUsers ? row.active_users : null,
      userIdTaken: row.user_id_taken,
      emailTaken: request.email !== null && row.email_taken,
    };
  }

  async findHumans(organizationId: OrganizationID, search: HumanSearch, now: DateTime): Promise<HumanFindPage> {
    // No stored text holds a NUL (identifiers and handles refuse it; PostgreSQL text cannot): nothing matches.
    if (search.query?.includes("\0")) return { total: 0, results: [] };
    const conditions = [sql.fragment`organization = ${orgKey(organizationId)}`];
    if (search.omitNonHuman) conditions.push(sql.fragment`email IS NOT NULL`);
    if (search.omitRevoked) conditions.push(sql.fragment`(revoked_on IS NULL OR revoked_on > ${now.epochMicroseconds})`);
    if (search.query) {
      const pattern = likePattern(humanQueryWords(search.query));
      conditions.push(sql.fragment`(CASE WHEN email IS NULL THEN search_user_id LIKE ${pattern}
        ELSE (search_label LIKE ${pattern} OR search_email LIKE ${pattern}) END)`);
    }
    const rows = await this.uow.connectionOf(null).any(sql.type(HUMAN_PAGE_ROW)`
      WITH found AS (SELECT user_id, email, label, search_label, revoked_on FROM user_ WHERE ${sql.join(conditions, sql.fragment` AND `)})
      SELECT t.total, p.user_id, p.email, p.label, p.revoked_on
      FROM (SELECT count(*) AS total FROM found) t
      LEFT JOIN LATERAL (
        SELECT * FROM found
        ORDER BY (email IS NULL), search_label COLLATE "C", user_id COLLATE "C"
        LIMIT ${search.perPage} OFFSET ${(search.page - 1) * search.perPage}
      ) p ON true`);
    return {
      total: rows[0]?.total ?? 0,
      results: rows
        .filter((r) => r.user_id !== null)
        .map((r) => ({
          userId: asUserId(r.user_id!),
          humanHandle: r.email !== null && r.label !== null ? { email: r.email, label: r.label } : null,
          revoked: r.revoked_on !== null && r.revoked_on <= now.epochMicroseconds,
        })),
    };
  }

  async create(tx: Tx, organizationId: OrganizationID, user: User, firstDevice: Device): Promise<"ok" | "already_exists" | "human_handle_already_taken"> {
    const connection = this.uow.connectionOf(tx);
    const handle = user.humanHandle;
    const inserted = await connection.maybeOne(sql.type(CREATED_KEYS_ROW)`
      WITH u AS (
        INSERT INTO user_ (organization, user_id, email, label, profile, public_key, user_certificate, redacted_user_certificate, user_certifier,
          created_on, revoked_on, revoked_user_certificate, revoked_user_certifier, search_label, search_email, search_user_id)
        VALUES (${orgKey(organizationId)}, ${user.userId}, ${handle?.email ?? null}, ${handle?.label ?? null}, ${user.profile}, ${bytes(user.publicKey)},
          ${bytes(user.userCertificate)}, ${bytes(user.redactedUserCertificate)}, ${user.userCertifier}, ${user.createdOn.epochMicroseconds},
          ${user.revokedOn?.epochMicroseconds ?? null}, ${bytesOrNull(user.revokedUserCertificate)}, ${user.revokedUserCertifier},
          ${handle?.label.toLowerCase() ?? null}, ${handle?.email.toLowerCase() ?? null}, ${user.userId.toLowerCase()})
        ON CONFLICT DO NOTHING
        RETURNING _id, organization
      ), d AS (
        INSERT INTO device (organization, user_, device_id, device_label, verify_key, device_certificate, redacted_device_certificate, device_certifier, created_on)
        SELECT u.organization, u._id, ${firstDevice.deviceId}, ${firstDevice.deviceLabel}, ${bytes(firstDevice.verifyKey)},
          ${bytes(firstDevice.deviceCertificate)}, ${bytes(firstDevice.redactedDeviceCertificate)}, ${firstDevice.deviceCertifier},
          ${firstDevice.createdOn.epochMicroseconds}
        FROM u
        ON CONFLICT DO NOTHING
        RETURNING _id
      )
      SELECT u._id AS user_key, (SELECT _id FROM d) AS device_key FROM u`);
    if (inserted) {
      if (inserted.device_key === null) throw new Error(`device ${firstDevice.deviceId} of new user ${user.userId} already exists`);
      return "ok";
    }
    const taken = await connection.one(sql.type(USER_TAKEN_ROW)`
      SELECT EXISTS (SELECT 1 FROM user_ WHERE organization = ${orgKey(organizationId)} AND user_id = ${user.userId}) AS user_taken`);
    if (taken.user_taken) return "already_exists";
    if (handle) return "human_handle_already_taken";
    throw new Error(`user ${user.userId} could not be inserted, for no known reason`);
  }

  async createDevice(tx: Tx, organizationId: OrganizationID, device: Device): Promise<"ok" | "user_not_found" | "already_exists"> {
    const connection = this.uow.connectionOf(tx);
    const userId = DeviceIDs.userId(device.deviceId);
    const inserted = await connection.maybeOne(sql.type(ID_ROW)`
      INSERT INTO device (organization, user_, device_id, device_label, verify_key, device_certificate, redacted_device_certificate, device_certifier, created_on)
      SELECT u.organization, u._id, ${device.deviceId}, ${device.deviceLabel}, ${bytes(device.verifyKey)}, ${bytes(device.deviceCertificate)},
        ${bytes(device.redactedDeviceCertificate)}, ${device.deviceCertifier}, ${device.createdOn.epochMicroseconds}
      FROM user_ u WHERE u.organization = ${orgKey(organizationId)} AND u.user_id = ${userId}
      ON CONFLICT DO NOTHING
      RETURNING _id`);
    if (inserted) return "ok";
    const exists = await connection.exists(sql.unsafe`SELECT 1 FROM user_ WHERE organization = ${orgKey(organizationId)} AND user_id = ${userId}`);
    return exists ? "already_exists" : "user_not_found";
  }

  async revoke(tx: Tx, organizationId: OrganizationID, userId: UserID, revocation: UserRevocation): Promise<"ok" | "not_found" | "already_revoked"> {
    const connection = this.uow.connectionOf(tx);
    const updated = await connection.maybeOne(sql.type(ID_ROW)`
      UPDATE user_ SET revoked_on = ${revocation.revokedOn.epochMicroseconds}, revoked_user_certificate = ${bytes(revocation.certificate)},
        revoked_user_certifier = ${revocation.certifier}
      WHERE organization = ${orgKey(organizationId)} AND user_id = ${userId} AND revoked_on IS NULL
      RETURNING _id`);
    if (updated) return "ok";
    const exists = await connection.exists(sql.unsafe`SELECT 1 FROM user_ WHERE organization = ${orgKey(organizationId)} AND user_id = ${userId}`);
    return exists ? "already_revoked" : "not_found";
  }
}

/** Every column of `shape` made nullable (the LEFT JOINed side of a row). */
function partial<S extends Record<string, z.ZodTypeAny>>(shape: S): { [K in keyof S]: z.ZodNullable<S[K]> } {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.nullable()])) as { [K in keyof S]: z.ZodNullable<S[K]> };
}
