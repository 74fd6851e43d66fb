import { isValidSignedChallenge, settleApiVersion, type ApiVersion } from "../../domain/handshake/index.js";
import { DeviceID, type InvitationToken, type InvitationType, type OrganizationID } from "../../domain/ids.js";
import { isRevoked } from "../../domain/user/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession, InvitedSession } from "./session.js";

/** Failures of the WebSocket handshake, with the `help` text sent to the client. Source: Parsec v2.16.3 `handshake.py`. */
export type HandshakeFailure =
  | { kind: "bad_protocol"; help: string }
  | { kind: "bad_identity"; help: string }
  | { kind: "rvk_mismatch"; help: string }
  | { kind: "organization_expired"; help: string }
  | { kind: "revoked_device"; help: string };

/** An AUTHENTICATED handshake answer, decoded, with the challenge the server sent. */
export interface AuthenticatedAnswer {
  readonly organizationId: OrganizationID;
  readonly deviceId: DeviceID;
  /** Root verify key the client expects (32 bytes). */
  readonly rootVerifyKey: Uint8Array;
  /** Signed answer: Ed25519 signature ‖ payload. */
  readonly answer: Uint8Array;
  readonly clientApiVersion: ApiVersion;
  /** The 48 random bytes sent in the challenge. */
  readonly challenge: Uint8Array;
}

/** An INVITED handshake answer, decoded. */
export interface InvitedAnswer {
  readonly organizationId: OrganizationID;
  readonly invitationType: InvitationType;
  readonly token: InvitationToken;
  readonly clientApiVersion: ApiVersion;
}

const incompatibleVersion = (client: ApiVersion): HandshakeFailure => ({
  kind: "bad_protocol",
  help: `No overlap between client API versions {${client.major}.${client.revision}} and server API versions {2.10, 3.4}`,
});

/**
 * Authenticates a device. Checks, in Parsec's order: API major, organization and device exist
 * (`bad_identity`), root verify key (`rvk_mismatch`), expiration (`organization_expired`),
 * revocation (`revoked_device`), then the signed challenge (`bad_protocol`).
 */
export const authenticateDevice =
  (deps: Pick<ApplicationDeps, "users" | "clock">) =>
  async (input: AuthenticatedAnswer): Promise<{ kind: "ok"; session: AuthenticatedSession } | HandshakeFailure> => {
    const apiVersion = settleApiVersion(input.clientApiVersion);
    if (!apiVersion) return incompatibleVersion(input.clientApiVersion);
    const lookup = await deps.users.getAuthentication(input.organizationId, input.deviceId);
    const organization = lookup?.organization;
    const found = lookup?.device;
    if (!organization || !found) return { kind: "bad_identity", help: "Invalid handshake information" };
    if (!organization.rootVerifyKey || Buffer.compare(organization.rootVerifyKey, input.rootVerifyKey) !== 0)
      return { kind: "rvk_mismatch", help: "No organization, or root verify key mismatch" };
    if (organization.isExpired) return { kind: "organization_expired", help: "Trial organization has expired" };
    if (isRevoked(found.user, deps.clock.now())) return { kind: "revoked_device", help: "Device has been revoked" };
    if (!isValidSignedChallenge(found.device.verifyKey, input.answer, input.challenge))
      return { kind: "bad_protocol", help: "Invalid answer signature" };
    return {
      kind: "ok",
      session: {
        kind: "authenticated",
        organizationId: input.organizationId,
        deviceId: input.deviceId,
        userId: DeviceID.userId(input.deviceId),
        profile: found.user.profile,
        humanHandle: found.user.humanHandle,
        deviceLabel: found.device.deviceLabel,
        verifyKey: found.device.verifyKey,
        publicKey: found.user.publicKey,
        sequesterAuthorityCertificate: organization.sequesterAuthority?.certificate ?? null,
        apiVersion,
        clientApiVersion: input.clientApiVersion,
      },
    };
  };

/**
 * Admits a claimer. Unknown organization, unknown, deleted or differently typed invitation give
 * `bad_identity`; an expired organization `organization_expired`. The session gets a fresh random connection id
 * (claimer presence).
 */
export const admitInvited =
  (deps: Pick<ApplicationDeps, "organizations" | "invitations" | "random">) =>
  async (input: InvitedAnswer): Promise<{ kind: "ok"; session: InvitedSession } | HandshakeFailure> => {
    const apiVersion = settleApiVersion(input.clientApiVersion);
    if (!apiVersion) return incompatibleVersion(input.clientApiVersion);
    const organization = await deps.organizations.get(input.organizationId);
    if (!organization) return { kind: "bad_identity", help: "Invalid handshake information" };
    if (organization.isExpired) return { kind: "organization_expired", help: "Trial organization has expired" };
    const invitation = await deps.invitations.get(input.organizationId, input.token);
    if (!invitation) return { kind: "bad_identity", help: "Invalid handshake: Invitation not found" };
    if (invitation.deleted) return { kind: "bad_identity", help: "Invalid handshake: Invitation already deleted" };
    if (invitation.type !== input.invitationType) return { kind: "bad_identity", help: "Invalid handshake information" };
    return {
      kind: "ok",
      session: {
        kind: "invited",
        organizationId: input.organizationId,
        invitation,
        connectionId: deps.random.bytes(12).toString("hex"),
        apiVersion,
        clientApiVersion: input.clientApiVersion,
      },
    };
  };

/** Why an established session must end, or `valid`. */
export type SessionValidity = "valid" | "organization_expired" | "revoked" | "invitation_deleted";

/**
 * Re-checks an established session against the storage, for when the events that would have ended it may have been
 * lost (the event bus's gap): the organization expired, the user was revoked (at or before now), or the claimer's
 * invitation was deleted (or is gone).
 */
export const checkSessionValidity =
  (deps: Pick<ApplicationDeps, "users" | "organizations" | "invitations" | "clock">) =>
  async (session: AuthenticatedSession | InvitedSession): Promise<SessionValidity> => {
    if (session.kind === "authenticated") {
      const lookup = await deps.users.getAuthentication(session.organizationId, session.deviceId);
      if (!lookup || lookup.organization.isExpired) return "organization_expired";
      if (!lookup.device || isRevoked(lookup.device.user, deps.clock.now())) return "revoked";
      return "valid";
    }
    const organization = await deps.organizations.get(session.organizationId);
    if (!organization || organization.isExpired) return "organization_expired";
    const invitation = await deps.invitations.get(session.organizationId, session.invitation.token);
    return !invitation || invitation.deleted ? "invitation_deleted" : "valid";
  };
