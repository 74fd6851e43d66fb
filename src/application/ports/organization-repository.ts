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
  /** Inserts, or replaces a not-yet-bootstrapped organization of the same id. */
  save(tx: Tx, organization: Organization): Promise<void>;
  /** Usage figures as of `at` (default now): users, realms, data and metadata sizes in bytes. */
  stats(id: OrganizationID, at?: DateTime): Promise<OrganizationStats>;
}
