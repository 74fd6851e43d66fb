import type { ApplicationDeps } from "../deps.js";
import { createDevice } from "./create-device.js";
import { createUser } from "./create-user.js";
import { findHumans } from "./find-humans.js";
import { getUser } from "./get-user.js";
import { revokeUser } from "./revoke-user.js";

export type { CreateUserInput, CreateUserOutcome } from "./create-user.js";
export type { CreateDeviceInput, CreateDeviceOutcome } from "./create-device.js";
export type { RevokeUserOutcome } from "./revoke-user.js";
export type { GetUserOutcome } from "./get-user.js";
export type { FindHumansOutcome } from "./find-humans.js";

/**
 * The user and device use cases, bound to their ports: `createUser` (`user_create`), `createDevice` (`device_create`),
 * `revokeUser` (`user_revoke`), `getUser` (`user_get`), `findHumans` (`human_find`).
 */
export const userUseCases = (deps: ApplicationDeps) => ({
  createUser: createUser(deps),
  createDevice: createDevice(deps),
  revokeUser: revokeUser(deps),
  getUser: getUser(deps),
  findHumans: findHumans(deps),
});
