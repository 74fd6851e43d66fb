import { USER_PROFILES, type OrganizationID, type UserProfile } from "../ids.js";
import type { DateTime } from "../time.js";

/** The sequester authority of an organization: its certificate as received and its RSA verify key (DER). */
export interface SequesterAuthority {
  readonly certificate: Buffer;
  readonly verifyKeyDer: Buffer;
}

/**
 * An organization as the server keeps it.
 * Source: Parsec v2.16.3 `parsec/backend/organization.py` (`Organization`).
 */
export interface Organization {
  readonly id: OrganizationID;
  /** Token expected by `organization_bootstrap`: 64 hex digits, or `""` for a spontaneous bootstrap. */
  readonly bootstrapToken: string;
  readonly isExpired: boolean;
  readonly createdOn: DateTime;
  readonly bootstrappedOn: DateTime | null;
  /** Ed25519 root verify key (32 bytes), set once at bootstrap. */
  readonly rootVerifyKey: Buffer | null;
  readonly userProfileOutsiderAllowed: boolean;
  /** Maximum number of non-revoked users; `null` means no limit. */
  readonly activeUsersLimit: number | null;
  /** Minimum realm archiving period, in seconds. */
  readonly minimumArchivingPeriod: number;
  readonly sequesterAuthority: SequesterAuthority | null;
  readonly sequesterServicesCertificates: readonly Buffer[] | null;
}

/** Settings applied to organizations created without explicit values. */
export interface OrganizationDefaults {
  readonly activeUsersLimit: number | null;
  readonly userProfileOutsiderAllowed: boolean;
  /** Seconds; Parsec's default is 30 days. */
  readonly minimumArchivingPeriod: number;
}

/** Parsec v2.16.3's defaults: no user limit, outsiders allowed, 30-day archiving period. */
export const DEFAULT_ORGANIZATION_SETTINGS: OrganizationDefaults = {
  activeUsersLimit: null,
  userProfileOutsiderAllowed: true,
  minimumArchivingPeriod: 2_592_000,
};

/** True once `organization_bootstrap` succeeded. */
export const isBootstrapped = (org: Organization): boolean => org.rootVerifyKey !== null;

/** The fields the administration API may change (`PATCH /administration/organizations/<id>`); absent means unchanged. */
export interface OrganizationPatch {
  readonly isExpired?: boolean;
  readonly userProfileOutsiderAllowed?: boolean;
  readonly activeUsersLimit?: number | null;
  readonly minimumArchivingPeriod?: number;
}

/** Applies a patch to an organization (pure). */
export const applyPatch = (org: Organization, patch: OrganizationPatch): Organization => ({
  ...org,
  ...(patch.isExpired !== undefined && { isExpired: patch.isExpired }),
  ...(patch.userProfileOutsiderAllowed !== undefined && { userProfileOutsiderAllowed: patch.userProfileOutsiderAllowed }),
  ...(patch.activeUsersLimit !== undefined && { activeUsersLimit: patch.activeUsersLimit }),
  ...(patch.minimumArchivingPeriod !== undefined && { minimumArchivingPeriod: patch.minimumArchivingPeriod }),
});

/** Per-profile user counts (`users_per_profile_detail`). */
export interface UsersPerProfileDetail {
  readonly profile: "ADMIN" | "STANDARD" | "OUTSIDER";
  readonly active: number;
  readonly revoked: number;
}

/**
 * Usage figures of one organization (Parsec `OrganizationStats`): sizes in bytes,
 * `users` counts every user, `active_users` the non-revoked ones.
 */
export interface OrganizationStats {
  readonly dataSize: number;
  readonly metadataSize: number;
  readonly realms: number;
  readonly users: number;
  readonly activeUsers: number;
  readonly usersPerProfileDetail: readonly UsersPerProfileDetail[];
}

/**
 * The user figures of {@link OrganizationStats} from user counts by profile, summed where a profile comes more than
 * once (one entry per user will do): `users` counts all, `activeUsers` the active ones, and `usersPerProfileDetail`
 * lists every profile in {@link USER_PROFILES} order, with 0 for a profile absent from `counts`. `dataSize`,
 * `metadataSize` and `realms` are not user figures and are 0.
 */
export const userStatsFrom = (counts: Iterable<UsersPerProfileDetail>): OrganizationStats => {
  const detail = new Map<UserProfile, { active: number; revoked: number }>(USER_PROFILES.map((profile) => [profile, { active: 0, revoked: 0 }]));
  let users = 0;
  let activeUsers = 0;
  for (const { profile, active, revoked } of counts) {
    const sums = detail.get(profile)!;
    sums.active += active;
    sums.revoked += revoked;
    users += active + revoked;
    activeUsers += active;
  }
  return {
    dataSize: 0,
    metadataSize: 0,
    realms: 0,
    users,
    activeUsers,
    usersPerProfileDetail: [...detail].map(([profile, sums]) => ({ profile, ...sums })),
  };
};
