import type { DeviceID, DeviceLabel, HumanHandle, UserID, UserProfile } from "../ids.js";
import type { DateTime } from "../time.js";

/**
 * A user as the server keeps it: certificates exactly as received plus the fields the rules need.
 * Source: Parsec v2.16.3 `parsec/backend/user.py` (`User`).
 */
export interface User {
  readonly userId: UserID;
  readonly humanHandle: HumanHandle | null;
  readonly profile: UserProfile;
  /** X25519 public key (32 bytes) from the user certificate. */
  readonly publicKey: Buffer;
  readonly userCertificate: Buffer;
  readonly redactedUserCertificate: Buffer;
  /** Author of the user certificate; `null` for the root key (bootstrap). */
  readonly userCertifier: DeviceID | null;
  readonly createdOn: DateTime;
  /** Timestamp of the revocation certificate (may be slightly in the future of the server's clock); null when never revoked. */
  readonly revokedOn: DateTime | null;
  readonly revokedUserCertificate: Buffer | null;
  readonly revokedUserCertifier: DeviceID | null;
}

/** A device as the server keeps it. Source: Parsec v2.16.3 `parsec/backend/user.py` (`Device`). */
export interface Device {
  readonly deviceId: DeviceID;
  readonly deviceLabel: DeviceLabel | null;
  /** Ed25519 verify key (32 bytes) from the device certificate. */
  readonly verifyKey: Buffer;
  readonly deviceCertificate: Buffer;
  readonly redactedDeviceCertificate: Buffer;
  /** Author of the device certificate; `null` for the root key. */
  readonly deviceCertifier: DeviceID | null;
  readonly createdOn: DateTime;
}

/** The fields of a {@link User} the organization-wide rules need (user limit, human handle uniqueness, `human_find`). */
export type UserSummary = Pick<User, "userId" | "humanHandle" | "profile" | "revokedOn">;

/** True when the user was revoked at or before `now`. */
export const isRevoked = (user: Pick<User, "revokedOn">, now: DateTime): boolean => user.revokedOn !== null && !user.revokedOn.isAfter(now);

/**
 * True when the user counts against the organization's `active_users_limit`: it has no revocation at all,
 * even one dated in the future (Parsec v2.16.3 counts `revoked_on IS NULL`).
 */
export const countsAsActiveUser = (user: Pick<User, "revokedOn">): boolean => user.revokedOn === null;
