import { invitationUrl } from "../../domain/backend-addr.js";
import { InvitationToken, type UserID } from "../../domain/ids.js";
import {
  INVITATION_TOKEN_SIZE,
  mayInviteUser,
  renderInvitationEmail,
  type Invitation,
  type InvitationEmailSentStatus,
  type InvitationRequest,
} from "../../domain/invite/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { EmailSendOutcome } from "../ports/index.js";
import type { AuthenticatedSession } from "../session/session.js";

/** Input of `invite_new`: what to invite, and whether to email the claimer (USER) or the greeter (DEVICE). */
export type InviteNewInput =
  | { readonly type: "USER"; readonly claimerEmail: string; readonly sendEmail: boolean }
  | { readonly type: "DEVICE"; readonly sendEmail: boolean }
  | { readonly type: "SHAMIR_RECOVERY"; readonly claimerUserId: UserID; readonly sendEmail: boolean };

/**
 * Every outcome of `invite_new` (the schema's `not_available` is never answered by Parsec v2.16.3).
 * - `ok`: the invitation's token (a new one, or the greeter's existing one for the same claimer) and what became of the email;
 * - `not_allowed`: a USER invitation by a non-ADMIN;
 * - `already_member`: a user not revoked already has the claimer's email;
 * - `shamir_recovery_not_setup`: any SHAMIR_RECOVERY invitation (this server stores no Shamir setup yet), and — as
 *   Parsec v2.16.3 answers — a DEVICE invitation with `sendEmail` by a greeter without human handle (nowhere to send it).
 */
export type InviteNewOutcome =
  | { readonly kind: "ok"; readonly token: InvitationToken; readonly emailSent: InvitationEmailSentStatus }
  | { readonly kind: "not_allowed" }
  | { readonly kind: "already_member" }
  | { readonly kind: "shamir_recovery_not_setup" };

const emailSentStatus = (outcome: EmailSendOutcome): InvitationEmailSentStatus =>
  outcome.ok ? "SUCCESS" : outcome.kind === "recipient_refused" ? "BAD_RECIPIENT" : "NOT_AVAILABLE";

/**
 * `invite_new` (authenticated). In one unit of work: checks membership (USER), reuses the greeter's
 * invitation not deleted for the same claimer — or creates one with a fresh 16-byte random token and
 * publishes `invite.status_changed` IDLE. Then, if asked, sends the email: `NOT_AVAILABLE` without a
 * configured server address or when the mail server fails (a rejected send too, as Parsec's fail-safe),
 * `BAD_RECIPIENT` when it refuses the recipient. Without `sendEmail`, `email_sent` is `SUCCESS` (Parsec ≥ 2.13).
 * Source: Parsec v2.16.3 `invite.py` (`api_invite_new`), `postgresql/invite.py` (`_do_new_user_or_device_invitation`).
 */
export const inviteNew =
  (deps: Pick<ApplicationDeps, "uow" | "invitations" | "users" | "events" | "clock" | "random" | "email" | "config">) =>
  async (session: AuthenticatedSession, input: InviteNewInput): Promise<InviteNewOutcome> => {
    if (input.type === "SHAMIR_RECOVERY") return { kind: "shamir_recovery_not_setup" };
    if (input.type === "USER" && !mayInviteUser(session.profile)) return { kind: "not_allowed" };
    if (input.type === "DEVICE" && input.sendEmail && !session.humanHandle) return { kind: "shamir_recovery_not_setup" };
    const request: InvitationRequest = {
      greeterUserId: session.userId,
      type: input.type,
      claimerEmail: input.type === "USER" ? input.claimerEmail : null,
    };

    const organizationId = session.organizationId;
    const created = await deps.uow.run(organizationId, async (tx): Promise<{ kind: "already_member" } | { kind: "ok"; invitation: Invitation }> => {
      const now = deps.clock.now();
      if (request.claimerEmail !== null && (await deps.users.isEmailTaken(organizationId, request.claimerEmail, now, tx)))
        return { kind: "already_member" };
      const token = InvitationToken.fromBytes(deps.random.bytes(INVITATION_TOKEN_SIZE));
      if (!token.ok) throw new Error(token.error);
      const candidate: Invitation = {
        token: token.value,
        type: request.type,
        greeterUserId: session.userId,
        greeterHumanHandle: session.humanHandle,
        claimerEmail: request.claimerEmail,
        createdOn: now,
        status: "IDLE",
        deleted: null,
      };
      const { created, invitation } = await deps.invitations.createOrReuse(tx, organizationId, candidate);
      if (created)
        await deps.events.publish(tx, { type: "invite.status_changed", organizationId, greeter: session.userId, token: invitation.token, status: "IDLE" });
      return { kind: "ok", invitation };
    });
    if (created.kind !== "ok") return created;
    const token = created.invitation.token;

    if (!input.sendEmail) return { kind: "ok", token, emailSent: "SUCCESS" };
    const backendAddr = deps.config.backendAddr;
    if (!backendAddr) return { kind: "ok", token, emailSent: "NOT_AVAILABLE" };
    const handle = session.humanHandle;
    const to = request.claimerEmail ?? handle?.email;
    if (to === undefined) return { kind: "ok", token, emailSent: "NOT_AVAILABLE" };
    const rendered = renderInvitationEmail({
      language: deps.config.emailLanguage,
      type: request.type,
      organizationId,
      greeterName: handle?.label ?? session.userId,
      invitationUrl: invitationUrl(backendAddr, organizationId, request.type, token),
    });
    const sent = await deps.email
      .send({
        to,
        ...rendered,
        replyTo: request.type === "USER" && handle ? { name: handle.label, address: handle.email } : undefined,
      })
      .catch((): EmailSendOutcome => ({ ok: false, kind: "server_unavailable", reason: "email sender failed" }));
    return { kind: "ok", token, emailSent: emailSentStatus(sent) };
  };
