import type { AuthenticatedSession, InvitedSession, SessionValidity } from "../../../application/index.js";
import type { BackendEvent, EventBus, Unsubscribe } from "../../../application/ports/index.js";
import type { OrganizationID } from "../../../domain/ids.js";

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
  /** RFC 6455 registry: the server cannot serve now (storage unavailable, events lost); the client should reconnect later. */
  tryAgainLater: 1013,
} as const;

const REASON: Readonly<Record<Exclude<SessionValidity, "valid">, string>> = {
  organization_expired: "Organization expired",
  revoked: "User revoked",
  invitation_deleted: "Invitation deleted",
};

/**
 * Open sessions indexed by organization, with one event-bus subscription per organization that has open sessions,
 * so that an event closes exactly the sessions it ends: a revoked user's sessions, every session of an expired
 * organization, a claimer whose invitation was deleted. When the bus reports a gap (events may have been lost), every
 * session of the organization is re-checked against the storage (`checkValidity`) and closed if it should have been.
 */
export class ConnectionRegistry {
  private readonly byOrganization = new Map<OrganizationID, { readonly connections: Set<LiveConnection>; readonly unsubscribe: Unsubscribe }>();

  constructor(
    private readonly events: EventBus,
    private readonly checkValidity: (session: AuthenticatedSession | InvitedSession) => Promise<SessionValidity>,
    private readonly onError: (err: unknown, context: Record<string, unknown>) => void = () => {},
  ) {}

  add(connection: LiveConnection): void {
    const key = connection.session.organizationId;
    let entry = this.byOrganization.get(key);
    if (!entry) {
      const connections = new Set<LiveConnection>();
      const unsubscribe = this.events.subscribe(key, {
        event: (event) => this.onEvent(connections, event),
        gap: () => this.recheck(connections),
      });
      this.byOrganization.set(key, (entry = { connections, unsubscribe }));
    }
    entry.connections.add(connection);
  }

  remove(connection: LiveConnection): void {
    const key = connection.session.organizationId;
    const entry = this.byOrganization.get(key);
    if (!entry) return;
    entry.connections.delete(connection);
    if (entry.connections.size === 0) {
      entry.unsubscribe();
      this.byOrganization.delete(key);
    }
  }

  /** Releases every subscription (server shutdown). */
  clear(): void {
    for (const entry of this.byOrganization.values()) entry.unsubscribe();
    this.byOrganization.clear();
  }

  private onEvent(connections: ReadonlySet<LiveConnection>, event: BackendEvent): void {
    for (const connection of [...connections]) {
      const s = connection.session;
      if (event.type === "organization.expired") connection.close(CloseCode.policyViolation, "Organization expired");
      else if (event.type === "user.revoked" && s.kind === "authenticated" && s.userId === event.userId)
        connection.close(CloseCode.policyViolation, "User revoked");
      else if (event.type === "invite.status_changed" && event.status === "DELETED" && s.kind === "invited" && s.invitation.token === event.token)
        connection.close(CloseCode.policyViolation, "Invitation deleted");
    }
  }

  private recheck(connections: ReadonlySet<LiveConnection>): void {
    for (const connection of [...connections])
      this.checkValidity(connection.session).then(
        (validity) => {
          if (validity !== "valid") connection.close(CloseCode.policyViolation, REASON[validity]);
        },
        (err: unknown) => {
          this.onError(err, { organization_id: connection.session.organizationId });
          connection.close(CloseCode.tryAgainLater, "Cannot check the session, please reconnect");
        },
      );
  }
}
