import {
  badTimestamp,
  describeLoadFailure,
  timestampsInTheBallpark,
  verifyAndLoad,
  type BadTimestamp,
  type InvalidCertification,
  type InvalidData,
} from "../certificates/index.js";
import { DeviceID, type RealmID, type RealmRole, type UserID, type UserProfile } from "../ids.js";
import type { DateTime } from "../time.js";
import type { User } from "../user/index.js";
import { canManage, canWrite, lastGrantOf, lastRoleChangeBy, roleIn, roleOf, type Realm, type RealmAccess, type RealmRoleGrant } from "./realm.js";

/** A {@link RealmRoleGrant} read from a certificate signed by a device, with the realm it concerns. */
export interface RoleCertificateGrant extends RealmRoleGrant {
  readonly realmId: RealmID;
  readonly grantedBy: DeviceID;
}

/** The client must sign a new certificate (or vlob) with a timestamp strictly after `strictlyGreaterThan` (Parsec `require_greater_timestamp`). */
export interface RequireGreaterTimestamp {
  readonly kind: "require_greater_timestamp";
  readonly strictlyGreaterThan: DateTime;
}

/** Outcome of {@link loadRoleCertificate}. */
export type RoleCertificateLoad = { readonly kind: "ok"; readonly grant: RoleCertificateGrant } | InvalidCertification | BadTimestamp;

/**
 * Reads a `realm_role_certificate` sent by the session's device (`realm_create`, `realm_update_roles`): it must verify
 * with `authorVerifyKey` and name `author` (`invalid_certification`), and its timestamp must be in the ballpark of `now`
 * (`bad_timestamp`). The grant keeps the certificate exactly as received.
 */
export const loadRoleCertificate = (input: {
  readonly certificate: Buffer;
  readonly author: DeviceID;
  readonly authorVerifyKey: Uint8Array;
  readonly now: DateTime;
}): RoleCertificateLoad => {
  const loaded = verifyAndLoad(input.certificate, input.authorVerifyKey, { type: "realm_role_certificate", author: input.author });
  if (!loaded.ok) return { kind: "invalid_certification", reason: `Invalid certification data (${describeLoadFailure(loaded)}).` };
  const { certificate } = loaded;
  if (!timestampsInTheBallpark(certificate.timestamp, input.now)) return badTimestamp(certificate.timestamp, input.now);
  return {
    kind: "ok",
    grant: {
      realmId: certificate.realmId,
      userId: certificate.userId,
      role: certificate.role,
      certificate: input.certificate,
      grantedBy: input.author,
      grantedOn: certificate.timestamp,
    },
  };
};

/** `realm_create` accepts only its author's own OWNER role (`invalid_data` otherwise). Source: Parsec v2.16.3 `api_realm_create`. */
export const checkRealmCreation = (grant: RoleCertificateGrant): { readonly kind: "ok" } | InvalidData => {
  if (DeviceID.userId(grant.grantedBy) !== grant.userId)
    return { kind: "invalid_data", reason: "The initial role certificate must concern its author's own user." };
  if (grant.role !== "OWNER") return { kind: "invalid_data", reason: "The initial role certificate must grant the OWNER role." };
  return { kind: "ok" };
};

/** `realm_update_roles` refuses a certificate changing its author's own role (`invalid_data`). */
export const checkNotSelfGrant = (grant: RoleCertificateGrant): { readonly kind: "ok" } | InvalidData =>
  DeviceID.userId(grant.grantedBy) === grant.userId
    ? { kind: "invalid_data", reason: "Realm role certificate cannot be self-signed." }
    : { kind: "ok" };

/** An OUTSIDER may own the realms it creates but never shares: it cannot change anyone's role (`not_allowed`). */
export const canShareRealms = (profile: UserProfile): boolean => profile !== "OUTSIDER";

/** Outcome of {@link checkRoleRecipient}. */
export type RoleRecipientCheck =
  | { readonly kind: "ok" }
  | { readonly kind: "not_found"; readonly reason: string }
  | { readonly kind: "user_revoked" }
  | { readonly kind: "incompatible_profile"; readonly reason: string };

