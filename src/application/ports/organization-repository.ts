import type { OrganizationID } from "../../domain/ids.js";
import type { Organization, OrganizationStats } from "../../domain/organization/index.js";
import type { DateTime } from "../../domain/time.js";
import type { Tx } from "./unit-of-work.js";

/** Persistence of organizations. */
export interface OrganizationRepository {
  /** The organization, or null when unknown. */
  get(id: OrganizationID, tx?: Tx): Promise<Organization | null>;
  /** Every organization, in creation order. */
  list(): Promise<readonly Organization[]>;
  /** Inserts the organization, or replaces the one of the same id (the use cases decide when that is allowed). */
  save(tx: Tx, organization: Organization): Promise<void>;
  /**
   * The user figures as of `at` (default now): `users`, `activeUsers` and `usersPerProfileDetail`. The other
   * fields are not this repository's to know and are 0; the statistics use case takes them from the realm, vlob
   * and block repositories.
   */
  stats(id: OrganizationID, at?: DateTime): Promise<OrganizationStats>;
}
