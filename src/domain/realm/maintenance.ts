import type { DeviceID, UserID } from "../ids.js";
import type { DateTime } from "../time.js";
import { currentRoles, roleOf, type Realm } from "./realm.js";

/** Refusals shared by the start and the finish of a re-encryption maintenance. */
export type MaintenanceRefusal =
  | { readonly kind: "not_allowed" }
  | { readonly kind: "in_maintenance" }
  | { readonly kind: "not_in_maintenance"; readonly reason: string }
  | { readonly kind: "bad_encryption_revision" }
  | { readonly kind: "participant_mismatch"; readonly reason: string };

/**
 * The users who must receive the new key when a re-encryption starts: every current member of `realm` except those
 * revoked at or before now (`isRevoked`); the author, an OWNER, is one of them.
 */
export const reencryptionParticipants = (realm: Realm, isRevoked: (userId: UserID) => boolean): Set<UserID> =>
  new Set([...currentRoles(realm).keys()].filter((userId) => !isRevoked(userId)));

/**
 * Whether `author` may start re-encrypting `realm` to `encryptionRevision`, in this order: the author is OWNER
 * (`not_allowed`); no maintenance is in progress (`in_maintenance`, whatever the revision asked); the revision is the
 * current one plus one (`bad_encryption_revision`); the message recipients are exactly `participants`
 * (`participant_mismatch`). Source: Parsec v2.16.3 memory `start_reencryption_maintenance`.
 */
export const checkReencryptionStart = (
  realm: Realm,
  author: UserID,
  encryptionRevision: number,
  recipients: Iterable<UserID>,
  participants: ReadonlySet<UserID>,
): { readonly kind: "ok" } | Exclude<MaintenanceRefusal, { kind: "not_in_maintenance" }> => {
  if (roleOf(realm, author) !== "OWNER") return { kind: "not_allowed" };
  if (realm.maintenance !== null) return { kind: "in_maintenance" };
  if (encryptionRevision !== realm.encryptionRevision + 1) return { kind: "bad_encryption_revision" };
  const recipientSet = new Set(recipients);
  const mismatch = recipientSet.size !== participants.size || [...participants].some((userId) => !recipientSet.has(userId));
  if (mismatch) return { kind: "participant_mismatch", reason: "Realm participants and message recipients mismatch" };
  return { kind: "ok" };
};

/** `realm` in REENCRYPTION maintenance at `encryptionRevision`, started by `startedBy` at the client's `startedOn`. */
export const startReencryption = (realm: Realm, start: { readonly startedBy: DeviceID; readonly startedOn: DateTime; readonly encryptionRevision: number }): Realm => ({
  ...realm,
  encryptionRevision: start.encryptionRevision,
  maintenance: { type: "REENCRYPTION", startedBy: start.startedBy, startedOn: start.startedOn },
});

/**
 * Whether `author` may finish the maintenance of `realm` at `encryptionRevision`, in this order: the author is OWNER
 * (`not_allowed`); a maintenance is in progress (`not_in_maintenance`); the revision is the current one
 * (`bad_encryption_revision`). Whether every vlob was re-encrypted is the vlob store's call.
 */
export const checkReencryptionFinish = (
  realm: Realm,
  author: UserID,
  encryptionRevision: number,
): { readonly kind: "ok" } | Extract<MaintenanceRefusal, { kind: "not_allowed" | "not_in_maintenance" | "bad_encryption_revision" }> => {
  if (roleOf(realm, author) !== "OWNER") return { kind: "not_allowed" };
  if (realm.maintenance === null) return { kind: "not_in_maintenance", reason: "Realm not under maintenance" };
  if (encryptionRevision !== realm.encryptionRevision) return { kind: "bad_encryption_revision" };
  return { kind: "ok" };
};

/** `realm` out of maintenance, keeping its encryption revision. */
export const finishMaintenance = (realm: Realm): Realm => ({ ...realm, maintenance: null });
