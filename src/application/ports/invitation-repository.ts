import type { InvitationToken, OrganizationID } from "../../domain/ids.js";
import type { Invitation } from "../../domain/invite/index.js";

/** Persistence of invitations. */
export interface InvitationRepository {
  /** The invitation (deleted ones included), or null when unknown. */
  get(organizationId: OrganizationID, token: InvitationToken): Promise<Invitation | null>;
  save(organizationId: OrganizationID, invitation: Invitation): Promise<void>;
}
