import type { DeviceID, OrganizationID, UserID } from "../../domain/ids.js";
import type { DateTime } from "../../domain/time.js";
import type { Device, TrustchainLink, User, UserSummary } from "../../domain/user/index.js";
import type { Tx } from "./unit-of-work.js";

/** What `user_revoke` records on a user. */
export interface UserRevocation {
  /** The revocation certificate's timestamp. */
  readonly revokedOn: DateTime;
  /** The `revoked_user_certificate`, exactly as received. */
  readonly certificate: Buffer;
  /** The device that signed it. */
  readonly certifier: DeviceID;
}

/** A user, all its devices and the trustchain behind them, read consistently (one snapshot). */
export interface UserWithDevicesAndTrustchain {
  readonly user: User;
  /** Every device of the user, in creation order. */
  readonly devices: readonly Device[];
  /** The devices reached from `trustchainRoots(user, devices)` by `walkTrustchain` (domain rules), in its order. */
  readonly trustchain: readonly TrustchainLink[];
}

/** Persistence of users and their devices. */
export interface UserRepository {
  /** A device with its user, or null when either is unknown. */
  getUserWithDevice(organizationId: OrganizationID, deviceId: DeviceID): Promise<{ user: User; device: Device } | null>;
  /** The user with its devices and trustchain (see {@link UserWithDevicesAndTrustchain}), or null when the user is unknown. */
  getUserWithDevicesAndTrustchain(organizationId: OrganizationID, userId: UserID): Promise<UserWithDevicesAndTrustchain | null>;
  /** Every user of the organization (revoked ones included), in creation order; empty for an unknown organization. */
  listUserSummaries(organizationId: OrganizationID, tx?: Tx): Promise<readonly UserSummary[]>;
  /**
   * Creates a user with its first device. The use case checks the rules first; these results are the store's last word.
   * `already_exists`: the user id is taken; `human_handle_already_taken`: a user without revocation has this email.
   */
  create(tx: Tx, organizationId: OrganizationID, user: User, firstDevice: Device): Promise<"ok" | "already_exists" | "human_handle_already_taken">;
  /** Adds a device to an existing user. `user_not_found`: no such user; `already_exists`: the device id is taken. */
  createDevice(tx: Tx, organizationId: OrganizationID, device: Device): Promise<"ok" | "user_not_found" | "already_exists">;
  /** Records a revocation. `not_found`: no such user; `already_revoked`: the user already has a revocation. */
  revoke(tx: Tx, organizationId: OrganizationID, userId: UserID, revocation: UserRevocation): Promise<"ok" | "not_found" | "already_revoked">;
}
