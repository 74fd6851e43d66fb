import type { BadTimestamp } from "../../domain/certificates/index.js";
import type { RealmID, SequesterServiceID, VlobID } from "../../domain/ids.js";
import type { RealmAccess } from "../../domain/realm/index.js";
import type { DateTime } from "../../domain/time.js";
import {
  checkSequesterBlob,
  checkVlobWriteAccess,
  type BadEncryptionRevision,
  type InMaintenance,
  type NotAllowed,
  type NotASequesteredOrganization,
  type RequireGreaterTimestamp,
  type SequesterBlobCheck,
  type SequesterInconsistency,
  type SequesterSetup,
  type VlobAtom,
  type VlobWriteAccess,
} from "../../domain/vlob/index.js";
import type { BackendEvent, EventBus, Tx } from "../ports/index.js";
import type { AuthenticatedSession } from "../session/session.js";

/** What the vlob use cases need to know of the session: who is acting, in which organization (and its sequester setup). */
export type VlobSession = Pick<AuthenticatedSession, "organizationId" | "deviceId" | "userId" | "sequesterAuthorityCertificate">;

/** The realm or vlob does not exist (in this organization). */
export interface NotFound {
  readonly kind: "not_found";
}

/** The {@link NotFound} outcome. */
export const NOT_FOUND: NotFound = { kind: "not_found" };

const NO_SERVICES: ReadonlyMap<SequesterServiceID, Buffer> = new Map();

/**
 * The sequester setup of the session's organization, as the vlob writes check it: its authority certificate (fixed at
 * bootstrap, carried by the session). This server has no sequester service registry yet (Parsec adds services with an
 * administration CLI), so a sequestered organization has none enabled.
 */
const sequesterSetupOf = (session: VlobSession): SequesterSetup => ({
  authorityCertificate: session.sequesterAuthorityCertificate,
  services: NO_SERVICES,
});

/** What `vlob_create` and `vlob_update` both carry: a blob written at an encryption revision, stamped by the client. */
export interface VlobWrite {
  readonly vlobId: VlobID;
  readonly encryptionRevision: number;
  /** The client's timestamp of the write. */
  readonly timestamp: DateTime;
  readonly blob: Buffer;
  /** Copies of the blob for each sequester service (API 2.8); null when the client sent none. */
  readonly sequesterBlob: ReadonlyMap<SequesterServiceID, Buffer> | null;
}

/**
 * The statuses `vlob_create` and `vlob_update` share. Not returned: `realm_archived` and `realm_deleted` (no realm
 * archiving yet), `rejected_by_sequester_service` and `timeout` (no sequester services).
 */
export type VlobWriteOutcome =
  | { readonly kind: "ok" }
  | NotAllowed
  | BadEncryptionRevision
  | InMaintenance
  | RequireGreaterTimestamp
  | BadTimestamp
  | NotASequesteredOrganization
  | SequesterInconsistency;

/**
 * The checks `vlob_create` and `vlob_update` share once the realm is known, in Parsec's order: the author may write
 * the realm at this encryption revision and timestamp (`checkVlobWriteAccess` on the author's {@link RealmAccess}:
 * `not_allowed`, `require_greater_timestamp`, `in_maintenance`, `bad_encryption_revision`), then the sequester blobs
 * fit the organization (`checkSequesterBlob`).
 */
export const checkVlobWrite = (session: VlobSession, realm: RealmAccess, write: VlobWrite): VlobWriteAccess | SequesterBlobCheck => {
  const access = checkVlobWriteAccess(realm, write.encryptionRevision, write.timestamp);
  if (access.kind !== "ok") return access;
  return checkSequesterBlob(sequesterSetupOf(session), write.sequesterBlob);
};

/** The version a vlob write stores: the blob, the session's device as author and the client's timestamp. */
export const writtenVersion = (session: VlobSession, write: VlobWrite): VlobAtom => ({
  blob: write.blob,
  author: session.deviceId,
  timestamp: write.timestamp,
});

/** The `realm.vlobs_updated` event of a write by the session's device. */
export const vlobsUpdatedEvent = (
  session: VlobSession,
  write: { realmId: RealmID; checkpoint: number; vlobId: VlobID; version: number },
): Extract<BackendEvent, { type: "realm.vlobs_updated" }> => ({
  type: "realm.vlobs_updated",
  organizationId: session.organizationId,
  author: session.deviceId,
  realmId: write.realmId,
  checkpoint: write.checkpoint,
  srcId: write.vlobId,
  srcVersion: write.version,
});

/** Publishes `realm.vlobs_updated` for a write by the session's device, with the transaction (delivered after commit). */
export const publishVlobsUpdated = (
  events: EventBus,
  tx: Tx,
  session: VlobSession,
  write: { realmId: RealmID; checkpoint: number; vlobId: VlobID; version: number },
): Promise<void> => events.publish(tx, vlobsUpdatedEvent(session, write));
