export * from "./api-version.js";
export * from "./signed-answer.js";
