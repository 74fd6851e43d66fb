import type { OrganizationID, RealmID, UserID } from "../../domain/ids.js";
import type { Realm } from "../../domain/realm/index.js";
import type { DateTime } from "../../domain/time.js";
import type { Tx } from "./unit-of-work.js";

/**
 * Persistence of realms (roles, encryption revision, maintenance). With a transaction, `get` reads
 * under the unit of work's lock (PostgreSQL: `FOR UPDATE` on the realm row) so that a role change and a
 * write of the same realm never interleave.
 */
export interface RealmRepository {
  get(organizationId: OrganizationID, realmId: RealmID, tx?: Tx): Promise<Realm | null>;
  /** Inserts or replaces the realm. */
  save(tx: Tx, organizationId: OrganizationID, realm: Realm): Promise<void>;
  /** The realms where `userId` currently has a role. */
  listForUser(organizationId: OrganizationID, userId: UserID): Promise<readonly RealmID[]>;
  /** Number of realms created at or before `at`. */
  countCreatedBefore(organizationId: OrganizationID, at: DateTime): Promise<number>;
}
