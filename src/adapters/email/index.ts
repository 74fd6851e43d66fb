export * from "./mocked/index.js";
export * from "./smtp/index.js";
