export type * from "./unit-of-work.js";
export type * from "./clock.js";
export type * from "./random.js";
export type * from "./events.js";
export type * from "./organization-repository.js";
export type * from "./user-repository.js";
export type * from "./invitation-repository.js";
