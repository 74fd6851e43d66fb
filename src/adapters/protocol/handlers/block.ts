import { bytes } from "./replies.js";
import type { Handler, HandlerTable } from "./types.js";

/** Authenticated `block_create`: every outcome is a bare status; the payload is handed over without a copy. */
const blockCreate: Handler<"authenticated", "block_create"> = async ({ app, session }, req) => ({
  status: (await app.createBlock(session, { blockId: req.block_id, realmId: req.realm_id, block: bytes(req.block) })).kind,
});

/** Authenticated `block_read`: `ok` carries the payload, the other outcomes are bare statuses. */
const blockRead: Handler<"authenticated", "block_read"> = async ({ app, session }, req) => {
  const outcome = await app.readBlock(session, req.block_id);
  return outcome.kind === "ok" ? { status: "ok", block: outcome.block } : { status: outcome.kind };
};

/** The block commands. */
export const blockHandlers = { block_create: blockCreate, block_read: blockRead } satisfies HandlerTable<"authenticated">;