/**
 * The user receiving a role: it exists (`not_found`), has no revocation, even one dated in the future
 * (`user_revoked`, also when removing a role), and is no OUTSIDER when the role is OWNER or MANAGER
 * (`incompatible_profile`). Order of Parsec v2.16.3's memory backend.
 */
export const checkRoleRecipient = (recipient: Pick<User, "profile" | "revokedOn"> | null, role: RealmRole | null): RoleRecipientCheck => {
  if (recipient === null) return { kind: "not_found", reason: "User doesn't exist" };
  if (recipient.revokedOn !== null) return { kind: "user_revoked" };
  if (recipient.profile === "OUTSIDER" && canManage(role))
    return { kind: "incompatible_profile", reason: "User with OUTSIDER profile cannot be MANAGER or OWNER" };
  return { kind: "ok" };
};

/** Outcome of {@link authorizeRoleChange}. */
export type RoleChangeAuthorization =
  | { readonly kind: "ok" }
  | { readonly kind: "in_maintenance" }
  | { readonly kind: "not_allowed"; readonly reason: string }
  | { readonly kind: "already_granted" };

/**
 * Whether `grant`'s author may make this change in `realm`, in Parsec v2.16.3's order: the realm is not in maintenance
 * (`in_maintenance`); when the recipient's current or new role is OWNER or MANAGER the author must be OWNER, otherwise
 * OWNER or MANAGER (`not_allowed`); the new role differs from the current one, where no role counts as `null`, so
 * removing the role of a non-member is `already_granted`.
 */
export const authorizeRoleChange = (realm: Realm, grant: RoleCertificateGrant): RoleChangeAuthorization => {
  if (realm.maintenance !== null) return { kind: "in_maintenance" };
  const current = roleOf(realm, grant.userId);
  const authorRole = roleOf(realm, DeviceID.userId(grant.grantedBy));
  const ownerNeeded = canManage(current) || canManage(grant.role);
  if (ownerNeeded ? authorRole !== "OWNER" : !canManage(authorRole))
    return { kind: "not_allowed", reason: ownerNeeded ? "Only an OWNER can grant or change OWNER and MANAGER roles." : "Only an OWNER or a MANAGER can change roles." };
  if (current === grant.role) return { kind: "already_granted" };
  return { kind: "ok" };
};

/** True when the causality check of {@link checkRoleChangeCausality} needs the recipient's last vlob write in the realm. */
export const roleChangeNeedsLastVlobWrite = (role: RealmRole | null): boolean => !canWrite(role);

/**
 * Timestamp causality of a role change (Parsec v2.16.3 `update_roles`), checked in this order; each failure gives the
 * timestamp to exceed:
 * 1. after the recipient's last role certificate in the realm;
 * 2. when the new role cannot write (READER or none): after `lastVlobWrite`, the recipient's last vlob write in the realm;
 * 3. when the new role cannot manage (CONTRIBUTOR, READER or none): after the last role certificate the recipient signed in the realm.
 * Parsec also orders owner removals after the recipient's archiving certificates; archiving is not implemented here.
 */
export const checkRoleChangeCausality = (
  realm: Realm,
  grant: RoleCertificateGrant,
  lastVlobWrite: DateTime | null,
): { readonly kind: "ok" } | RequireGreaterTimestamp => {
  const mustFollow = (earlier: DateTime | null): RequireGreaterTimestamp | null =>
    earlier !== null && !grant.grantedOn.isAfter(earlier) ? { kind: "require_greater_timestamp", strictlyGreaterThan: earlier } : null;
  const refusal =
    mustFollow(lastGrantOf(realm, grant.userId)?.grantedOn ?? null) ??
    (roleChangeNeedsLastVlobWrite(grant.role) ? mustFollow(lastVlobWrite) : null) ??
    (canManage(grant.role) ? null : mustFollow(lastRoleChangeBy(realm, grant.userId)));
  return refusal ?? { kind: "ok" };
};

/** Access to a realm's status, statistics and role certificates: members only (`not_allowed`). */
export const checkRealmMembership = (realm: RealmAccess): { readonly kind: "ok" } | { readonly kind: "not_allowed" } =>
  roleIn(realm) === null ? { kind: "not_allowed" } : { kind: "ok" };
