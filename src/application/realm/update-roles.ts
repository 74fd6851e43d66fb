import type { BadTimestamp, InvalidCertification, InvalidData } from "../../domain/certificates/index.js";
import {
  authorizeRoleChange,
  canShareRealms,
  checkNotSelfGrant,
  checkRoleChangeCausality,
  checkRoleRecipient,
  loadRoleCertificate,
  roleChangeNeedsLastVlobWrite,
  type RequireGreaterTimestamp,
  type RoleChangeAuthorization,
  type RoleRecipientCheck,
} from "../../domain/realm/index.js";
import type { ApplicationDeps } from "../deps.js";
import { postMessage } from "../message/index.js";
import type { AuthenticatedSession } from "../session/session.js";

/** Input of `realm_update_roles`. */
export interface UpdateRealmRolesInput {
  /** A `realm_role_certificate` signed by the session's device, exactly as received. */
  readonly roleCertificate: Buffer;
  /** Opaque message (usually the realm key, encrypted for the recipient) posted to the recipient's inbox; null for none. */
  readonly recipientMessage: Buffer | null;
}

/**
 * Every status of `realm_update_roles` this server returns; each `reason` is for logs (Parsec sends none).
 * `realm_deleted` needs archiving, not implemented.
 */
export type UpdateRealmRolesOutcome =
  | { readonly kind: "ok" }
  | { readonly kind: "not_allowed"; readonly reason: string }
  | InvalidCertification
  | BadTimestamp
  | InvalidData
  | Exclude<RoleRecipientCheck, { kind: "ok" }>
  | { readonly kind: "not_found"; readonly reason: string }
  | Exclude<RoleChangeAuthorization, { kind: "ok" }>
  | RequireGreaterTimestamp;

/**
 * `realm_update_roles` (authenticated, not OUTSIDER): grants, changes or removes (`role: null`) a user's role in a realm.
 * Order of the checks (Parsec v2.16.3 memory backend): the author is not OUTSIDER (`not_allowed`); the certificate
 * verifies and names the session's device (`invalid_certification`); its timestamp is in the ballpark (`bad_timestamp`);
 * it does not concern the author's own user (`invalid_data`). Then, in one unit of work: the recipient
 * (`checkRoleRecipient`: `not_found`, `user_revoked`, `incompatible_profile`); the realm exists (`not_found`); the change
 * (`authorizeRoleChange`: `in_maintenance`, `not_allowed`, `already_granted`); its causality (`checkRoleChangeCausality`:
 * `require_greater_timestamp` after the recipient's last role certificate, last vlob write when losing write rights
 * (`VlobRepository.lastWriteBy`), last role certificate signed when losing management rights).
 * On success the certificate is stored as received, `realm.roles_updated` is published, then the recipient message (if
 * any) is posted with the certificate's timestamp and author (`message.received`); events are delivered after commit.
 * Source: Parsec v2.16.3 `realm.py` (`api_realm_update_roles`), `memory/realm.py` and `realm_queries/update_roles.py`.
 */
export const updateRealmRoles =
  (deps: Pick<ApplicationDeps, "uow" | "realms" | "users" | "vlobs" | "messages" | "events" | "clock">) =>
  async (session: AuthenticatedSession, input: UpdateRealmRolesInput): Promise<UpdateRealmRolesOutcome> => {
    if (!canShareRealms(session.profile)) return { kind: "not_allowed", reason: "An OUTSIDER cannot share realms." };
    const loaded = loadRoleCertificate({
      certificate: input.roleCertificate,
      author: session.deviceId,
      authorVerifyKey: session.verifyKey,
      now: deps.clock.now(),
    });
    if (loaded.kind !== "ok") return loaded;
    const { grant } = loaded;
    const notSelf = checkNotSelfGrant(grant);
    if (notSelf.kind !== "ok") return notSelf;
    const organizationId = session.organizationId;

    return deps.uow.run(organizationId, async (tx): Promise<UpdateRealmRolesOutcome> => {
      const recipient = checkRoleRecipient(await deps.users.getSummary(organizationId, grant.userId, tx), grant.role);
      if (recipient.kind !== "ok") return recipient;
      const realm = await deps.realms.get(organizationId, grant.realmId, tx);
      if (!realm) return { kind: "not_found", reason: `Realm \`${grant.realmId}\` doesn't exist` };
      const authorization = authorizeRoleChange(realm, grant);
      if (authorization.kind !== "ok") return authorization;
      const lastVlobWrite = roleChangeNeedsLastVlobWrite(grant.role)
        ? await deps.vlobs.lastWriteBy(organizationId, grant.realmId, grant.userId, tx)
        : null;
      const causality = checkRoleChangeCausality(realm, grant, lastVlobWrite);
      if (causality.kind !== "ok") return causality;

      await deps.realms.addGrant(tx, organizationId, grant.realmId, grant);
      await deps.events.publish(tx, {
        type: "realm.roles_updated",
        organizationId,
        author: grant.grantedBy,
        realmId: grant.realmId,
        userId: grant.userId,
        role: grant.role,
      });
      if (input.recipientMessage !== null)
        await postMessage(deps)(tx, organizationId, grant.userId, { sender: grant.grantedBy, timestamp: grant.grantedOn, body: input.recipientMessage });
      return { kind: "ok" };
    });
  };
