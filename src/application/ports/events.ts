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

/** Stop receiving events (idempotent). */
export type Unsubscribe = () => void;

/** What a subscription receives from the {@link EventBus}. */
export interface EventSubscriber {
  /**
   * One event of the subscribed organization. Called after the transaction that published it committed, never
   * from inside `publish`, and in the order the events were committed (per publishing process). Must not throw
   * (a throw is caught and reported by the adapter).
   */
  readonly event: (event: BackendEvent) => void;
  /**
   * Events of the organization may have been lost since the last one received (e.g. the connection that brings the
   * events of every server process was lost, and is back). Whoever waits for an event must re-read the state it
   * waits on, or give up and let its client resynchronise. Never called by a single-process memory bus.
   */
  readonly gap?: () => void;
}

/**
 * Publishes and delivers {@link BackendEvent}s to the subscribers of every server process sharing the same storage
 * (PostgreSQL adapter: NOTIFY on the writing transaction's connection, one LISTEN connection per process; memory
 * adapter: one process). Delivery is asynchronous: a publisher's reply never waits for subscribers to run.
 */
export interface EventBus {
  /**
   * Publishes `event` as part of transaction `tx`: delivered only once `tx` has committed, never if it rolls back.
   * Resolves once the event is recorded in the transaction (PostgreSQL: `pg_notify` sent on its connection).
   * Events of any size are accepted (a large `pinged` string included).
   */
  publish(tx: Tx, event: BackendEvent): Promise<void>;
  /** Publishes an event that belongs to no transaction (`pinged`, `organization.expired` noticed at a handshake). */
  publishNow(event: BackendEvent): Promise<void>;
  /**
   * Subscribes to the events of one organization, from now on: every event committed after this call is delivered;
   * an event committed shortly before may be delivered too (it was still on its way), so a subscriber that loads
   * state after subscribing must tolerate events it already accounts for.
   */
  subscribe(organizationId: OrganizationID, subscriber: EventSubscriber): Unsubscribe;
}
