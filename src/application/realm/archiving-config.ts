import type { RealmID } from "../../domain/ids.js";
import type { ApplicationDeps } from "../deps.js";
import type { AuthenticatedSession } from "../session/session.js";

/**
 * One realm's archiving status in `archiving_config`. This server does not serve realm archiving
 * (`realm_update_archiving` answers `unknown_command`), so every realm is AVAILABLE and was never configured.
 */
export interface RealmArchivingStatus {
  readonly realmId: RealmID;
  readonly configuration: { readonly type: "AVAILABLE" };
}

/**
 * `archiving_config` (API 2.10/3.4): the archiving status of every realm the session's user has a role in.
 * Source: Parsec v2.16.3 `organization.py` (`api_authenticated_archiving_config`); `not_found` when the
 * organization is unknown.
 */
export const archivingConfig =
  (deps: Pick<ApplicationDeps, "organizations" | "realms">) =>
  async (session: AuthenticatedSession): Promise<{ kind: "ok"; statuses: readonly RealmArchivingStatus[] } | { kind: "not_found" }> => {
    if (!(await deps.organizations.get(session.organizationId))) return { kind: "not_found" };
    const realmIds = await deps.realms.listForUser(session.organizationId, session.userId);
    return { kind: "ok", statuses: realmIds.map((realmId) => ({ realmId, configuration: { type: "AVAILABLE" } })) };
  };
