import type { HandlerTable } from "./types.js";

/** The user and device commands (`user_create`, `device_create`, `user_revoke`, `user_get`, `human_find`). */
export const userHandlers = {} satisfies HandlerTable<"authenticated">;
