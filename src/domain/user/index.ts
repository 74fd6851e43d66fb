export * from "./user.js";
