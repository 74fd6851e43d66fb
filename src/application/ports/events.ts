import type { DeviceID, InvitationToken, OrganizationID, RealmID, RealmRole, UserID, VlobID } from "../../domain/ids.js";
import type { InvitationStatus } from "../../domain/invite/index.js";
import type { Tx } from "./unit-of-work.js";

/**
 * Events the server publishes to connected clients and to its own sessions
 * (Parsec v2.16.3 `BackendEvent`). Every event belongs to one organization.
 */
export type BackendEvent =
  | { readonly type: "pinged"; readonly organizationId: OrganizationID; readonly author: DeviceID; readonly ping: string }
  | { readonly type: "user.revoked"; readonly organizationId: OrganizationID; readonly userId: UserID }
  | {
      readonly type: "invite.status_changed";
      readonly organizationId: OrganizationID;
      readonly greeter: UserID;
      readonly token: InvitationToken;
      readonly status: InvitationStatus;
    }
  | { readonly type: "organization.expired"; readonly organizationId: OrganizationID }
  | {
      readonly type: "message.received";
      readonly organizationId: OrganizationID;
      readonly author: DeviceID;
      readonly recipient: UserID;
      /** 1-based index of the message in the recipient's inbox. */
      readonly index: number;
    }
  | { readonly type: "invite.conduit_updated"; readonly organizationId: OrganizationID; readonly token: InvitationToken }
  | {
      readonly type: "realm.roles_updated";
      readonly organizationId: OrganizationID;
      readonly author: DeviceID;
      readonly realmId: RealmID;
      readonly userId: UserID;
      /** `null`: the role was removed. */
      readonly role: RealmRole | null;
    }
  | {
      readonly type: "realm.vlobs_updated";
      readonly organizationId: OrganizationID;
      readonly author: DeviceID;
      readonly realmId: RealmID;
      /** The realm's change counter after this write. */
      readonly checkpoint: number;
      readonly srcId: VlobID;
      readonly srcVersion: number;
    }
  | {
      readonly type: "realm.maintenance_started" | "realm.maintenance_finished";
      readonly organizationId: OrganizationID;
      readonly author: DeviceID;
      readonly realmId: RealmID;
      readonly encryptionRevision: number;
    };

/** Stop receiving events. */
export type Unsubscribe = () => void;

/**
 * Publishes and delivers {@link BackendEvent}s. With a transaction, delivery waits for its commit;
 * without, delivery is immediate. Subscribers of several server processes sharing one database
 * all receive every event (PostgreSQL adapter: LISTEN/NOTIFY).
 */
export interface EventBus {
  publish(event: BackendEvent, tx?: Tx): void;
  subscribe(listener: (event: BackendEvent) => void): Unsubscribe;
}
