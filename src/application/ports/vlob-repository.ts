import type { OrganizationID, RealmID, UserID } from "../../domain/ids.js";
import type { DateTime } from "../../domain/time.js";
import type { Tx } from "./unit-of-work.js";

/**
 * Persistence of vlobs (versioned encrypted metadata) and of each realm's change checkpoints.
 * The vlob use cases (src/application/vlob) add what they need; the methods below are those the
 * realm use cases and the statistics rely on.
 */
export interface VlobRepository {
  /** Timestamp of the last vlob version written by `userId` in the realm, or null (causality check of `realm_update_roles`). */
  lastWriteBy(organizationId: OrganizationID, realmId: RealmID, userId: UserID, tx?: Tx): Promise<DateTime | null>;
  /** Starts collecting re-encrypted versions of every vlob of the realm for `encryptionRevision` (the new revision). */
  startReencryption(tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<void>;
  /**
   * Ends the re-encryption for `encryptionRevision`: when every vlob version has been re-encrypted, the
   * re-encrypted blobs replace the old ones and `ok` is returned; otherwise nothing changes and `not_finished`.
   */
  finishReencryption(tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<"ok" | "not_finished">;
  /** Bytes of every vlob version of the realm (`realm_stats` `vlobs_size`). */
  realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number>;
  /** Bytes of every vlob version of the organization written at or before `at` (`metadata_size`). */
  metadataSize(organizationId: OrganizationID, at: DateTime): Promise<number>;
}
