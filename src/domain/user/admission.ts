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
 * Whether a new user may join an organization whose current users are `users`, checked in this order:
 * 1. an OUTSIDER when the organization refuses outsiders → `not_allowed` (a check Parsec v2.16.3 leaves to clients);
 * 2. `activeUsersLimit` users without revocation already → `active_users_limit_reached`;
 * 3. the user id is taken, or a user not revoked at `now` holds the same email → `already_exists`
 *    (a revoked user's email is free again; the label does not matter).
 *
 * Source: Parsec v2.16.3 `postgresql/user_queries/create.py` (`q_create_user`).
 */
export const checkUserAdmission = (input: {
  readonly settings: AdmissionSettings;
  readonly users: readonly UserSummary[];
  readonly newUser: { readonly userId: UserID; readonly humanHandle: HumanHandle | null; readonly profile: UserProfile };
  readonly now: DateTime;
}): UserAdmission => {
  const { settings, users, newUser, now } = input;
  if (newUser.profile === "OUTSIDER" && !settings.userProfileOutsiderAllowed)
    return { kind: "not_allowed", reason: "The organization does not allow users with the OUTSIDER profile." };
  if (settings.activeUsersLimit !== null && users.filter(countsAsActiveUser).length >= settings.activeUsersLimit)
    return { kind: "active_users_limit_reached", reason: "The organization's active users limit is reached." };
  if (users.some((user) => user.userId === newUser.userId)) return { kind: "already_exists", reason: `User \`${newUser.userId}\` already exists` };
  const email = newUser.humanHandle?.email;
  if (email !== undefined && users.some((user) => user.humanHandle?.email === email && !isRevoked(user, now)))
    return { kind: "already_exists", reason: `Human handle \`${email}\` already corresponds to a non-revoked user` };
  return { kind: "ok" };
};
