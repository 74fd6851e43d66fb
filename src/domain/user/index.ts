export * from "./user.js";
export * from "./admission.js";
export * from "./trustchain.js";
export * from "./human-find.js";
