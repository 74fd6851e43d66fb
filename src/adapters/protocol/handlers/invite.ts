import type { ConduitOutcome, InviteNewOutcome } from "../../../application/invite/index.js";
import type { Invitation } from "../../../domain/invite/index.js";
import type { InviteListItem, InviteNewRep } from "../commands/invite.js";
import type { Handler, HandlerTable } from "./types.js";

/** `invite_new` outcome → reply; `ok` always carries `email_sent` (Parsec ≥ 2.13). */
const inviteNewReply = (outcome: InviteNewOutcome): InviteNewRep =>
  outcome.kind === "ok" ? { status: "ok", token: outcome.token, email_sent: outcome.emailSent } : { status: outcome.kind };

/** One `invite_list` item; SHAMIR_RECOVERY invitations are never created by this server, so none is listed. */
const inviteListItems = (invitation: Invitation): InviteListItem[] => {
  const common = { token: invitation.token, created_on: invitation.createdOn, status: invitation.status };
  if (invitation.type === "USER") return [{ type: "USER", claimer_email: invitation.claimerEmail ?? "", ...common }];
  if (invitation.type === "DEVICE") return [{ type: "DEVICE", ...common }];
  return [];
};

/**
 * A SAS-exchange outcome → reply: `cancelled` sends no reply, the errors their bare status, `ok` the
 * fields `okFields` builds.
 */
const conduitReply = <F extends object, R extends object>(
  outcome: ConduitOutcome<F>,
  okFields: (ok: F) => R,
): ({ status: "ok" } & R) | { status: "not_found" } | { status: "already_deleted" } | { status: "invalid_state" } | null =>
  outcome.kind === "cancelled" ? null : outcome.kind === "ok" ? { status: "ok", ...okFields(outcome) } : { status: outcome.kind };

const none = () => ({});

/**
 * A claimer's SAS-exchange outcome → reply: as {@link conduitReply}, except that a deleted invitation closes the
 * claimer's connection (1008) instead of answering, as Parsec v2.16.3 does (`CloseInviteConnection`): the claimer's
 * token is no longer valid, whatever arrives first of this outcome and the deletion's event.
 */
const claimerConduitReply = <F extends object, R extends object>(
  closeConnection: (code: number, reason: string) => void,
  outcome: ConduitOutcome<F>,
  okFields: (ok: F) => R,
): ({ status: "ok" } & R) | { status: "not_found" } | { status: "invalid_state" } | null => {
  if (outcome.kind === "already_deleted") {
    closeConnection(1008, "Invitation deleted");
    return null;
  }
  return conduitReply(outcome, okFields) as ({ status: "ok" } & R) | { status: "not_found" } | { status: "invalid_state" } | null;
};

/** The invitation commands of greeters (authenticated family). */
export const inviteGreeterHandlers = {
  invite_new: (async ({ app, session }, req) =>
    inviteNewReply(
      await app.inviteNew(
        session,
        req.type === "USER"
          ? { type: "USER", claimerEmail: req.claimer_email, sendEmail: req.send_email }
          : req.type === "DEVICE"
            ? { type: "DEVICE", sendEmail: req.send_email }
            : { type: "SHAMIR_RECOVERY", claimerUserId: req.claimer_user_id, sendEmail: req.send_email },
      ),
    )) satisfies Handler<"authenticated", "invite_new">,

  invite_list: (async ({ app, session }) => ({
    status: "ok",
    invitations: (await app.listInvitations(session)).invitations.flatMap(inviteListItems),
  })) satisfies Handler<"authenticated", "invite_list">,

  invite_delete: (async ({ app, session }, req) => ({
    status: (await app.deleteInvitation(session, { token: req.token, reason: req.reason })).kind,
  })) satisfies Handler<"authenticated", "invite_delete">,

  invite_1_greeter_wait_peer: (async ({ app, session, signal }, req) =>
    conduitReply(await app.greeterWaitPeer(session, { token: req.token, greeterPublicKey: req.greeter_public_key }, signal), (ok) => ({
      claimer_public_key: ok.claimerPublicKey,
    }))) satisfies Handler<"authenticated", "invite_1_greeter_wait_peer">,

  invite_2a_greeter_get_hashed_nonce: (async ({ app, session, signal }, req) =>
    conduitReply(await app.greeterGetHashedNonce(session, { token: req.token }, signal), (ok) => ({
      claimer_hashed_nonce: ok.claimerHashedNonce,
    }))) satisfies Handler<"authenticated", "invite_2a_greeter_get_hashed_nonce">,

  invite_2b_greeter_send_nonce: (async ({ app, session, signal }, req) =>
    conduitReply(await app.greeterSendNonce(session, { token: req.token, greeterNonce: req.greeter_nonce }, signal), (ok) => ({
      claimer_nonce: ok.claimerNonce,
    }))) satisfies Handler<"authenticated", "invite_2b_greeter_send_nonce">,

  invite_3a_greeter_wait_peer_trust: (async ({ app, session, signal }, req) =>
    conduitReply(await app.greeterWaitPeerTrust(session, { token: req.token }, signal), none)) satisfies Handler<
    "authenticated",
    "invite_3a_greeter_wait_peer_trust"
  >,

  invite_3b_greeter_signify_trust: (async ({ app, session, signal }, req) =>
    conduitReply(await app.greeterSignifyTrust(session, { token: req.token }, signal), none)) satisfies Handler<
    "authenticated",
    "invite_3b_greeter_signify_trust"
  >,

  invite_4_greeter_communicate: (async ({ app, session, signal }, req) =>
    conduitReply(await app.greeterCommunicate(session, { token: req.token, payload: req.payload }, signal), (ok) => ({
      payload: ok.payload,
    }))) satisfies Handler<"authenticated", "invite_4_greeter_communicate">,
} satisfies HandlerTable<"authenticated">;

