export * from "./realm.js";
export * from "./roles.js";
export * from "./maintenance.js";
