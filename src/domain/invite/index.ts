export * from "./invitation.js";
