export * from "./invitation.js";
export * from "./conduit.js";
export * from "./email.js";