/** The invitation commands of claimers (invited family); a missing `greeter_user_id` (clients before API 2.9) is null. */
export const inviteClaimerHandlers = {
  invite_info: (async ({ app, session }) => {
    const { info } = await app.invitationInfo(session);
    return info.type === "USER"
      ? {
          status: "ok",
          type: "USER",
          claimer_email: info.claimerEmail,
          greeter_user_id: info.greeterUserId,
          greeter_human_handle: info.greeterHumanHandle,
        }
      : { status: "ok", type: "DEVICE", greeter_user_id: info.greeterUserId, greeter_human_handle: info.greeterHumanHandle };
  }) satisfies Handler<"invited", "invite_info">,

  invite_1_claimer_wait_peer: (async ({ app, session, signal, closeConnection }, req) =>
    claimerConduitReply(
      closeConnection,
      await app.claimerWaitPeer(session, { greeterUserId: req.greeter_user_id ?? null, claimerPublicKey: req.claimer_public_key }, signal),
      (ok) => ({ greeter_public_key: ok.greeterPublicKey }),
    )) satisfies Handler<"invited", "invite_1_claimer_wait_peer">,

  invite_2a_claimer_send_hashed_nonce: (async ({ app, session, signal, closeConnection }, req) =>
    claimerConduitReply(
      closeConnection,
      await app.claimerSendHashedNonce(session, { greeterUserId: req.greeter_user_id ?? null, claimerHashedNonce: req.claimer_hashed_nonce }, signal),
      (ok) => ({ greeter_nonce: ok.greeterNonce }),
    )) satisfies Handler<"invited", "invite_2a_claimer_send_hashed_nonce">,

  invite_2b_claimer_send_nonce: (async ({ app, session, signal, closeConnection }, req) =>
    claimerConduitReply(
      closeConnection,
      await app.claimerSendNonce(session, { greeterUserId: req.greeter_user_id ?? null, claimerNonce: req.claimer_nonce }, signal),
      none,
    )) satisfies Handler<"invited", "invite_2b_claimer_send_nonce">,

  invite_3a_claimer_signify_trust: (async ({ app, session, signal, closeConnection }, req) =>
    claimerConduitReply(closeConnection, await app.claimerSignifyTrust(session, { greeterUserId: req.greeter_user_id ?? null }, signal), none)) satisfies Handler<
    "invited",
    "invite_3a_claimer_signify_trust"
  >,

  invite_3b_claimer_wait_peer_trust: (async ({ app, session, signal, closeConnection }, req) =>
    claimerConduitReply(closeConnection, await app.claimerWaitPeerTrust(session, { greeterUserId: req.greeter_user_id ?? null }, signal), none)) satisfies Handler<
    "invited",
    "invite_3b_claimer_wait_peer_trust"
  >,

  invite_4_claimer_communicate: (async ({ app, session, signal, closeConnection }, req) =>
    claimerConduitReply(
      closeConnection,
      await app.claimerCommunicate(session, { greeterUserId: req.greeter_user_id ?? null, payload: req.payload }, signal),
      (ok) => ({ payload: ok.payload }),
    )) satisfies Handler<"invited", "invite_4_claimer_communicate">,
} satisfies HandlerTable<"invited">;
