import type { InvitationToken, InvitationType, UserID } from "../ids.js";
import type { DateTime } from "../time.js";

/** Invitation status as published to greeters (Parsec `InvitationStatus`). */
export type InvitationStatus = "IDLE" | "READY" | "DELETED";

/** Why an invitation was deleted (Parsec `InvitationDeletedReason`). */
export type InvitationDeletedReason = "FINISHED" | "CANCELLED" | "ROTTEN";

/**
 * An invitation to join an organization (USER: a new user by email; DEVICE: a new device of the greeter).
 * Source: Parsec v2.16.3 `parsec/backend/invite.py`.
 */
export interface Invitation {
  readonly token: InvitationToken;
  readonly type: InvitationType;
  readonly greeterUserId: UserID;
  /** Email of the invited person (USER invitations only). */
  readonly claimerEmail: string | null;
  readonly createdOn: DateTime;
  readonly status: InvitationStatus;
  readonly deleted: { readonly on: DateTime; readonly reason: InvitationDeletedReason } | null;
}
