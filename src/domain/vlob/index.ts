export * from "./vlob.js";
export * from "./access.js";
export * from "./rules.js";
