import type { OrganizationID, RealmID, UserID } from "../../domain/ids.js";
import type { Realm, RealmAccess, RealmMaintenance, RealmRoleGrant } from "../../domain/realm/index.js";
import type { DateTime } from "../../domain/time.js";
import type { Tx } from "./unit-of-work.js";

/**
 * How a transaction holds a realm until it ends (PostgreSQL row locks on the realm):
 * - `update` (`FOR UPDATE`): exclusive — role changes, maintenance and re-encryption batches take it, so they never
 *   interleave with each other nor with the holds below;
 * - `write` (`FOR NO KEY UPDATE`): vlob writes — one at a time per realm (each increments the realm's checkpoint), and
 *   never during an `update`; compatible with `share`;
 * - `share` (`FOR KEY SHARE`): block creation — the realm's roles and maintenance cannot change while it is held; any
 *   number of `share` holders, and a `write` holder, run at once.
 */
export type RealmLock = "update" | "write" | "share";

/** Persistence of realms: roles (history and current), encryption revision, maintenance, and the vlob checkpoint. */
export interface RealmRepository {
  /**
   * The whole realm with every grant (certificates included), or null when unknown. For the rare operations that
   * need it (role changes, maintenance, `realm_get_role_certificates`). With a transaction, the realm is held `update`.
   */
  get(organizationId: OrganizationID, realmId: RealmID, tx?: Tx): Promise<Realm | null>;
  /**
   * The {@link RealmAccess} of `userId` (revision, maintenance, the user's last grant) in one lookup, or null when the
   * realm is unknown. With a transaction and `lock`, the realm is held that way until the transaction ends.
   */
  getAccess(organizationId: OrganizationID, realmId: RealmID, userId: UserID, tx?: Tx, lock?: RealmLock): Promise<RealmAccess | null>;
  /** Inserts a new realm (its grants included); `already_exists` (nothing written) when the id is taken in the organization. */
  create(tx: Tx, organizationId: OrganizationID, realm: Realm): Promise<"ok" | "already_exists">;
  /** Appends a role grant to an existing realm held `update` by `tx` (the grant is checked by the domain rules). */
  addGrant(tx: Tx, organizationId: OrganizationID, realmId: RealmID, grant: RealmRoleGrant): Promise<void>;
  /** Sets the encryption revision and maintenance of an existing realm held `update` by `tx`. */
  setMaintenance(
    tx: Tx,
    organizationId: OrganizationID,
    realmId: RealmID,
    state: { readonly encryptionRevision: number; readonly maintenance: RealmMaintenance | null },
  ): Promise<void>;
  /** The realms where `userId` currently has a role. */
  listForUser(organizationId: OrganizationID, userId: UserID): Promise<readonly RealmID[]>;
  /** Number of realms created at or before `at`. */
  countCreatedBefore(organizationId: OrganizationID, at: DateTime): Promise<number>;
}
