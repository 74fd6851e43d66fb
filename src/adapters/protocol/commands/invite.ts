import * as t from "io-ts";
import {
  BooleanC,
  BytesC,
  DateTimeC,
  HashDigestC,
  HumanHandleC,
  InvitationStatusC,
  InvitationTokenC,
  NonZeroIntegerC,
  PublicKeyC,
  StringC,
  UserIDC,
  enumeration,
  list,
  nullable,
} from "../codecs/primitives.js";
import { command, reply, request, status, struct } from "../codecs/struct.js";

/** The error statuses every step of the greeting/claiming protocol may answer. */
const conduitErrors = () => [status("not_found"), status("already_deleted"), status("invalid_state")] as const;

/**
 * Authenticated `invite_new`: create a `USER` invitation for `claimer_email`, a `DEVICE` invitation
 * for the author's own user, or a `SHAMIR_RECOVERY` invitation for `claimer_user_id`; optionally
 * email the claimer. The reply's `email_sent` was introduced in API 2.3.
 */
export const inviteNew = command(
  "invite_new",
  t.union(
    [
      struct("invite_new_req:USER", { cmd: t.literal("invite_new"), type: t.literal("USER"), claimer_email: StringC, send_email: BooleanC }),
      struct("invite_new_req:DEVICE", { cmd: t.literal("invite_new"), type: t.literal("DEVICE"), send_email: BooleanC }),
      struct("invite_new_req:SHAMIR_RECOVERY", {
        cmd: t.literal("invite_new"),
        type: t.literal("SHAMIR_RECOVERY"),
        claimer_user_id: UserIDC,
        send_email: BooleanC,
      }),
    ],
    "invite_new_req",
  ),
  reply(
    "invite_new",
    status("ok", { token: InvitationTokenC }, { email_sent: enumeration("InvitationEmailSentStatus", ["SUCCESS", "NOT_AVAILABLE", "BAD_RECIPIENT"] as const) }),
    status("not_allowed"),
    status("already_member"),
    status("not_available"),
    status("shamir_recovery_not_setup"),
  ),
);
/** The decoded `invite_new` request: wire field names, domain value types. */
export type InviteNewReq = t.TypeOf<typeof inviteNew.req>;
/** A `invite_new` reply, one of its declared variants discriminated by `status`. */
export type InviteNewRep = t.TypeOf<typeof inviteNew.rep>;

/** Schema `InvitationDeletedReason`. */
export const InvitationDeletedReasonC = enumeration("InvitationDeletedReason", ["FINISHED", "CANCELLED", "ROTTEN"] as const);
/** The decoded value of {@link InvitationDeletedReasonC}. */
export type InvitationDeletedReason = t.TypeOf<typeof InvitationDeletedReasonC>;

/** Authenticated `invite_delete`: delete an invitation for `reason`. */
export const inviteDelete = command(
  "invite_delete",
  request("invite_delete", { token: InvitationTokenC, reason: InvitationDeletedReasonC }),
  reply("invite_delete", status("ok"), status("not_found"), status("already_deleted")),
);
/** The decoded `invite_delete` request: wire field names, domain value types. */
export type InviteDeleteReq = t.TypeOf<typeof inviteDelete.req>;
/** A `invite_delete` reply, one of its declared variants discriminated by `status`. */
export type InviteDeleteRep = t.TypeOf<typeof inviteDelete.rep>;

/** Schema `InviteListItem` (discriminant `type`). */
export const InviteListItemC = t.union(
  [
    struct("InviteListItem:USER", {
      type: t.literal("USER"),
      token: InvitationTokenC,
      created_on: DateTimeC,
      claimer_email: StringC,
      status: InvitationStatusC,
    }),
    struct("InviteListItem:DEVICE", { type: t.literal("DEVICE"), token: InvitationTokenC, created_on: DateTimeC, status: InvitationStatusC }),
    struct("InviteListItem:SHAMIR_RECOVERY", {
      type: t.literal("SHAMIR_RECOVERY"),
      token: InvitationTokenC,
      created_on: DateTimeC,
      claimer_user_id: UserIDC,
      status: InvitationStatusC,
    }),
  ],
  "InviteListItem",
);
/** The decoded value of {@link InviteListItemC}. */
export type InviteListItem = t.TypeOf<typeof InviteListItemC>;

