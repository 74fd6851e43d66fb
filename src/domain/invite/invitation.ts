import type { HumanHandle, InvitationToken, InvitationType, UserID, UserProfile } from "../ids.js";
import type { DateTime } from "../time.js";
import { isRevoked, type User } from "../user/index.js";

/** Invitation status as published to greeters (Parsec `InvitationStatus`). */
export type InvitationStatus = "IDLE" | "READY" | "DELETED";

/** Why an invitation was deleted (Parsec `InvitationDeletedReason`). */
export type InvitationDeletedReason = "FINISHED" | "CANCELLED" | "ROTTEN";

/** What `invite_new` reports about the email it was asked to send (Parsec `InvitationEmailSentStatus`). */
export type InvitationEmailSentStatus = "SUCCESS" | "NOT_AVAILABLE" | "BAD_RECIPIENT";

/**
 * An invitation to join an organization (USER: a new user by email; DEVICE: a new device of the greeter).
 * `status` is DELETED exactly when `deleted` is set; otherwise READY while a claimer is connected, IDLE else.
 * Source: Parsec v2.16.3 `parsec/backend/invite.py`.
 */
export interface Invitation {
  readonly token: InvitationToken;
  readonly type: InvitationType;
  readonly greeterUserId: UserID;
  /**
   * The greeter's human handle when the invitation was created (shown to the claimer by `invite_info`);
   * null for a greeter without one, absent when not recorded.
   */
  readonly greeterHumanHandle?: HumanHandle | null;
  /** Email of the invited person (USER invitations only). */
  readonly claimerEmail: string | null;
  readonly createdOn: DateTime;
  readonly status: InvitationStatus;
  readonly deleted: { readonly on: DateTime; readonly reason: InvitationDeletedReason } | null;
}

/** Size of an invitation token in bytes (a UUID; Parsec `InvitationToken`). */
export const INVITATION_TOKEN_SIZE = 16;

/** Only ADMIN users may invite new users; any user may invite a device of their own (Parsec `api_invite_new`). */
export const mayInviteUser = (profile: UserProfile): boolean => profile === "ADMIN";

/** What a greeter asks `invite_new` for: a USER invitation for `claimerEmail`, or a DEVICE invitation (`claimerEmail` null). */
export interface InvitationRequest {
  readonly greeterUserId: UserID;
  readonly type: Exclude<InvitationType, "SHAMIR_RECOVERY">;
  readonly claimerEmail: string | null;
}

/**
 * True when `invite_new` must answer with `invitation` instead of creating one: an invitation not deleted,
 * of the same greeter and type, and for USER the same claimer email (exact match, as in Parsec).
 */
export const isReusableFor = (invitation: Invitation, request: InvitationRequest): boolean =>
  invitation.deleted === null &&
  invitation.greeterUserId === request.greeterUserId &&
  invitation.type === request.type &&
  (request.type === "DEVICE" || invitation.claimerEmail === request.claimerEmail);

/** True when one of `users` not revoked at `now` has `email` in their human handle: `invite_new` answers `already_member`. */
export const isActiveMember = (users: readonly Pick<User, "humanHandle" | "revokedOn">[], email: string, now: DateTime): boolean =>
  users.some((user) => user.humanHandle?.email === email && !isRevoked(user, now));

/** The invitation deleted on `on` for `reason`. */
export const deleteInvitation = (invitation: Invitation, on: DateTime, reason: InvitationDeletedReason): Invitation => ({
  ...invitation,
  status: "DELETED",
  deleted: { on, reason },
});
