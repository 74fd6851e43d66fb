import type { OrganizationID } from "../../domain/ids.js";
import type { ApplicationDeps } from "../deps.js";

/** Reply data of `organization_config`. */
export interface OrganizationConfig {
  readonly userProfileOutsiderAllowed: boolean;
  readonly activeUsersLimit: number | null;
  /** `null` when the organization is not sequestered. */
  readonly sequesterAuthorityCertificate: Buffer | null;
  readonly sequesterServicesCertificates: readonly Buffer[] | null;
  /** Seconds. */
  readonly minimumArchivingPeriod: number;
}

/** `organization_config`: the organization's settings as clients see them. Source: Parsec v2.16.3 `organization.py`. */
export const organizationConfig =
  (deps: Pick<ApplicationDeps, "organizations">) =>
  async (id: OrganizationID): Promise<{ kind: "ok"; config: OrganizationConfig } | { kind: "not_found" }> => {
    const org = await deps.organizations.get(id);
    if (!org) return { kind: "not_found" };
    return {
      kind: "ok",
      config: {
        userProfileOutsiderAllowed: org.userProfileOutsiderAllowed,
        activeUsersLimit: org.activeUsersLimit,
        sequesterAuthorityCertificate: org.sequesterAuthority?.certificate ?? null,
        sequesterServicesCertificates: org.sequesterAuthority ? (org.sequesterServicesCertificates ?? []) : null,
        minimumArchivingPeriod: org.minimumArchivingPeriod,
      },
    };
  };
