export * from "./realm.js";
