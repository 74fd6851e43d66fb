import type { HandlerTable } from "./types.js";

/** The events commands. */
export const eventHandlers = {} satisfies HandlerTable<"authenticated">;
