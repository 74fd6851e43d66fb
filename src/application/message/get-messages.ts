import type { Message } from "../../domain/message/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession } from "../session/session.js";

/** `message_get`: the messages of the session's user after the first `offset` ones (oldest first). Source: Parsec v2.16.3 `message.py`. */
export const getMessages =
  (deps: Pick<ApplicationDeps, "messages">) =>
  async (session: AuthenticatedSession, offset: number): Promise<{ kind: "ok"; messages: readonly Message[] }> => ({
    kind: "ok",
    messages: await deps.messages.list(session.organizationId, session.userId, offset),
  });
