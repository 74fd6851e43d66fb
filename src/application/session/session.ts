import type { ApiVersion } from "../../domain/handshake/index.js";
import type { DeviceID, DeviceLabel, HumanHandle, OrganizationID, UserID, UserProfile } from "../../domain/ids.js";
import type { Invitation } from "../../domain/invite/index.js";

/** Who is on the other end of an authenticated connection (Parsec `AuthenticatedClientContext`). */
export interface AuthenticatedSession {
  readonly kind: "authenticated";
  readonly organizationId: OrganizationID;
  readonly deviceId: DeviceID;
  readonly userId: UserID;
  readonly profile: UserProfile;
  readonly humanHandle: HumanHandle | null;
  readonly deviceLabel: DeviceLabel | null;
  /** Ed25519 verify key of the device (32 bytes). */
  readonly verifyKey: Buffer;
  /** X25519 public key of the user (32 bytes). */
  readonly publicKey: Buffer;
  /**
   * The organization's sequester authority certificate, null when not sequestered (set at bootstrap, immutable
   * afterwards, so read once at handshake: vlob writes check sequester blobs against it without a lookup).
   */
  readonly sequesterAuthorityCertificate: Buffer | null;
  /** The version the server speaks on this connection and the one the client announced. */
  readonly apiVersion: ApiVersion;
  readonly clientApiVersion: ApiVersion;
}

/** A claimer connected with an invitation token (Parsec `InvitedClientContext`). */
export interface InvitedSession {
  readonly kind: "invited";
  readonly organizationId: OrganizationID;
  readonly invitation: Invitation;
  /** Identifies this connection among the claimer connections of this server process (claimer presence). */
  readonly connectionId: string;
  readonly apiVersion: ApiVersion;
  readonly clientApiVersion: ApiVersion;
}

/** An anonymous HTTP request for one organization (`/anonymous/<organization_id>`). */
export interface AnonymousSession {
  readonly kind: "anonymous";
  readonly organizationId: OrganizationID;
  readonly apiVersion: ApiVersion;
}
