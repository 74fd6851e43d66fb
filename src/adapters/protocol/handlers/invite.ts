import type { HandlerTable } from "./types.js";

/** The invitation commands of greeters (authenticated family). */
export const inviteGreeterHandlers = {} satisfies HandlerTable<"authenticated">;

/** The invitation commands of claimers (invited family). */
export const inviteClaimerHandlers = {} satisfies HandlerTable<"invited">;