/** Authenticated `invite_list`: the invitations created by the author. */
export const inviteList = command(
  "invite_list",
  request("invite_list", {}),
  reply("invite_list", status("ok", { invitations: list(InviteListItemC) })),
);
/** The decoded `invite_list` request: wire field names, domain value types. */
export type InviteListReq = t.TypeOf<typeof inviteList.req>;
/** A `invite_list` reply, one of its declared variants discriminated by `status`. */
export type InviteListRep = t.TypeOf<typeof inviteList.rep>;

/** Schema `ShamirRecoveryRecipient` of `invite_info`: a user holding `shares` shares of the secret. */
export const ShamirRecoveryRecipientC = struct("ShamirRecoveryRecipient", {
  user_id: UserIDC,
  human_handle: nullable(HumanHandleC),
  shares: NonZeroIntegerC,
});
/** The decoded value of {@link ShamirRecoveryRecipientC}. */
export type ShamirRecoveryRecipient = t.TypeOf<typeof ShamirRecoveryRecipientC>;

/**
 * Invited `invite_info`: what the invitation is about, flattened into the `ok` reply (discriminant
 * `type`): the greeter of a `USER` or `DEVICE` invitation, or the recipients and `threshold` of a
 * `SHAMIR_RECOVERY` one.
 */
export const inviteInfo = command(
  "invite_info",
  request("invite_info", {}),
  reply(
    "invite_info",
    status("ok", { type: t.literal("USER"), claimer_email: StringC, greeter_user_id: UserIDC, greeter_human_handle: nullable(HumanHandleC) }),
    status("ok", { type: t.literal("DEVICE"), greeter_user_id: UserIDC, greeter_human_handle: nullable(HumanHandleC) }),
    status("ok", { type: t.literal("SHAMIR_RECOVERY"), threshold: NonZeroIntegerC, recipients: list(ShamirRecoveryRecipientC) }),
  ),
);
/** The decoded `invite_info` request: wire field names, domain value types. */
export type InviteInfoReq = t.TypeOf<typeof inviteInfo.req>;
/** A `invite_info` reply, one of its declared variants discriminated by `status`. */
export type InviteInfoRep = t.TypeOf<typeof inviteInfo.rep>;

/** Authenticated `invite_1_greeter_wait_peer`: exchange public keys with the claimer (blocks until it arrives). */
export const invite1GreeterWaitPeer = command(
  "invite_1_greeter_wait_peer",
  request("invite_1_greeter_wait_peer", { token: InvitationTokenC, greeter_public_key: PublicKeyC }),
  reply("invite_1_greeter_wait_peer", status("ok", { claimer_public_key: PublicKeyC }), ...conduitErrors()),
);
/** The decoded `invite_1_greeter_wait_peer` request: wire field names, domain value types. */
export type Invite1GreeterWaitPeerReq = t.TypeOf<typeof invite1GreeterWaitPeer.req>;
/** A `invite_1_greeter_wait_peer` reply, one of its declared variants discriminated by `status`. */
export type Invite1GreeterWaitPeerRep = t.TypeOf<typeof invite1GreeterWaitPeer.rep>;

/** Authenticated `invite_2a_greeter_get_hashed_nonce`: receive the claimer's hashed nonce. */
export const invite2aGreeterGetHashedNonce = command(
  "invite_2a_greeter_get_hashed_nonce",
  request("invite_2a_greeter_get_hashed_nonce", { token: InvitationTokenC }),
  reply("invite_2a_greeter_get_hashed_nonce", status("ok", { claimer_hashed_nonce: HashDigestC }), ...conduitErrors()),
);
/** The decoded `invite_2a_greeter_get_hashed_nonce` request: wire field names, domain value types. */
export type Invite2aGreeterGetHashedNonceReq = t.TypeOf<typeof invite2aGreeterGetHashedNonce.req>;
/** A `invite_2a_greeter_get_hashed_nonce` reply, one of its declared variants discriminated by `status`. */
export type Invite2aGreeterGetHashedNonceRep = t.TypeOf<typeof invite2aGreeterGetHashedNonce.rep>;

