import type { ApplicationDeps } from "../deps.js";
import { claimerPresence, deleteInvitation, invitationInfo, listInvitations } from "./manage.js";
import { inviteNew } from "./new-invitation.js";
import { sasExchangeUseCases } from "./sas-exchange.js";

export type { InviteNewInput, InviteNewOutcome } from "./new-invitation.js";
export type { DeleteInvitationOutcome, InvitationInfo } from "./manage.js";
export type { Cancelled, ConduitFailure, ConduitOutcome } from "./conduit-exchange.js";

/**
 * The invitation use cases: `inviteNew` (`invite_new`), `listInvitations` (`invite_list`), `deleteInvitation`
 * (`invite_delete`), `invitationInfo` (`invite_info`), the twelve SAS exchange steps (see `sasExchangeUseCases`),
 * and claimer presence (`claimerJoined`, `claimerLeft`).
 */
export const inviteUseCases = (deps: ApplicationDeps) => ({
  inviteNew: inviteNew(deps),
  listInvitations: listInvitations(deps),
  deleteInvitation: deleteInvitation(deps),
  invitationInfo: invitationInfo(),
  ...claimerPresence(deps),
  ...sasExchangeUseCases(deps),
});
