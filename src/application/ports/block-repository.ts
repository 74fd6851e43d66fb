import type { OrganizationID, RealmID } from "../../domain/ids.js";
import type { DateTime } from "../../domain/time.js";

/**
 * Persistence of block metadata (which realm a block belongs to, its size, author and creation time);
 * the payloads themselves live in a {@link BlockStore}. The block use cases (src/application/block) add
 * what they need; the methods below are those the realm use cases and the statistics rely on.
 */
export interface BlockRepository {
  /** Bytes of every block of the realm (`realm_stats` `blocks_size`). */
  realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number>;
  /** Bytes of every block of the organization created at or before `at` (`data_size`). */
  dataSize(organizationId: OrganizationID, at: DateTime): Promise<number>;
}
