import type { BlockID, DeviceID, RealmID } from "../ids.js";
import { canRead, canWrite, roleIn, type RealmAccess } from "../realm/index.js";
import type { DateTime } from "../time.js";

/**
 * What the server knows about a block besides its payload (the payload lives in a block store).
 * Source: Parsec v2.16.3 `BlockMeta` and the `block` table.
 */
export interface BlockMeta {
  readonly id: BlockID;
  readonly realmId: RealmID;
  /** Payload length in bytes. */
  readonly size: number;
  readonly author: DeviceID;
  readonly createdOn: DateTime;
}

/** Whether the user of a {@link RealmAccess} may touch the blocks of its realm right now. */
export type BlockAccess = { readonly kind: "ok" } | { readonly kind: "not_allowed" } | { readonly kind: "in_maintenance" };

const OK: BlockAccess = { kind: "ok" };

/**
 * `block_create` access: CONTRIBUTOR or above, and no maintenance of any kind in progress.
 * The role is checked before the maintenance so that a non-member learns nothing of the realm's state
 * (Parsec's memory backend order).
 */
export const checkBlockWrite = (realm: RealmAccess): BlockAccess => {
  if (!canWrite(roleIn(realm))) return { kind: "not_allowed" };
  return realm.maintenance ? { kind: "in_maintenance" } : OK;
};

/** `block_read` access: any member; a re-encryption maintenance still allows reads, any other maintenance does not. */
export const checkBlockRead = (realm: RealmAccess): BlockAccess => {
  if (!canRead(roleIn(realm))) return { kind: "not_allowed" };
  return realm.maintenance && realm.maintenance.type !== "REENCRYPTION" ? { kind: "in_maintenance" } : OK;
};
