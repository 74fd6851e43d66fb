import type { Tx, UserRepository } from "../../../application/ports/index.js";
import type { DeviceID, OrganizationID } from "../../../domain/ids.js";
import { DeviceID as DeviceIDs } from "../../../domain/ids.js";
import type { Device, User } from "../../../domain/user/index.js";
import type { MemoryStore } from "./store.js";
import type { MemoryTx } from "./unit-of-work.js";

/** {@link UserRepository} on the memory store. */
export class MemoryUserRepository implements UserRepository {
  constructor(private readonly store: MemoryStore) {}

  async getUserWithDevice(organizationId: OrganizationID, deviceId: DeviceID): Promise<{ user: User; device: Device } | null> {
    const data = this.store.organizations.get(organizationId);
    const device = data?.devices.get(deviceId);
    const user = device && data?.users.get(DeviceIDs.userId(deviceId));
    return device && user ? { user, device } : null;
  }

  async create(tx: Tx, organizationId: OrganizationID, user: User, firstDevice: Device): Promise<"ok" | "already_exists" | "human_handle_already_taken"> {
    const data = this.store.organizations.get(organizationId);
    if (!data) throw new Error(`organization ${organizationId} is not in the memory store`);
    if (data.users.has(user.userId)) return "already_exists";
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
}
