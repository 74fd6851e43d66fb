import type { DeviceID, RealmID } from "../../domain/ids.js";
import { accessOf, checkRealmMembership, type MaintenanceType } from "../../domain/realm/index.js";
import type { DateTime } from "../../domain/time.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession } from "../session/session.js";

/** A realm the author may not read about, or that does not exist (`reason` for logs; Parsec sends none). */
type ReadRefusal = { readonly kind: "not_allowed" } | { readonly kind: "not_found"; readonly reason: string };

const notFound = (realmId: RealmID): ReadRefusal => ({ kind: "not_found", reason: `Realm \`${realmId}\` doesn't exist` });

/** Every status of `realm_status` this server returns (`realm_deleted` needs archiving, not implemented). */
export type GetRealmStatusOutcome =
  | {
      readonly kind: "ok";
      readonly inMaintenance: boolean;
      readonly maintenanceType: MaintenanceType | null;
      readonly maintenanceStartedOn: DateTime | null;
      readonly maintenanceStartedBy: DeviceID | null;
      /** Starts at 1, plus one per re-encryption started. */
      readonly encryptionRevision: number;
    }
  | ReadRefusal;

/**
 * `realm_status` (authenticated): maintenance state and encryption revision of a realm. The realm exists
 * (`not_found`) and the author's user has a role in it (`not_allowed`).
 * Source: Parsec v2.16.3 `realm.py` (`api_realm_status`).
 */
export const getRealmStatus =
  (deps: Pick<ApplicationDeps, "realms">) =>
  async (session: AuthenticatedSession, realmId: RealmID): Promise<GetRealmStatusOutcome> => {
    const realm = await deps.realms.getAccess(session.organizationId, realmId, session.userId);
    if (!realm) return notFound(realmId);
    const access = checkRealmMembership(realm);
    if (access.kind !== "ok") return access;
    return {
      kind: "ok",
      inMaintenance: realm.maintenance !== null,
      maintenanceType: realm.maintenance?.type ?? null,
      maintenanceStartedOn: realm.maintenance?.startedOn ?? null,
      maintenanceStartedBy: realm.maintenance?.startedBy ?? null,
      encryptionRevision: realm.encryptionRevision,
    };
  };

/** Every status of `realm_stats` this server returns (`realm_deleted` needs archiving, not implemented). */
export type GetRealmStatsOutcome = { readonly kind: "ok"; readonly blocksSize: number; readonly vlobsSize: number } | ReadRefusal;

/**
 * `realm_stats` (authenticated): bytes of every block and of every vlob version of a realm. The realm exists
 * (`not_found`) and the author's user has a role in it (`not_allowed`).
 * Source: Parsec v2.16.3 `realm.py` (`api_realm_stats`).
 */
export const getRealmStats =
  (deps: Pick<ApplicationDeps, "realms" | "blocks" | "vlobs">) =>
  async (session: AuthenticatedSession, realmId: RealmID): Promise<GetRealmStatsOutcome> => {
    const realm = await deps.realms.getAccess(session.organizationId, realmId, session.userId);
    if (!realm) return notFound(realmId);
    const access = checkRealmMembership(realm);
    if (access.kind !== "ok") return access;
    const [blocksSize, vlobsSize] = await Promise.all([
      deps.blocks.realmSize(session.organizationId, realmId),
      deps.vlobs.realmSize(session.organizationId, realmId),
    ]);
    return { kind: "ok", blocksSize, vlobsSize };
  };

/** Every status of `realm_get_role_certificates`. */
export type GetRealmRoleCertificatesOutcome = { readonly kind: "ok"; readonly certificates: readonly Buffer[] } | ReadRefusal;

/**
 * `realm_get_role_certificates` (authenticated): every `realm_role_certificate` of a realm, exactly as received,
 * oldest timestamp first (ties in arrival order). The realm exists (`not_found`) and the author's user currently has a
 * role in it (`not_allowed`).
 * Source: Parsec v2.16.3 `realm.py` (`api_realm_get_role_certificates`) and `realm_queries/get.py`.
 */
export const getRealmRoleCertificates =
  (deps: Pick<ApplicationDeps, "realms">) =>
  async (session: AuthenticatedSession, realmId: RealmID): Promise<GetRealmRoleCertificatesOutcome> => {
    const realm = await deps.realms.get(session.organizationId, realmId);
    if (!realm) return notFound(realmId);
    const access = checkRealmMembership(accessOf(realm, session.userId));
    if (access.kind !== "ok") return access;
    const certificates = [...realm.grants].sort((a, b) => a.grantedOn.compare(b.grantedOn)).map((grant) => grant.certificate);
    return { kind: "ok", certificates };
  };