/** Authenticated `invite_2b_greeter_send_nonce`: send the greeter's nonce, receive the claimer's. */
export const invite2bGreeterSendNonce = command(
  "invite_2b_greeter_send_nonce",
  request("invite_2b_greeter_send_nonce", { token: InvitationTokenC, greeter_nonce: BytesC }),
  reply("invite_2b_greeter_send_nonce", status("ok", { claimer_nonce: BytesC }), ...conduitErrors()),
);
/** The decoded `invite_2b_greeter_send_nonce` request: wire field names, domain value types. */
export type Invite2bGreeterSendNonceReq = t.TypeOf<typeof invite2bGreeterSendNonce.req>;
/** A `invite_2b_greeter_send_nonce` reply, one of its declared variants discriminated by `status`. */
export type Invite2bGreeterSendNonceRep = t.TypeOf<typeof invite2bGreeterSendNonce.rep>;

/** Authenticated `invite_3a_greeter_wait_peer_trust`: wait for the claimer to confirm the greeter's SAS code. */
export const invite3aGreeterWaitPeerTrust = command(
  "invite_3a_greeter_wait_peer_trust",
  request("invite_3a_greeter_wait_peer_trust", { token: InvitationTokenC }),
  reply("invite_3a_greeter_wait_peer_trust", status("ok"), ...conduitErrors()),
);
/** The decoded `invite_3a_greeter_wait_peer_trust` request: wire field names, domain value types. */
export type Invite3aGreeterWaitPeerTrustReq = t.TypeOf<typeof invite3aGreeterWaitPeerTrust.req>;
/** A `invite_3a_greeter_wait_peer_trust` reply, one of its declared variants discriminated by `status`. */
export type Invite3aGreeterWaitPeerTrustRep = t.TypeOf<typeof invite3aGreeterWaitPeerTrust.rep>;

/** Authenticated `invite_3b_greeter_signify_trust`: tell the claimer its SAS code was confirmed. */
export const invite3bGreeterSignifyTrust = command(
  "invite_3b_greeter_signify_trust",
  request("invite_3b_greeter_signify_trust", { token: InvitationTokenC }),
  reply("invite_3b_greeter_signify_trust", status("ok"), ...conduitErrors()),
);
/** The decoded `invite_3b_greeter_signify_trust` request: wire field names, domain value types. */
export type Invite3bGreeterSignifyTrustReq = t.TypeOf<typeof invite3bGreeterSignifyTrust.req>;
/** A `invite_3b_greeter_signify_trust` reply, one of its declared variants discriminated by `status`. */
export type Invite3bGreeterSignifyTrustRep = t.TypeOf<typeof invite3bGreeterSignifyTrust.rep>;

/** Authenticated `invite_4_greeter_communicate`: exchange one encrypted `payload` each way with the claimer. */
export const invite4GreeterCommunicate = command(
  "invite_4_greeter_communicate",
  request("invite_4_greeter_communicate", { token: InvitationTokenC, payload: BytesC }),
  reply("invite_4_greeter_communicate", status("ok", { payload: BytesC }), ...conduitErrors()),
);
/** The decoded `invite_4_greeter_communicate` request: wire field names, domain value types. */
export type Invite4GreeterCommunicateReq = t.TypeOf<typeof invite4GreeterCommunicate.req>;
/** A `invite_4_greeter_communicate` reply, one of its declared variants discriminated by `status`. */
export type Invite4GreeterCommunicateRep = t.TypeOf<typeof invite4GreeterCommunicate.rep>;

/**
 * `greeter_user_id` names the greeter in the claimer's requests (API 2.9, needed by Shamir recovery
 * where several users may greet); older claimers omit it.
 */
const greeterUserId = { greeter_user_id: UserIDC };

/** Invited `invite_1_claimer_wait_peer`: exchange public keys with the greeter (blocks until it arrives). */
export const invite1ClaimerWaitPeer = command(
  "invite_1_claimer_wait_peer",
  request("invite_1_claimer_wait_peer", { claimer_public_key: PublicKeyC }, greeterUserId),
  reply("invite_1_claimer_wait_peer", status("ok", { greeter_public_key: PublicKeyC }), ...conduitErrors()),
);
/** The decoded `invite_1_claimer_wait_peer` request: wire field names, domain value types. */
export type Invite1ClaimerWaitPeerReq = t.TypeOf<typeof invite1ClaimerWaitPeer.req>;
/** A `invite_1_claimer_wait_peer` reply, one of its declared variants discriminated by `status`. */
export type Invite1ClaimerWaitPeerRep = t.TypeOf<typeof invite1ClaimerWaitPeer.rep>;

