import type { DeviceID, OrganizationID, UserID } from "../../domain/ids.js";
import type { Organization } from "../../domain/organization/index.js";
import type { DateTime } from "../../domain/time.js";
import type { AdmissionFacts, Device, HumanFindPage, HumanSearch, TrustchainLink, User, UserSummary } from "../../domain/user/index.js";
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

/** What an AUTHENTICATED handshake needs, read in one lookup: the organization and, when they exist, the device and its user. */
export interface AuthenticationLookup {
  readonly organization: Organization;
  /** Null when the organization has no such device (or, never expected, the device has no user). */
  readonly device: { readonly user: User; readonly device: Device } | null;
}

/** Persistence of users and their devices. */
export interface UserRepository {
  /** The handshake's lookup in one query: null for an unknown organization. */
  getAuthentication(organizationId: OrganizationID, deviceId: DeviceID): Promise<AuthenticationLookup | null>;
  /** The user with its devices and trustchain (see {@link UserWithDevicesAndTrustchain}), or null when the user is unknown. */
  getUserWithDevicesAndTrustchain(organizationId: OrganizationID, userId: UserID): Promise<UserWithDevicesAndTrustchain | null>;
  /** One user's summary (profile, human handle, revocation), or null when unknown. */
  getSummary(organizationId: OrganizationID, userId: UserID, tx?: Tx): Promise<UserSummary | null>;
  /** The summaries of those of `userIds` that exist (unknown ids are absent from the map). */
  getSummaries(organizationId: OrganizationID, userIds: readonly UserID[], tx?: Tx): Promise<ReadonlyMap<UserID, UserSummary>>;
  /** True when a user not revoked at `now` (`isRevoked`) has `email` in their human handle (`invite_new` `already_member`). */
  isEmailTaken(organizationId: OrganizationID, email: string, now: DateTime, tx?: Tx): Promise<boolean>;
  /**
   * The facts `checkUserAdmission` needs to create user `userId` with `email` (null: no human handle) at `now`, under
   * locks held until the end of `tx` (PostgreSQL): the organization row `FOR UPDATE` when `countActiveUsers` (so that
   * concurrent creations are counted one at a time), then a per-email lock when `email` is given (so that two users
   * with one email cannot both be created). `activeUsers` is null unless `countActiveUsers`.
   */
  admissionFacts(
    tx: Tx,
    organizationId: OrganizationID,
    request: { readonly userId: UserID; readonly email: string | null; readonly now: DateTime; readonly countActiveUsers: boolean },
  ): Promise<AdmissionFacts>;
  /**
   * `human_find` (domain rule `findHumans`: query words in order in the label or email, or the user id of users
   * without human handle; filters; order; paging), answered by the store (PostgreSQL: filtered, ordered and paged in
   * SQL). Revocation is judged at `now`.
   */
  findHumans(organizationId: OrganizationID, search: HumanSearch, now: DateTime): Promise<HumanFindPage>;
  /**
   * Creates a user with its first device. The use case checks the rules first; these results are the store's last word.
   * `already_exists`: the user id (or the device id) is taken; `human_handle_already_taken`: a user without any
   * revocation has this email.
   */
  create(tx: Tx, organizationId: OrganizationID, user: User, firstDevice: Device): Promise<"ok" | "already_exists" | "human_handle_already_taken">;
  /** Adds a device to an existing user. `user_not_found`: no such user; `already_exists`: the device id is taken. */
  createDevice(tx: Tx, organizationId: OrganizationID, device: Device): Promise<"ok" | "user_not_found" | "already_exists">;
  /** Records a revocation, once. `not_found`: no such user; `already_revoked`: the user already has a revocation. */
  revoke(tx: Tx, organizationId: OrganizationID, userId: UserID, revocation: UserRevocation): Promise<"ok" | "not_found" | "already_revoked">;
}
