import type { DeviceID, OrganizationID } from "../../domain/ids.js";
import type { Device, User } from "../../domain/user/index.js";
import type { Tx } from "./unit-of-work.js";

/** Persistence of users and their devices. */
export interface UserRepository {
  /** A device with its user, or null when either is unknown. */
  getUserWithDevice(organizationId: OrganizationID, deviceId: DeviceID): Promise<{ user: User; device: Device } | null>;
  /**
   * Creates a user with its first device.
   * `already_exists`: the user id is taken; `human_handle_already_taken`: a non-revoked user has this email.
   */
  create(tx: Tx, organizationId: OrganizationID, user: User, firstDevice: Device): Promise<"ok" | "already_exists" | "human_handle_already_taken">;
}
