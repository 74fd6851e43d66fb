import type { OrganizationID } from "../../domain/ids.js";
import {
  type Organization,
  type OrganizationPatch,
  type OrganizationStats,
} from "../../domain/organization/index.js";
import type { DateTime } from "../../domain/time.js";
import type { ApplicationDeps } from "../deps.js";

/** Input of `POST /administration/organizations`; an absent optional field takes the server default. */
export interface CreateOrganizationInput {
  readonly organizationId: OrganizationID;
  readonly userProfileOutsiderAllowed?: boolean;
  /** `null` means no limit. */
  readonly activeUsersLimit?: number | null;
  /** Seconds. */
  readonly minimumArchivingPeriod?: number;
  /** Imposed bootstrap token (spontaneous bootstrap uses `""`); a fresh 64-hex-digit token otherwise. */
  readonly bootstrapToken?: string;
}

export type CreateOrganizationOutcome = { kind: "ok"; bootstrapToken: string } | { kind: "already_exists" };

/**
 * Creates an organization, or re-creates one that is not bootstrapped yet (a new bootstrap token and settings replace
 * the old ones); a bootstrapped organization is never touched (`already_exists`), even when its bootstrap commits
 * concurrently. Source: Parsec v2.16.3 administration API and `OrganizationComponent.create`.
 */
export const createOrganization =
  (deps: Pick<ApplicationDeps, "uow" | "organizations" | "clock" | "random" | "config">) =>
  (input: CreateOrganizationInput): Promise<CreateOrganizationOutcome> =>
    deps.uow.run(input.organizationId, async (tx): Promise<CreateOrganizationOutcome> => {
      const defaults = deps.config.organizationDefaults;
      const bootstrapToken = input.bootstrapToken ?? deps.random.bytes(32).toString("hex");
      const organization: Organization = {
        id: input.organizationId,
        bootstrapToken,
        isExpired: false,
        createdOn: deps.clock.now(),
        bootstrappedOn: null,
        rootVerifyKey: null,
        userProfileOutsiderAllowed: input.userProfileOutsiderAllowed ?? defaults.userProfileOutsiderAllowed,
        activeUsersLimit: input.activeUsersLimit !== undefined ? input.activeUsersLimit : defaults.activeUsersLimit,
        minimumArchivingPeriod: input.minimumArchivingPeriod ?? defaults.minimumArchivingPeriod,
        sequesterAuthority: null,
        sequesterServicesCertificates: null,
      };
      if ((await deps.organizations.create(tx, organization)) === "ok") return { kind: "ok", bootstrapToken };
      const replaced = await deps.organizations.replaceNotBootstrapped(tx, organization);
      return replaced === "ok" ? { kind: "ok", bootstrapToken } : { kind: "already_exists" };
    });

/** The organization or `not_found` (`GET /administration/organizations/<id>`). */
export const getOrganization =
  (deps: Pick<ApplicationDeps, "organizations">) =>
  async (id: OrganizationID): Promise<{ kind: "ok"; organization: Organization } | { kind: "not_found" }> => {
    const organization = await deps.organizations.get(id);
    return organization ? { kind: "ok", organization } : { kind: "not_found" };
  };

/**
 * Changes an organization's settings (`PATCH /administration/organizations/<id>`), atomically with
 * respect to bootstrap. Expiring an organization publishes `organization.expired` so that its open
 * sessions are closed.
 */
export const patchOrganization =
  (deps: Pick<ApplicationDeps, "uow" | "organizations" | "events">) =>
  (id: OrganizationID, patch: OrganizationPatch): Promise<{ kind: "ok" } | { kind: "not_found" }> =>
    deps.uow.run(id, async (tx): Promise<{ kind: "ok" } | { kind: "not_found" }> => {
      if ((await deps.organizations.update(tx, id, patch)) === "not_found") return { kind: "not_found" };
      if (patch.isExpired === true) await deps.events.publish(tx, { type: "organization.expired", organizationId: id });
      return { kind: "ok" };
    });

type StatsDeps = Pick<ApplicationDeps, "organizations" | "realms" | "vlobs" | "blocks" | "clock">;

/**
 * Usage figures of an organization as of `at`: the organization repository counts users, the realm,
 * vlob and block repositories give the realm count, metadata and data sizes.
 */
const figures = async (deps: StatsDeps, id: OrganizationID, at: DateTime): Promise<OrganizationStats> => {
  const [users, realms, metadataSize, dataSize] = await Promise.all([
    deps.organizations.stats(id, at),
    deps.realms.countCreatedBefore(id, at),
    deps.vlobs.metadataSize(id, at),
    deps.blocks.dataSize(id, at),
  ]);
  return {
    dataSize,
    metadataSize,
    realms,
    users: users.users,
    activeUsers: users.activeUsers,
    usersPerProfileDetail: users.usersPerProfileDetail,
  };
};

/**
 * Usage figures of one organization as of `at` (default now): `GET /administration/organizations/<id>/stats`
 * and `organization_stats`. Source: Parsec v2.16.3 `OrganizationComponent.stats`.
 */
export const organizationStats =
  (deps: StatsDeps) =>
  async (id: OrganizationID, at?: DateTime): Promise<{ kind: "ok"; stats: OrganizationStats } | { kind: "not_found" }> => {
    const organization = await deps.organizations.get(id);
    if (!organization) return { kind: "not_found" };
    return { kind: "ok", stats: await figures(deps, id, at ?? deps.clock.now()) };
  };

/** Usage figures of every organization created at or before `at` (default now), in creation order (`GET /administration/stats`). */
export const serverStats =
  (deps: StatsDeps) =>
  async (at?: DateTime): Promise<readonly { organizationId: OrganizationID; stats: OrganizationStats }[]> => {
    const organizations = await deps.organizations.list();
    const selected = at ? organizations.filter((org) => !org.createdOn.isAfter(at)) : organizations;
    const when = at ?? deps.clock.now();
    return Promise.all(selected.map(async (org) => ({ organizationId: org.id, stats: await figures(deps, org.id, when) })));
  };
