import type { BlockRepository } from "../../../application/ports/index.js";
import type { OrganizationID, RealmID } from "../../../domain/ids.js";
import type { DateTime } from "../../../domain/time.js";

/** {@link BlockRepository} in memory (block metadata; payloads are in the block store). */
export class MemoryBlockRepository implements BlockRepository {
  async realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number> {
    void organizationId, realmId;
    throw new Error("MemoryBlockRepository.realmSize: not implemented yet");
  }
  async dataSize(organizationId: OrganizationID, at: DateTime): Promise<number> {
    void organizationId, at;
    throw new Error("MemoryBlockRepository.dataSize: not implemented yet");
  }
}
