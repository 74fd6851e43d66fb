import type { AuthenticationLookup, Tx, UserRepository, UserRevocation, UserWithDevicesAndTrustchain } from "../../../application/ports/index.js";
import type { DeviceID, OrganizationID, UserID } from "../../../domain/ids.js";
import { DeviceID as DeviceIDs } from "../../../domain/ids.js";
import { isActiveMember } from "../../../domain/invite/index.js";
import type { DateTime } from "../../../domain/time.js";
import {
  admissionFactsFrom,
  findHumans,
  trustchainRoots,
  walkTrustchain,
  type AdmissionFacts,
  type Device,
  type HumanFindPage,
  type HumanSearch,
  type TrustchainLink,
  type User,
  type UserSummary,
} from "../../../domain/user/index.js";
import type { MemoryOrganizationData, MemoryStore } from "./store.js";
import type { MemoryTx } from "./unit-of-work.js";

/** {@link UserRepository} on the memory store; the domain rules (`findHumans`, admission facts) run over every user. */
export class MemoryUserRepository implements UserRepository {
  constructor(private readonly store: MemoryStore) {}

  private data(organizationId: OrganizationID): MemoryOrganizationData {
    const data = this.store.organizations.get(organizationId);
    if (!data) throw new Error(`organization ${organizationId} is not in the memory store`);
    return data;
  }

  async getAuthentication(organizationId: OrganizationID, deviceId: DeviceID): Promise<AuthenticationLookup | null> {
    const data = this.store.organizations.get(organizationId);
    return data ? { organization: data.organization, device: linkOf(data, deviceId) } : null;
  }

  async getUserWithDevicesAndTrustchain(organizationId: OrganizationID, userId: UserID): Promise<UserWithDevicesAndTrustchain | null> {
    const data = this.store.organizations.get(organizationId);
    const user = data?.users.get(userId);
    if (!data || !user) return null;
    const devices = [...data.devices.values()].filter((device) => DeviceIDs.userId(device.deviceId) === userId);
    return { user, devices, trustchain: walkTrustchain(trustchainRoots(user, devices), (id) => linkOf(data, id)) };
  }

  async getSummary(organizationId: OrganizationID, userId: UserID): Promise<UserSummary | null> {
    return this.store.organizations.get(organizationId)?.users.get(userId) ?? null;
  }

  async getSummaries(organizationId: OrganizationID, userIds: readonly UserID[]): Promise<ReadonlyMap<UserID, UserSummary>> {
    const users = this.store.organizations.get(organizationId)?.users;
    const found = new Map<UserID, UserSummary>();
    for (const userId of userIds) {
      const user = users?.get(userId);
      if (user) found.set(userId, user);
    }
    return found;
  }

  async isEmailTaken(organizationId: OrganizationID, email: string, now: DateTime): Promise<boolean> {
    return isActiveMember([...(this.store.organizations.get(organizationId)?.users.values() ?? [])], email, now);
  }

  async admissionFacts(
    _tx: Tx,
    organizationId: OrganizationID,
    request: { readonly userId: UserID; readonly email: string | null; readonly now: DateTime; readonly countActiveUsers: boolean },
  ): Promise<AdmissionFacts> {
    return admissionFactsFrom(this.data(organizationId).users.values(), request, request.now, request.countActiveUsers);
  }

  async findHumans(organizationId: OrganizationID, search: HumanSearch, now: DateTime): Promise<HumanFindPage> {
    return findHumans([...(this.store.organizations.get(organizationId)?.users.values() ?? [])], search, now);
  }

  async create(tx: Tx, organizationId: OrganizationID, user: User, firstDevice: Device): Promise<"ok" | "already_exists" | "human_handle_already_taken"> {
    const data = this.data(organizationId);
    if (data.users.has(user.userId) || data.devices.has(firstDevice.deviceId)) return "already_exists";
    if (user.humanHandle) {
      const email = user.humanHandle.email;
      for (const other of data.users.values())
        if (other.revokedOn === null && other.humanHandle?.email === email) return "human_handle_already_taken";
    }
    data.users.set(user.userId, user);
    data.devices.set(firstDevice.deviceId, firstDevice);
    (tx as MemoryTx).onRollback(() => {
      data.users.delete(user.userId);
      data.devices.delete(firstDevice.deviceId);
    });
    return "ok";
  }

  async createDevice(tx: Tx, organizationId: OrganizationID, device: Device): Promise<"ok" | "user_not_found" | "already_exists"> {
    const data = this.data(organizationId);
    if (!data.users.has(DeviceIDs.userId(device.deviceId))) return "user_not_found";
    if (data.devices.has(device.deviceId)) return "already_exists";
    data.devices.set(device.deviceId, device);
    (tx as MemoryTx).onRollback(() => data.devices.delete(device.deviceId));
    return "ok";
  }

  async revoke(tx: Tx, organizationId: OrganizationID, userId: UserID, revocation: UserRevocation): Promise<"ok" | "not_found" | "already_revoked"> {
    const data = this.data(organizationId);
    const user = data.users.get(userId);
    if (!user) return "not_found";
    if (user.revokedOn !== null) return "already_revoked";
    data.users.set(userId, {
      ...user,
      revokedOn: revocation.revokedOn,
      revokedUserCertificate: revocation.certificate,
      revokedUserCertifier: revocation.certifier,
    });
    (tx as MemoryTx).onRollback(() => data.users.set(userId, user));
    return "ok";
  }
}

const linkOf = (data: MemoryOrganizationData, deviceId: DeviceID): TrustchainLink | null => {
  const device = data.devices.get(deviceId);
  const user = device && data.users.get(DeviceIDs.userId(deviceId));
  return device && user ? { user, device } : null;
};
