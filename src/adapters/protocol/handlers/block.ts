import type { HandlerTable } from "./types.js";

/** The block commands. */
export const blockHandlers = {} satisfies HandlerTable<"authenticated">;
