import type { OrganizationID } from "../../domain/ids.js";
import type { Organization, OrganizationPatch, OrganizationStats, SequesterAuthority } from "../../domain/organization/index.js";
import type { DateTime } from "../../domain/time.js";
import type { Tx } from "./unit-of-work.js";

/** What `organization_bootstrap` records on an organization. */
export interface OrganizationBootstrap {
  /** The token the client presented: the bootstrap succeeds only if it is the organization's. */
  readonly bootstrapToken: string;
  /** Ed25519 root verify key (32 bytes). */
  readonly rootVerifyKey: Buffer;
  readonly bootstrappedOn: DateTime;
  /** Null for an organization without sequester. */
  readonly sequesterAuthority: SequesterAuthority | null;
}

/**
 * Persistence of organizations. Creations are never upserts: a row, once bootstrapped, is only ever changed by
 * {@link update} (expiration, settings).
 */
export interface OrganizationRepository {
  /** The organization, or null when unknown. A plain read: no lock, even with a transaction. */
  get(id: OrganizationID, tx?: Tx): Promise<Organization | null>;
  /** Every organization, in creation order. */
  list(): Promise<readonly Organization[]>;
  /** Inserts the organization; `already_exists` (nothing written) when its id is taken. */
  create(tx: Tx, organization: Organization): Promise<"ok" | "already_exists">;
  /**
   * Replaces the bootstrap token, settings and creation date of an organization that is not bootstrapped yet (the
   * administration API re-creating it), atomically: `already_bootstrapped` (nothing written) when a bootstrap won.
   */
  replaceNotBootstrapped(tx: Tx, organization: Organization): Promise<"ok" | "not_found" | "already_bootstrapped">;
  /**
   * Records a bootstrap, atomically and once (PostgreSQL: `UPDATE … WHERE root key IS NULL AND token = …`, which
   * locks the organization row until the end of `tx`). Checked in this order: `not_found`, `already_bootstrapped`,
   * `bad_token` (the organization's token differs); nothing is written unless `ok`.
   */
  bootstrap(tx: Tx, id: OrganizationID, bootstrap: OrganizationBootstrap): Promise<"ok" | "not_found" | "already_bootstrapped" | "bad_token">;
  /** Applies the administration API's patch (absent fields unchanged); `not_found` for an unknown organization. */
  update(tx: Tx, id: OrganizationID, patch: OrganizationPatch): Promise<"ok" | "not_found">;
  /**
   * The user figures as of `at` (default now): `users`, `activeUsers` and `usersPerProfileDetail`. The other fields
   * are not this repository's to know and are 0; the statistics use case takes them from the realm, vlob and block
   * repositories.
   */
  stats(id: OrganizationID, at?: DateTime): Promise<OrganizationStats>;
}
