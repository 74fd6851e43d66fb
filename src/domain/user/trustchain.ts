import type { DeviceID, UserID } from "../ids.js";
import type { Device, User } from "./user.js";

/** A device reached while walking a trustchain, with its user. */
export interface TrustchainLink {
  readonly user: User;
  readonly device: Device;
}

/** The `trustchain` of a `user_get` reply: certificates exactly as stored, each at most once. */
export interface TrustchainCertificates {
  readonly users: readonly Buffer[];
  readonly devices: readonly Buffer[];
  readonly revokedUsers: readonly Buffer[];
}

/**
 * Where the trustchain of `user` and its `devices` starts: the authors of the user certificate, of the revocation
 * certificate and of each device certificate (the root key, `null`, needs nothing). Source: Parsec v2.16.3
 * `get_user_with_devices_and_trustchain`.
 */
export const trustchainRoots = (user: User, devices: readonly Device[]): DeviceID[] =>
  [user.userCertifier, user.revokedUserCertifier, ...devices.map((d) => d.deviceCertifier)].filter((id): id is DeviceID => id !== null);

/**
 * Every device needed to verify certificates authored by `from`, recursively: each reached device brings its own
 * certifier, its user's certifier and its user's revoker. Each device appears once, in depth-first discovery order;
 * a device `lookup` does not know is skipped (as Parsec's PostgreSQL query does).
 */
export const walkTrustchain = (from: readonly DeviceID[], lookup: (deviceId: DeviceID) => TrustchainLink | null): TrustchainLink[] => {
  const links: TrustchainLink[] = [];
  const visited = new Set<DeviceID>();
  const pending = [...from].reverse();
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (visited.has(next)) continue;
    visited.add(next);
    const link = lookup(next);
    if (!link) continue;
    links.push(link);
    const certifiers = [link.device.deviceCertifier, link.user.revokedUserCertifier, link.user.userCertifier];
    for (const certifier of certifiers.reverse()) if (certifier !== null && !visited.has(certifier)) pending.push(certifier);
  }
  return links;
};

/**
 * The certificates of `links`: each device's certificate, each user's certificate once, and each revoked user's
 * revocation certificate once. With `redacted` (an OUTSIDER asks), the redacted user and device certificates are sent
 * instead; revocation certificates carry no personal data and are sent as they are.
 */
export const assembleTrustchain = (links: readonly TrustchainLink[], redacted: boolean): TrustchainCertificates => {
  const users = new Map<UserID, Buffer>();
  const revokedUsers = new Map<UserID, Buffer>();
  const devices: Buffer[] = [];
  for (const { user, device } of links) {
    devices.push(redacted ? device.redactedDeviceCertificate : device.deviceCertificate);
    if (!users.has(user.userId)) users.set(user.userId, redacted ? user.redactedUserCertificate : user.userCertificate);
    if (user.revokedUserCertificate && !revokedUsers.has(user.userId)) revokedUsers.set(user.userId, user.revokedUserCertificate);
  }
  return { users: [...users.values()], devices, revokedUsers: [...revokedUsers.values()] };
};
