import type { HandlerTable } from "./types.js";

/** The realm commands. */
export const realmHandlers = {} satisfies HandlerTable<"authenticated">;
