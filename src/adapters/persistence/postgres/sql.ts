import { sql, type FragmentSqlToken } from "slonik";
import { z } from "zod";
import type { BlockID, DeviceID, InvitationToken, OrganizationID, RealmID, RealmRole, UserID, VlobID } from "../../../domain/ids.js";
import type { LastGrant, RealmAccess, RealmMaintenance } from "../../../domain/realm/index.js";
import { DateTime } from "../../../domain/time.js";

/**
 * Shared pieces of the PostgreSQL repositories: the organization lookup, conversions between columns and domain
 * values, and the zod schemas of recurring columns. Values read back were validated when written (the server
 * checks every identifier and certificate before storing it), so identifiers are re-branded without re-parsing.
 *
 * Batched lookups (`unnest(…) AS q` joined with the tables) find each row by its whole key in a
 * `LATERAL (SELECT … WHERE key = q.… OFFSET 0)`: the `OFFSET 0` keeps the subquery from being merged into the join,
 * so that both columns of a two-column key are index conditions. Merged, PostgreSQL may plan the join on the first
 * column only and filter the rest — on a table not analyzed yet (its first thousands of blocks or vlobs) it does,
 * and each lookup then reads every block of the organization, or every member of the realm.
 */

export { sql };

/** `(SELECT _id FROM organization WHERE organization_id = …)`: the internal key of an organization. */
export const orgKey = (organizationId: OrganizationID): FragmentSqlToken => sql.fragment`(SELECT _id FROM organization WHERE organization_id = ${organizationId})`;

/** A µs timestamp column (bigint) as a {@link DateTime}. */
export const dt = (us: number): DateTime => DateTime.fromEpochMicroseconds(us);

/** A nullable µs timestamp column. */
export const dtOrNull = (us: number | null): DateTime | null => (us === null ? null : DateTime.fromEpochMicroseconds(us));

/** A `uuid` column (`xxxxxxxx-xxxx-…`) in the domain's form (32 lower-case hex digits). */
export const hex = (uuid: string): string => uuid.replaceAll("-", "");

export const asRealmId = (uuid: string): RealmID => hex(uuid) as RealmID;
export const asVlobId = (uuid: string): VlobID => hex(uuid) as VlobID;
export const asBlockId = (uuid: string): BlockID => hex(uuid) as BlockID;
export const asToken = (uuid: string): InvitationToken => hex(uuid) as InvitationToken;
export const asUserId = (raw: string): UserID => raw as UserID;
export const asDeviceId = (raw: string): DeviceID => raw as DeviceID;
export const asDeviceIdOrNull = (raw: string | null): DeviceID | null => (raw === null ? null : (raw as DeviceID));

/** A `bytea` parameter. */
export const bytes = (value: Uint8Array) => sql.binary(Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength));

/** A nullable `bytea` parameter. */
export const bytesOrNull = (value: Uint8Array | null) => (value === null ? null : bytes(value));

/** zod: a `bytea` column. */
export const zBytes = z.instanceof(Buffer);
/** zod: an int8/int4 column read as a number. */
export const zInt = z.number().int();
export const zRole = z.enum(["OWNER", "MANAGER", "CONTRIBUTOR", "READER"]);
export const zMaintenanceType = z.enum(["REENCRYPTION", "GARBAGE_COLLECTION"]);

/** The realm columns and the user's grant columns every access lookup selects. */
export const zAccessColumns = {
  realm_id: z.string(),
  encryption_revision: zInt,
  maintenance_type: zMaintenanceType.nullable(),
  maintenance_started_by: z.string().nullable(),
  maintenance_started_on: zInt.nullable(),
  member_role: zRole.nullable(),
  member_granted_on: zInt.nullable(),
};

/** The SELECT list matching {@link zAccessColumns}, for realm `r` joined with `realm_member` `m` (LEFT JOIN). */
export const accessColumns = sql.fragment`r.realm_id::text AS realm_id, r.encryption_revision, r.maintenance_type, r.maintenance_started_by,
  r.maintenance_started_on, m.role AS member_role, m.granted_on AS member_granted_on`;

/** A {@link RealmAccess} from the columns of {@link accessColumns}. */
export const accessFrom = (row: {
  realm_id: string;
  encryption_revision: number;
  maintenance_type: "REENCRYPTION" | "GARBAGE_COLLECTION" | null;
  maintenance_started_by: string | null;
  maintenance_started_on: number | null;
  member_role: RealmRole | null;
  member_granted_on: number | null;
}): RealmAccess => ({
  realmId: asRealmId(row.realm_id),
  encryptionRevision: row.encryption_revision,
  maintenance: maintenanceFrom(row),
  lastGrant: row.member_granted_on === null ? null : ({ role: row.member_role, grantedOn: dt(row.member_granted_on) } satisfies LastGrant),
});

/** The maintenance of a realm row, or null. */
export const maintenanceFrom = (row: {
  maintenance_type: "REENCRYPTION" | "GARBAGE_COLLECTION" | null;
  maintenance_started_by: string | null;
  maintenance_started_on: number | null;
}): RealmMaintenance | null =>
  row.maintenance_type === null || row.maintenance_started_on === null
    ? null
    : { type: row.maintenance_type, startedBy: row.maintenance_started_by as DeviceID, startedOn: dt(row.maintenance_started_on) };
