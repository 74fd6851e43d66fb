import type { BootstrapOrganizationOutcome } from "../../../application/index.js";
import type { OrganizationBootstrapRep } from "../commands/organization.js";
import { badTimestampReply } from "./replies.js";
import type { Handler } from "./types.js";

const bootstrapReply = (outcome: BootstrapOrganizationOutcome): OrganizationBootstrapRep => {
  switch (outcome.kind) {
    case "ok":
    case "already_bootstrapped":
    case "not_found":
      return { status: outcome.kind };
    case "invalid_certification":
    case "invalid_data":
      return { status: outcome.kind, reason: null };
    case "bad_timestamp":
      return badTimestampReply(outcome);
  }
};

/** Anonymous `organization_bootstrap`. */
export const organizationBootstrap: Handler<"anonymous", "organization_bootstrap"> = async ({ app, session }, req) =>
  bootstrapReply(
    await app.bootstrapOrganization({
      organizationId: session.organizationId,
      bootstrapToken: req.bootstrap_token,
      rootVerifyKey: Buffer.from(req.root_verify_key),
      userCertificate: Buffer.from(req.user_certificate),
      deviceCertificate: Buffer.from(req.device_certificate),
      redactedUserCertificate: Buffer.from(req.redacted_user_certificate),
      redactedDeviceCertificate: Buffer.from(req.redacted_device_certificate),
      sequesterAuthorityCertificate: req.sequester_authority_certificate ? Buffer.from(req.sequester_authority_certificate) : null,
    }),
  );

/** Authenticated `organization_config`. */
export const organizationConfig: Handler<"authenticated", "organization_config"> = async ({ app, session }) => {
  const outcome = await app.organizationConfig(session.organizationId);
  if (outcome.kind === "not_found") return { status: "not_found" };
  const c = outcome.config;
  return {
    status: "ok",
    user_profile_outsider_allowed: c.userProfileOutsiderAllowed,
    active_users_limit: c.activeUsersLimit,
    sequester_authority_certificate: c.sequesterAuthorityCertificate,
    sequester_services_certificates: c.sequesterServicesCertificates ? [...c.sequesterServicesCertificates] : null,
    minimum_archiving_period: c.minimumArchivingPeriod,
  };
};

/** Authenticated `organization_stats` (ADMIN only). */
export const organizationStats: Handler<"authenticated", "organization_stats"> = async ({ app, session }) => {
  if (session.profile !== "ADMIN") return { status: "not_allowed", reason: null };
  const outcome = await app.organizationStats(session.organizationId);
  if (outcome.kind === "not_found") return { status: "not_found" };
  const s = outcome.stats;
  return {
    status: "ok",
    data_size: s.dataSize,
    metadata_size: s.metadataSize,
    realms: s.realms,
    users: s.users,
    active_users: s.activeUsers,
    users_per_profile_detail: s.usersPerProfileDetail.map((d) => ({ profile: d.profile, active: d.active, revoked: d.revoked })),
  };
};
