import type { AuthenticatedSession, InvitedSession } from "../../application/index.js";
import type { OrganizationID } from "../../domain/ids.js";

/** The outcome of a WebSocket handshake answer: the result frame to send, and the session when it succeeded. */
export type HandshakeStep =
  | { readonly ok: true; readonly session: AuthenticatedSession | InvitedSession; readonly frame: Buffer }
  | { readonly ok: false; readonly frame: Buffer; readonly result: string; readonly reason: string };

/** A served command: the reply frame and what to log. */
export type CommandStep =
  | { readonly frame: Buffer; readonly cmd: string; readonly status: string }
  /** The connection must be closed instead of answered (e.g. its event queue overflowed, as Parsec does). */
  | { readonly close: { readonly code: number; readonly reason: string }; readonly cmd: string };

/** The outcome of `POST /anonymous/<organization_id>`: a reply frame, or an HTTP status with an empty body. */
export type AnonymousStep = { readonly ok: true; readonly frame: Buffer; readonly cmd: string; readonly status: string } | { readonly ok: false; readonly httpStatus: number };

/** How long a non-cancellable command (a waiting SAS step) may go on after its connection closed: 5 minutes. */
export const ORPHANED_COMMAND_TIMEOUT_MS = 5 * 60 * 1000;

/**
 * What the transport needs from the wire protocol: Parsec's handshake and command loop, independent
 * of how bytes travel. Implemented by the protocol adapter; a transport never sees msgpack or use cases.
 */
export interface WireEngine {
  /** A fresh challenge frame and the random challenge it carries. */
  challenge(): { readonly frame: Buffer; readonly challenge: Buffer };
  /** Processes the client's answer frame (`text` when it came as a text frame). */
  handshake(frame: Buffer, challenge: Buffer, text: boolean): Promise<HandshakeStep>;
  /**
   * Serves one request frame of an established session. As in Parsec, only `events_listen` and
   * `invite_1_claimer_wait_peer` are cancellable: they end, resolving to null (no reply), when `signals.newRequest`
   * (the client sent another request; the transport serves it next) or `signals.closed` (the connection closed)
   * aborts. Every other command runs to completion even if its connection closed — a SAS step keeps its place in
   * the exchange for the peer — bounded by {@link ORPHANED_COMMAND_TIMEOUT_MS} after the close.
   */
  command(
    session: AuthenticatedSession | InvitedSession,
    frame: Buffer,
    text: boolean,
    signals: { readonly newRequest: AbortSignal; readonly closed: AbortSignal },
    /** Closes this connection (used when it must end outside a request, e.g. its event queue overflowed). */
    closeConnection: (code: number, reason: string) => void,
  ): Promise<CommandStep | null>;
  /** An established session begins (after a successful handshake): a claimer's invitation becomes READY (Parsec `claimer_joined`). */
  sessionOpened(session: AuthenticatedSession | InvitedSession): Promise<void>;
  /**
   * An established session ended (the connection closed): a claimer's invitation goes back to IDLE (Parsec
   * `claimer_left`); an authenticated session's event subscription is released.
   */
  sessionClosed(session: AuthenticatedSession | InvitedSession): Promise<void>;
  /**
   * The server is stopping (its connections are closed): aborts every command still running — orphaned SAS steps
   * included — and resolves once every command and session hook in flight has settled, or after `timeoutMs`.
   */
  shutdown(timeoutMs?: number): Promise<void>;
  /** Serves an anonymous command (`organization_bootstrap`…) posted over HTTP. */
  anonymous(organizationId: OrganizationID, frame: Buffer): Promise<AnonymousStep>;
  /** Checks the organization an anonymous request targets before reading its body: 404 unknown, 460 expired, or null to go on. */
  anonymousPrecheck(organizationId: OrganizationID, method: "GET" | "POST"): Promise<number | null>;
}
