import type { HumanHandle, UserID, UserProfile } from "../ids.js";
import type { DateTime } from "../time.js";
import { countsAsActiveUser, isRevoked, type UserSummary } from "./user.js";

/** The organization settings that govern who may join. */
export interface AdmissionSettings {
  readonly userProfileOutsiderAllowed: boolean;
  /** Maximum number of users without revocation; null means no limit. */
  readonly activeUsersLimit: number | null;
}

/** Outcome of {@link checkUserAdmission}; `reason` is for logs (Parsec replies carry none). */
export type UserAdmission =
  | { readonly kind: "ok" }
  | { readonly kind: "not_allowed"; readonly reason: string }
  | { readonly kind: "active_users_limit_reached"; readonly reason: string }
  | { readonly kind: "already_exists"; readonly reason: string };

/**
 * What the store knows about the organization's users that {@link checkUserAdmission} needs, read in the creating
 * transaction under locks that keep it true until the insertion (see `UserRepository.admissionFacts`).
 */
export interface AdmissionFacts {
  /** Users without any revocation (even one dated in the future); null when the organization has no limit (not counted). */
  readonly activeUsers: number | null;
  /** The new user's id is already taken in the organization. */
  readonly userIdTaken: boolean;
  /** A user not revoked at the time of the creation holds the new user's email (false when it has no human handle). */
  readonly emailTaken: boolean;
}

/**
 * Whether a new user may join an organization, checked in this order:
 * 1. an OUTSIDER when the organization refuses outsiders → `not_allowed` (a check Parsec v2.16.3 leaves to clients);
 * 2. `activeUsersLimit` users without revocation already → `active_users_limit_reached`;
 * 3. the user id is taken, or a user not revoked at the time of creation holds the same email → `already_exists`
 *    (a revoked user's email is free again; the label does not matter).
 *
 * Source: Parsec v2.16.3 `postgresql/user_queries/create.py` (`q_create_user`).
 */
export const checkUserAdmission = (input: {
  readonly settings: AdmissionSettings;
  readonly facts: AdmissionFacts;
  readonly newUser: { readonly userId: UserID; readonly humanHandle: HumanHandle | null; readonly profile: UserProfile };
}): UserAdmission => {
  const { settings, facts, newUser } = input;
  if (newUser.profile === "OUTSIDER" && !settings.userProfileOutsiderAllowed)
    return { kind: "not_allowed", reason: "The organization does not allow users with the OUTSIDER profile." };
  if (settings.activeUsersLimit !== null && (facts.activeUsers ?? 0) >= settings.activeUsersLimit)
    return { kind: "active_users_limit_reached", reason: "The organization's active users limit is reached." };
  if (facts.userIdTaken) return { kind: "already_exists", reason: `User \`${newUser.userId}\` already exists` };
  if (newUser.humanHandle !== null && facts.emailTaken)
    return { kind: "already_exists", reason: `Human handle \`${newUser.humanHandle.email}\` already corresponds to a non-revoked user` };
  return { kind: "ok" };
};

/**
 * {@link AdmissionFacts} computed from a list of every user of the organization (for stores that hold them in memory).
 * `now` judges revocations for the email rule; `countActiveUsers` is false when the organization has no limit.
 */
export const admissionFactsFrom = (
  users: Iterable<UserSummary>,
  newUser: { readonly userId: UserID; readonly email: string | null },
  now: DateTime,
  countActiveUsers: boolean,
): AdmissionFacts => {
  let activeUsers = 0;
  let userIdTaken = false;
  let emailTaken = false;
  for (const user of users) {
    if (countsAsActiveUser(user)) activeUsers += 1;
    if (user.userId === newUser.userId) userIdTaken = true;
    if (newUser.email !== null && user.humanHandle?.email === newUser.email && !isRevoked(user, now)) emailTaken = true;
  }
  return { activeUsers: countActiveUsers ? activeUsers : null, userIdTaken, emailTaken };
};
