export * from "./block.js";
