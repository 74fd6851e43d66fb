import { type RealmAccess, type RequireGreaterTimestamp } from "../realm/index.js";
import type { DateTime } from "../time.js";

/** The user has no role in the realm, or not one that allows the operation. */
export interface NotAllowed {
  readonly kind: "not_allowed";
}
/** The realm is under a maintenance that forbids the operation. */
export interface InMaintenance {
  readonly kind: "in_maintenance";
}
/** A maintenance operation on a realm that is not under re-encryption maintenance. */
export interface NotInMaintenance {
  readonly kind: "not_in_maintenance";
}
/** The encryption revision given by the client is not the one the operation needs. */
export interface BadEncryptionRevision {
  readonly kind: "bad_encryption_revision";
}
/** Causality: the client must write again with a timestamp strictly after `strictlyGreaterThan` (shared with the realm rules). */
export type { RequireGreaterTimestamp } from "../realm/index.js";

const OK = { kind: "ok" } as const;
const NOT_ALLOWED: NotAllowed = { kind: "not_allowed" };
const IN_MAINTENANCE: InMaintenance = { kind: "in_maintenance" };
const NOT_IN_MAINTENANCE: NotInMaintenance = { kind: "not_in_maintenance" };
const BAD_ENCRYPTION_REVISION: BadEncryptionRevision = { kind: "bad_encryption_revision" };

/** True while a re-encryption maintenance runs: `realm.encryptionRevision` is then the new, not yet usable, revision. */
export const inReencryption = (realm: Pick<RealmAccess, "maintenance">): boolean => realm.maintenance?.type === "REENCRYPTION";

/** Outcome of {@link checkVlobReadAccess}. */
export type VlobReadAccess = typeof OK | NotAllowed | InMaintenance | BadEncryptionRevision;

/**
 * May the user of `realm` (a {@link RealmAccess}) read the realm's vlobs at `encryptionRevision`? Any role may read (`not_allowed` otherwise).
 * During a re-encryption the vlobs are readable only at the previous revision: the new one gives `in_maintenance`,
 * any other `bad_encryption_revision`. Under another maintenance every read gives `in_maintenance`; otherwise the
 * revision must be the realm's (`bad_encryption_revision`).
 * Source: Parsec v2.16.3 `memory/vlob.py` `_check_realm_access` (`DATA_READ`).
 */
export const checkVlobReadAccess = (realm: RealmAccess, encryptionRevision: number): VlobReadAccess => {
  const access = checkRealmReadAccess(realm);
  if (access.kind !== "ok") return access;
  if (inReencryption(realm)) {
    if (encryptionRevision === realm.encryptionRevision) return IN_MAINTENANCE;
    return encryptionRevision === realm.encryptionRevision - 1 ? OK : BAD_ENCRYPTION_REVISION;
  }
  return encryptionRevision === realm.encryptionRevision ? OK : BAD_ENCRYPTION_REVISION;
};

/** Outcome of {@link checkRealmReadAccess}. */
export type RealmReadAccess = typeof OK | NotAllowed | InMaintenance;

/**
 * May the user of `realm` read the realm's vlob metadata that names no encryption revision (`vlob_poll_changes`,
 * `vlob_list_versions`)? Any role (`not_allowed` otherwise), and no maintenance but a re-encryption (`in_maintenance`).
 * Source: Parsec v2.16.3 `memory/vlob.py` `_check_realm_access` (`DATA_READ` without revision).
 */
export const checkRealmReadAccess = (realm: RealmAccess): RealmReadAccess => {
  if ((realm.lastGrant?.role ?? null) === null) return NOT_ALLOWED;
  return realm.maintenance !== null && !inReencryption(realm) ? IN_MAINTENANCE : OK;
};

/** Outcome of {@link checkVlobWriteAccess}. */
export type VlobWriteAccess = typeof OK | NotAllowed | RequireGreaterTimestamp | InMaintenance | BadEncryptionRevision;

/**
 * May the user of `realm` write a vlob version stamped `timestamp` at `encryptionRevision`? In Parsec's order: OWNER, MANAGER or
 * CONTRIBUTOR (`not_allowed`); the write comes strictly after the user's last role change in the realm
 * (`require_greater_timestamp` with that change's timestamp); no maintenance (`in_maintenance`); the realm's
 * current revision (`bad_encryption_revision`).
 * Source: Parsec v2.16.3 `memory/vlob.py` `_check_realm_access` (`DATA_WRITE`).
 */
export const checkVlobWriteAccess = (realm: RealmAccess, encryptionRevision: number, timestamp: DateTime): VlobWriteAccess => {
  const grant = realm.lastGrant;
  if (grant === null || (grant.role !== "OWNER" && grant.role !== "MANAGER" && grant.role !== "CONTRIBUTOR")) return NOT_ALLOWED;
  if (!grant.grantedOn.isBefore(timestamp)) return { kind: "require_greater_timestamp", strictlyGreaterThan: grant.grantedOn };
  if (realm.maintenance !== null) return IN_MAINTENANCE;
  return encryptionRevision === realm.encryptionRevision ? OK : BAD_ENCRYPTION_REVISION;
};

/** Outcome of {@link checkVlobMaintenanceAccess}. */
export type VlobMaintenanceAccess = typeof OK | NotAllowed | NotInMaintenance | BadEncryptionRevision;

/**
 * May the user of `realm` exchange re-encryption batches for `encryptionRevision` (the new revision)? OWNER only
 * (`not_allowed`); the realm is under re-encryption maintenance (`not_in_maintenance`); the revision is the
 * realm's new one (`bad_encryption_revision`).
 * Source: Parsec v2.16.3 `memory/vlob.py` `_check_realm_access` (`MAINTENANCE`); Parsec accepts any maintenance
 * type there, but only re-encryption maintenances exist, so another type is answered `not_in_maintenance`.
 */
export const checkVlobMaintenanceAccess = (realm: RealmAccess, encryptionRevision: number): VlobMaintenanceAccess => {
  if (realm.lastGrant?.role !== "OWNER") return NOT_ALLOWED;
  if (!inReencryption(realm)) return NOT_IN_MAINTENANCE;
  return encryptionRevision === realm.encryptionRevision ? OK : BAD_ENCRYPTION_REVISION;
};
