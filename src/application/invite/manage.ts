import type { HumanHandle, InvitationToken, UserID } from "../../domain/ids.js";
import type { Invitation, InvitationDeletedReason } from "../../domain/invite/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession, InvitedSession } from "../session/session.js";

/**
 * `invite_list` (authenticated): the greeter's invitations that are not deleted, oldest first, each with
 * its status (READY while its claimer is connected, IDLE otherwise).
 */
export const listInvitations =
  (deps: Pick<ApplicationDeps, "invitations">) =>
  async (session: AuthenticatedSession): Promise<{ readonly kind: "ok"; readonly invitations: readonly Invitation[] }> => ({
    kind: "ok",
    invitations: await deps.invitations.listActive(session.organizationId, session.userId),
  });

/** Every outcome of `invite_delete`. */
export type DeleteInvitationOutcome = { readonly kind: "ok" } | { readonly kind: "not_found" } | { readonly kind: "already_deleted" };

/**
 * `invite_delete` (authenticated): marks one of the greeter's invitations deleted now for `reason`, and
 * publishes `invite.status_changed` DELETED (the transport then closes the claimer's connections, and any
 * waiting SAS step wakes up to answer `already_deleted`). An unknown token or another greeter's invitation
 * is `not_found`, checked before `already_deleted` (as Parsec's PostgreSQL query does).
 * Source: Parsec v2.16.3 `postgresql/invite.py` (`_do_delete_invitation`).
 */
export const deleteInvitation =
  (deps: Pick<ApplicationDeps, "uow" | "invitations" | "events" | "clock">) =>
  (session: AuthenticatedSession, input: { readonly token: InvitationToken; readonly reason: InvitationDeletedReason }): Promise<DeleteInvitationOutcome> =>
    deps.uow.run(session.organizationId, async (tx): Promise<DeleteInvitationOutcome> => {
      const invitation = await deps.invitations.get(session.organizationId, input.token, tx);
      if (!invitation || invitation.greeterUserId !== session.userId) return { kind: "not_found" };
      if (invitation.deleted) return { kind: "already_deleted" };
      await deps.invitations.markDeleted(tx, session.organizationId, input.token, deps.clock.now(), input.reason);
      await deps.events.publish(tx, {
        type: "invite.status_changed",
        organizationId: session.organizationId,
        greeter: session.userId,
        token: input.token,
        status: "DELETED",
      });
      return { kind: "ok" };
    });

/** What `invite_info` tells the claimer: the invitation's type, its claimer email (USER) and its greeter. */
export type InvitationInfo =
  | { readonly type: "USER"; readonly claimerEmail: string; readonly greeterUserId: UserID; readonly greeterHumanHandle: HumanHandle | null }
  | { readonly type: "DEVICE"; readonly greeterUserId: UserID; readonly greeterHumanHandle: HumanHandle | null };

/**
 * `invite_info` (invited): read from the invitation fetched at handshake, as Parsec does (a deletion since then
 * closes the connection anyway). This server creates no SHAMIR_RECOVERY invitation, so meeting one is a bug.
 */
export const invitationInfo =
  () =>
  async (session: InvitedSession): Promise<{ readonly kind: "ok"; readonly info: InvitationInfo }> => {
    const invitation = session.invitation;
    const greeter = { greeterUserId: invitation.greeterUserId, greeterHumanHandle: invitation.greeterHumanHandle ?? null };
    if (invitation.type === "USER") {
      if (invitation.claimerEmail === null) throw new Error(`USER invitation ${invitation.token} has no claimer email`);
      return { kind: "ok", info: { type: "USER", claimerEmail: invitation.claimerEmail, ...greeter } };
    }
    if (invitation.type === "DEVICE") return { kind: "ok", info: { type: "DEVICE", ...greeter } };
    throw new Error(`invite_info on a SHAMIR_RECOVERY invitation (${invitation.token}), which this server never creates`);
  };

/**
 * Claimer presence (Parsec `claimer_joined` / `claimer_left`), called by the transport when an invited connection
 * opens and closes: records this connection as present (or no longer), and publishes `invite.status_changed` with the
 * invitation's status afterwards — READY while any claimer connection of any server process is open, IDLE once none
 * is — each time, even when unchanged, as Parsec does. A deleted or unknown invitation is left as is, silently.
 */
export const claimerPresence = (deps: Pick<ApplicationDeps, "uow" | "invitations" | "events">) => {
  const set = (session: InvitedSession, present: boolean): Promise<void> =>
    deps.uow.run(session.organizationId, async (tx) => {
      const invitation = await deps.invitations.get(session.organizationId, session.invitation.token, tx);
      if (!invitation || invitation.deleted) return;
      const status = await deps.invitations.setClaimerPresence(tx, session.organizationId, invitation.token, session.connectionId, present);
      await deps.events.publish(tx, {
        type: "invite.status_changed",
        organizationId: session.organizationId,
        greeter: invitation.greeterUserId,
        token: invitation.token,
        status,
      });
    });
  return {
    /** A claimer connected with `session`'s invitation. */
    claimerJoined: (session: InvitedSession) => set(session, true),
    /** That claimer's connection closed. */
    claimerLeft: (session: InvitedSession) => set(session, false),
  };
};