/** Invited `invite_2a_claimer_send_hashed_nonce`: send the claimer's hashed nonce, receive the greeter's nonce. */
export const invite2aClaimerSendHashedNonce = command(
  "invite_2a_claimer_send_hashed_nonce",
  request("invite_2a_claimer_send_hashed_nonce", { claimer_hashed_nonce: HashDigestC }, greeterUserId),
  reply("invite_2a_claimer_send_hashed_nonce", status("ok", { greeter_nonce: BytesC }), ...conduitErrors()),
);
/** The decoded `invite_2a_claimer_send_hashed_nonce` request: wire field names, domain value types. */
export type Invite2aClaimerSendHashedNonceReq = t.TypeOf<typeof invite2aClaimerSendHashedNonce.req>;
/** A `invite_2a_claimer_send_hashed_nonce` reply, one of its declared variants discriminated by `status`. */
export type Invite2aClaimerSendHashedNonceRep = t.TypeOf<typeof invite2aClaimerSendHashedNonce.rep>;

/** Invited `invite_2b_claimer_send_nonce`: reveal the claimer's nonce. */
export const invite2bClaimerSendNonce = command(
  "invite_2b_claimer_send_nonce",
  request("invite_2b_claimer_send_nonce", { claimer_nonce: BytesC }, greeterUserId),
  reply("invite_2b_claimer_send_nonce", status("ok"), ...conduitErrors()),
);
/** The decoded `invite_2b_claimer_send_nonce` request: wire field names, domain value types. */
export type Invite2bClaimerSendNonceReq = t.TypeOf<typeof invite2bClaimerSendNonce.req>;
/** A `invite_2b_claimer_send_nonce` reply, one of its declared variants discriminated by `status`. */
export type Invite2bClaimerSendNonceRep = t.TypeOf<typeof invite2bClaimerSendNonce.rep>;

/** Invited `invite_3a_claimer_signify_trust`: tell the greeter its SAS code was confirmed. */
export const invite3aClaimerSignifyTrust = command(
  "invite_3a_claimer_signify_trust",
  request("invite_3a_claimer_signify_trust", {}, greeterUserId),
  reply("invite_3a_claimer_signify_trust", status("ok"), ...conduitErrors()),
);
/** The decoded `invite_3a_claimer_signify_trust` request: wire field names, domain value types. */
export type Invite3aClaimerSignifyTrustReq = t.TypeOf<typeof invite3aClaimerSignifyTrust.req>;
/** A `invite_3a_claimer_signify_trust` reply, one of its declared variants discriminated by `status`. */
export type Invite3aClaimerSignifyTrustRep = t.TypeOf<typeof invite3aClaimerSignifyTrust.rep>;

/** Invited `invite_3b_claimer_wait_peer_trust`: wait for the greeter to confirm the claimer's SAS code. */
export const invite3bClaimerWaitPeerTrust = command(
  "invite_3b_claimer_wait_peer_trust",
  request("invite_3b_claimer_wait_peer_trust", {}, greeterUserId),
  reply("invite_3b_claimer_wait_peer_trust", status("ok"), ...conduitErrors()),
);
/** The decoded `invite_3b_claimer_wait_peer_trust` request: wire field names, domain value types. */
export type Invite3bClaimerWaitPeerTrustReq = t.TypeOf<typeof invite3bClaimerWaitPeerTrust.req>;
/** A `invite_3b_claimer_wait_peer_trust` reply, one of its declared variants discriminated by `status`. */
export type Invite3bClaimerWaitPeerTrustRep = t.TypeOf<typeof invite3bClaimerWaitPeerTrust.rep>;

/** Invited `invite_4_claimer_communicate`: exchange one encrypted `payload` each way with the greeter. */
export const invite4ClaimerCommunicate = command(
  "invite_4_claimer_communicate",
  request("invite_4_claimer_communicate", { payload: BytesC }, greeterUserId),
  reply("invite_4_claimer_communicate", status("ok", { payload: BytesC }), ...conduitErrors()),
);
/** The decoded `invite_4_claimer_communicate` request: wire field names, domain value types. */
export type Invite4ClaimerCommunicateReq = t.TypeOf<typeof invite4ClaimerCommunicate.req>;
/** A `invite_4_claimer_communicate` reply, one of its declared variants discriminated by `status`. */
export type Invite4ClaimerCommunicateRep = t.TypeOf<typeof invite4ClaimerCommunicate.rep>;
