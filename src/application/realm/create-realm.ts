import type { BadTimestamp, InvalidCertification, InvalidData } from "../../domain/certificates/index.js";
import { checkRealmCreation, loadRoleCertificate, newRealm } from "../../domain/realm/index.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession } from "../session/session.js";

/**
 * Every status of `realm_create` this server returns; each `reason` is for logs (Parsec sends none).
 * The schema's `not_found` is never returned: Parsec v2.16.3 declares it but no path of its backends raises it.
 */
export type CreateRealmOutcome =
  | { readonly kind: "ok" }
  | InvalidCertification
  | BadTimestamp
  | InvalidData
  | { readonly kind: "already_exists" };

/**
 * `realm_create` (authenticated, any profile, OUTSIDER included): creates a realm from the author's own OWNER
 * `realm_role_certificate`, stored exactly as received. Order of the checks: the certificate verifies with the
 * session's device key and names that device as author (`invalid_certification`); its timestamp is in the ballpark
 * (`bad_timestamp`); it grants OWNER to the author's own user (`invalid_data`); then, in a unit of work, the realm is
 * created unless its id is taken in the organization (`already_exists`; of concurrent creations exactly one wins). The realm starts at encryption revision 1; `realm.roles_updated` is
 * published with the transaction (delivered after commit).
 * Source: Parsec v2.16.3 `realm.py` (`api_realm_create`) and `realm_queries/create.py`.
 */
export const createRealm =
  (deps: Pick<ApplicationDeps, "uow" | "realms" | "events" | "clock">) =>
  async (session: AuthenticatedSession, roleCertificate: Buffer): Promise<CreateRealmOutcome> => {
    const loaded = loadRoleCertificate({
      certificate: roleCertificate,
      author: session.deviceId,
      authorVerifyKey: session.verifyKey,
      now: deps.clock.now(),
    });
    if (loaded.kind !== "ok") return loaded;
    const { grant } = loaded;
    const creation = checkRealmCreation(grant);
    if (creation.kind !== "ok") return creation;
    return deps.uow.run(session.organizationId, async (tx): Promise<CreateRealmOutcome> => {
      if ((await deps.realms.create(tx, session.organizationId, newRealm(grant.realmId, grant))) === "already_exists") return { kind: "already_exists" };
      await deps.events.publish(tx, {
        type: "realm.roles_updated",
        organizationId: session.organizationId,
        author: grant.grantedBy,
        realmId: grant.realmId,
        userId: grant.userId,
        role: grant.role,
      });
      return { kind: "ok" };
    });
  };
