import type { Handler } from "./types.js";

/** Authenticated `ping`: echoes and publishes `pinged`. */
export const authenticatedPing: Handler<"authenticated", "ping"> = async ({ app, session }, req) => {
  const outcome = await app.ping(session, req.ping);
  return { status: "ok", pong: outcome.pong };
};

/** Invited `ping`: echoes. */
export const invitedPing: Handler<"invited", "ping"> = async ({ app, session }, req) => {
  const outcome = await app.ping(session, req.ping);
  return { status: "ok", pong: outcome.pong };
};
