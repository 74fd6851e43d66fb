export * from "./message.js";
