import type { AnonymousSession, Application, AuthenticatedSession, InvitedSession } from "../../../application/index.js";
import type { ClientFamily, CommandName, ReplyOf, RequestOf } from "../registry.js";

/** The session a command of family `F` runs in. */
export type SessionOf<F extends ClientFamily> = F extends "authenticated"
  ? AuthenticatedSession
  : F extends "invited"
    ? InvitedSession
    : AnonymousSession;

/** What a command handler receives besides its request. */
export interface HandlerContext<F extends ClientFamily> {
  readonly app: Application;
  readonly session: SessionOf<F>;
  /** Aborted when the client sends another request (only waiting commands need to honour it). */
  readonly signal: AbortSignal;
  /** Closes the client's connection (WebSocket close code and reason); a no-op for one-shot HTTP requests. */
  readonly closeConnection: (code: number, reason: string) => void;
}

/**
 * Serves one command: calls its use case and maps the outcome to one reply variant of the schema.
 * Resolving to null (only after `signal` aborted) sends no reply.
 */
export type Handler<F extends ClientFamily, N extends CommandName<F>> = (ctx: HandlerContext<F>, req: RequestOf<F, N>) => Promise<ReplyOf<F, N> | null>;

/** The commands of family `F` this server serves; a command without a handler answers `unknown_command`. */
export type HandlerTable<F extends ClientFamily> = { readonly [N in CommandName<F>]?: Handler<F, N> };
