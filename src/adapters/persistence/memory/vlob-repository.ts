import type { Tx, VlobRepository } from "../../../application/ports/index.js";
import type { OrganizationID, RealmID, UserID } from "../../../domain/ids.js";
import type { DateTime } from "../../../domain/time.js";

/** {@link VlobRepository} in memory. */
export class MemoryVlobRepository implements VlobRepository {
  async lastWriteBy(organizationId: OrganizationID, realmId: RealmID, userId: UserID): Promise<DateTime | null> {
    void organizationId, realmId, userId;
    throw new Error("MemoryVlobRepository.lastWriteBy: not implemented yet");
  }
  async startReencryption(tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<void> {
    void tx, organizationId, realmId, encryptionRevision;
    throw new Error("MemoryVlobRepository.startReencryption: not implemented yet");
  }
  async finishReencryption(tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<"ok" | "not_finished"> {
    void tx, organizationId, realmId, encryptionRevision;
    throw new Error("MemoryVlobRepository.finishReencryption: not implemented yet");
  }
  async realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number> {
    void organizationId, realmId;
    throw new Error("MemoryVlobRepository.realmSize: not implemented yet");
  }
  async metadataSize(organizationId: OrganizationID, at: DateTime): Promise<number> {
    void organizationId, at;
    throw new Error("MemoryVlobRepository.metadataSize: not implemented yet");
  }
}
