import { DeviceID, type RealmID, type RealmRole, type UserID } from "../ids.js";
import type { DateTime } from "../time.js";

/** One change of a user's role in a realm, as certified by a `realm_role_certificate` (kept as received). */
export interface RealmRoleGrant {
  readonly userId: UserID;
  /** `null`: the role was removed. */
  readonly role: RealmRole | null;
  readonly certificate: Buffer;
  /** Author of the certificate (`null` never happens for realms, kept for symmetry with the certificate format). */
  readonly grantedBy: DeviceID | null;
  readonly grantedOn: DateTime;
}

/** Parsec `MaintenanceType`. */
export type MaintenanceType = "REENCRYPTION" | "GARBAGE_COLLECTION";

/** A maintenance in progress on a realm. */
export interface RealmMaintenance {
  readonly type: MaintenanceType;
  readonly startedBy: DeviceID;
  readonly startedOn: DateTime;
}

/**
 * A realm: the unit of sharing. Its role grants are in chronological order; its encryption revision
 * starts at 1 and increases by one with each re-encryption maintenance.
 * Source: Parsec v2.16.3 `parsec/backend/realm.py` (`RealmStatus`, `RealmGrantedRole`).
 */
export interface Realm {
  readonly id: RealmID;
  readonly createdOn: DateTime;
  readonly encryptionRevision: number;
  readonly maintenance: RealmMaintenance | null;
  readonly grants: readonly RealmRoleGrant[];
}

/** A user's last role change in a realm: the role it left them with (`null`: removed) and when. */
export interface LastGrant {
  readonly role: RealmRole | null;
  readonly grantedOn: DateTime;
}

/**
 * What the vlob and block access rules need to know of a realm for one user, read in one lookup on hot paths
 * (`RealmRepository.getAccess`): the realm's encryption revision and maintenance, and the user's last grant
 * (null when the user never had a role in it).
 */
export interface RealmAccess {
  readonly realmId: RealmID;
  readonly encryptionRevision: number;
  readonly maintenance: RealmMaintenance | null;
  readonly lastGrant: LastGrant | null;
}

/** The {@link RealmAccess} of `userId` to `realm`. */
export const accessOf = (realm: Realm, userId: UserID): RealmAccess => {
  const last = lastGrantOf(realm, userId);
  return {
    realmId: realm.id,
    encryptionRevision: realm.encryptionRevision,
    maintenance: realm.maintenance,
    lastGrant: last ? { role: last.role, grantedOn: last.grantedOn } : null,
  };
};

/** The current role a {@link RealmAccess} gives its user, or null when not a member. */
export const roleIn = (access: RealmAccess): RealmRole | null => access.lastGrant?.role ?? null;

/** Current role of every member (users whose last grant removed their role are absent). */
export const currentRoles = (realm: Realm): Map<UserID, RealmRole> => {
  const roles = new Map<UserID, RealmRole>();
  for (const grant of realm.grants) {
    if (grant.role === null) roles.delete(grant.userId);
    else roles.set(grant.userId, grant.role);
  }
  return roles;
};

/** The current role of `userId` in `realm`, or null when not a member. */
export const roleOf = (realm: Realm, userId: UserID): RealmRole | null => {
  let role: RealmRole | null = null;
  for (const grant of realm.grants) if (grant.userId === userId) role = grant.role;
  return role;
};

/** The last grant concerning `userId`, or null. */
export const lastGrantOf = (realm: Realm, userId: UserID): RealmRoleGrant | null => {
  for (let i = realm.grants.length - 1; i >= 0; i--) if (realm.grants[i]!.userId === userId) return realm.grants[i]!;
  return null;
};

/** Any member may read a realm's vlobs and blocks. */
export const canRead = (role: RealmRole | null): boolean => role !== null;

/** OWNER, MANAGER and CONTRIBUTOR may write vlobs and blocks; READER may not. */
export const canWrite = (role: RealmRole | null): boolean => role === "OWNER" || role === "MANAGER" || role === "CONTRIBUTOR";

/** OWNER and MANAGER may change other members' roles (within the limits of {@link authorizeRoleChange}). */
export const canManage = (role: RealmRole | null): boolean => role === "OWNER" || role === "MANAGER";

/**
 * A new realm whose only grant is its creator's OWNER role (`realm_create`): encryption revision 1, no maintenance,
 * created at the grant's timestamp.
 */
export const newRealm = (id: RealmID, creation: RealmRoleGrant): Realm => ({
  id,
  createdOn: creation.grantedOn,
  encryptionRevision: 1,
  maintenance: null,
  grants: [creation],
});

/** `realm` with `grant` appended (the grant is assumed checked by {@link authorizeRoleChange} and {@link checkRoleChangeCausality}). */
export const withGrant = (realm: Realm, grant: RealmRoleGrant): Realm => ({ ...realm, grants: [...realm.grants, grant] });

/**
 * Timestamp of the latest role certificate signed by one of `userId`'s devices in `realm`, or null.
 * Parsec v2.16.3 keeps it as `last_role_change` (`realm_user_change` table) to order management-rights removals.
 * Parsec leaves the creation certificate out; counting it changes no outcome, since it is also the creator's own
 * first grant, which {@link checkRoleChangeCausality} compares first.
 */
export const lastRoleChangeBy = (realm: Realm, userId: UserID): DateTime | null => {
  let last: DateTime | null = null;
  for (const grant of realm.grants)
    if (grant.grantedBy !== null && DeviceID.userId(grant.grantedBy) === userId && (last === null || grant.grantedOn.isAfter(last)))
      last = grant.grantedOn;
  return last;
};
