import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession, InvitedSession } from "../session/session.js";

/**
 * `ping` (authenticated and invited): answers the same string; an authenticated ping also
 * publishes the `pinged` event to the organization. Source: Parsec v2.16.3 `ping.py`.
 */
export const ping =
  (deps: Pick<ApplicationDeps, "events">) =>
  async (session: AuthenticatedSession | InvitedSession, value: string): Promise<{ kind: "ok"; pong: string }> => {
    if (session.kind === "authenticated")
      await deps.events.publishNow({ type: "pinged", organizationId: session.organizationId, author: session.deviceId, ping: value });
    return { kind: "ok", pong: value };
  };
