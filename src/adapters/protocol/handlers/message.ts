import type { Handler, HandlerTable } from "./types.js";

/** Authenticated `message_get`: the inbox after `offset`, each message with its 1-based `count`. */
const messageGet: Handler<"authenticated", "message_get"> = async ({ app, session }, req) => {
  const outcome = await app.getMessages(session, req.offset);
  return {
    status: "ok",
    messages: outcome.messages.map((m) => ({ count: m.index, sender: m.sender, timestamp: m.timestamp, body: m.body })),
  };
};

/** The message commands. */
export const messageHandlers = { message_get: messageGet } satisfies HandlerTable<"authenticated">;
