import type { HandlerTable } from "./types.js";

/** The vlob commands. */
export const vlobHandlers = {} satisfies HandlerTable<"authenticated">;
