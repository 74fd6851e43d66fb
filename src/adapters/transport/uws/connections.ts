import type { AuthenticatedSession, InvitedSession } from "../../../application/index.js";
import type { BackendEvent } from "../../../application/ports/index.js";

/** What the registry needs of a live connection. */
export interface LiveConnection {
  readonly session: AuthenticatedSession | InvitedSession;
  /** Closes the WebSocket with `code` and `reason` (idempotent). */
  close(code: number, reason: string): void;
}

/** WebSocket close codes used by the server. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
} as const;

/**
 * Open sessions indexed by organization, so that one event-bus subscription closes exactly the
 * sessions an event concerns: a revoked user's sessions, every session of an expired organization,
 * a claimer whose invitation was deleted.
 */
export class ConnectionRegistry {
  private readonly byOrganization = new Map<string, Set<LiveConnection>>();

  add(connection: LiveConnection): void {
    const key = connection.session.organizationId;
    let set = this.byOrganization.get(key);
    if (!set) this.byOrganization.set(key, (set = new Set()));
    set.add(connection);
  }

  remove(connection: LiveConnection): void {
    const key = connection.session.organizationId;
    const set = this.byOrganization.get(key);
    if (!set) return;
    set.delete(connection);
    if (set.size === 0) this.byOrganization.delete(key);
  }

  /** Closes the sessions `event` ends. */
  onEvent(event: BackendEvent): void {
    const set = this.byOrganization.get(event.organizationId);
    if (!set) return;
    for (const connection of [...set]) {
      const s = connection.session;
      if (event.type === "organization.expired") connection.close(CloseCode.policyViolation, "Organization expired");
      else if (event.type === "user.revoked" && s.kind === "authenticated" && s.userId === event.userId)
        connection.close(CloseCode.policyViolation, "User revoked");
      else if (event.type === "invite.status_changed" && event.status === "DELETED" && s.kind === "invited" && s.invitation.token === event.token)
        connection.close(CloseCode.policyViolation, "Invitation deleted");
    }
  }
}
