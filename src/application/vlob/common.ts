import type { DeviceID, OrganizationID, RealmID, SequesterServiceID, VlobID } from "../../domain/ids.js";
import type { Organization } from "../../domain/organization/index.js";
import type { SequesterSetup } from "../../domain/vlob/index.js";
import type { EventBus, Tx } from "../ports/index.js";
import type { AuthenticatedSession } from "../session/session.js";

/** What the vlob use cases need to know of the session: who is acting, in which organization. */
export type VlobSession = Pick<AuthenticatedSession, "organizationId" | "deviceId" | "userId">;

/** The realm or vlob does not exist (in this organization). */
export interface NotFound {
  readonly kind: "not_found";
}

/** The {@link NotFound} outcome. */
export const NOT_FOUND: NotFound = { kind: "not_found" };

const NO_SERVICES: ReadonlyMap<SequesterServiceID, Buffer> = new Map();

/**
 * The sequester setup of an organization, as the vlob writes check it. This server has no sequester service
 * registry yet (Parsec adds services with an administration CLI), so a sequestered organization has none enabled.
 */
export const sequesterSetupOf = (organization: Organization | null): SequesterSetup => ({
  authorityCertificate: organization?.sequesterAuthority?.certificate ?? null,
  services: NO_SERVICES,
});

/** Publishes `realm.vlobs_updated` with the transaction (delivered after commit). */
export const publishVlobsUpdated = (
  events: EventBus,
  tx: Tx,
  write: { organizationId: OrganizationID; author: DeviceID; realmId: RealmID; checkpoint: number; vlobId: VlobID; version: number },
): void =>
  events.publish(
    {
      type: "realm.vlobs_updated",
      organizationId: write.organizationId,
      author: write.author,
      realmId: write.realmId,
      checkpoint: write.checkpoint,
      srcId: write.vlobId,
      srcVersion: write.version,
    },
    tx,
  );
