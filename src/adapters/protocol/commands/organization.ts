import * as t from "io-ts";
import {
  BooleanC,
  BytesC,
  DateTimeC,
  DeviceIDC,
  DurationInSecondsC,
  RealmIDC,
  SizeC,
  StringC,
  U64C,
  UserProfileC,
  VerifyKeyC,
  list,
  nullable,
} from "../codecs/primitives.js";
import { RealmArchivingConfigurationC, badTimestampRep } from "../codecs/common.js";
import { command, reply, request, status, struct, withReason } from "../codecs/struct.js";

/** Schema `UsersPerProfileDetailItem`: counts of active and revoked users having `profile`. */
export const UsersPerProfileDetailItemC = struct("UsersPerProfileDetailItem", { profile: UserProfileC, active: SizeC, revoked: SizeC });
/** The decoded value of {@link UsersPerProfileDetailItemC}. */
export type UsersPerProfileDetailItem = t.TypeOf<typeof UsersPerProfileDetailItemC>;

/** Authenticated `organization_stats` (admins): data and metadata sizes in bytes, realm and user counts. */
export const organizationStats = command(
  "organization_stats",
  request("organization_stats", {}),
  reply(
    "organization_stats",
    status("ok", {
      data_size: SizeC,
      metadata_size: SizeC,
      realms: SizeC,
      users: SizeC,
      active_users: SizeC,
      users_per_profile_detail: list(UsersPerProfileDetailItemC),
    }),
    withReason("not_allowed"),
    status("not_found"),
  ),
);
/** The decoded `organization_stats` request: wire field names, domain value types. */
export type OrganizationStatsReq = t.TypeOf<typeof organizationStats.req>;
/** A `organization_stats` reply, one of its declared variants discriminated by `status`. */
export type OrganizationStatsRep = t.TypeOf<typeof organizationStats.rep>;

/** Schema `ActiveUsersLimit`: a maximum number of active users, or nil for no limit. */
export const ActiveUsersLimitC = nullable(U64C);

/**
 * Authenticated `organization_config`. The sequester certificates (API 2.8) and
 * `minimum_archiving_period` (seconds, API 2.10) may be absent from older servers' replies.
 */
export const organizationConfig = command(
  "organization_config",
  request("organization_config", {}),
  reply(
    "organization_config",
    status(
      "ok",
      { user_profile_outsider_allowed: BooleanC, active_users_limit: ActiveUsersLimitC },
      {
        sequester_authority_certificate: nullable(BytesC),
        sequester_services_certificates: nullable(list(BytesC)),
        minimum_archiving_period: DurationInSecondsC,
      },
    ),
    status("not_found"),
  ),
);
/** The decoded `organization_config` request: wire field names, domain value types. */
export type OrganizationConfigReq = t.TypeOf<typeof organizationConfig.req>;
/** A `organization_config` reply, one of its declared variants discriminated by `status`. */
export type OrganizationConfigRep = t.TypeOf<typeof organizationConfig.rep>;

/** Schema `RealmArchivingStatus` of `archiving_config`: a realm's current archiving configuration and who set it when. */
export const RealmArchivingStatusC = struct(
  "RealmArchivingStatus",
  { realm_id: RealmIDC, configuration: RealmArchivingConfigurationC },
  { configured_on: nullable(DateTimeC), configured_by: nullable(DeviceIDC) },
);
/** The decoded value of {@link RealmArchivingStatusC}. */
export type RealmArchivingStatus = t.TypeOf<typeof RealmArchivingStatusC>;

/** Authenticated `archiving_config` (API 2.10): the archiving status of the realms the user belongs to. */
export const archivingConfig = command(
  "archiving_config",
  request("archiving_config", {}),
  reply("archiving_config", status("ok", { archiving_config: list(RealmArchivingStatusC) }), status("not_found")),
);
/** The decoded `archiving_config` request: wire field names, domain value types. */
export type ArchivingConfigReq = t.TypeOf<typeof archivingConfig.req>;
/** A `archiving_config` reply, one of its declared variants discriminated by `status`. */
export type ArchivingConfigRep = t.TypeOf<typeof archivingConfig.rep>;

/**
 * Anonymous `organization_bootstrap`: with the `bootstrap_token` handed out by the administration,
 * set the root verify key and create the first (admin) user and device. The sequester authority
 * certificate was introduced in API 2.8.
 */
export const organizationBootstrap = command(
  "organization_bootstrap",
  request(
    "organization_bootstrap",
    {
      bootstrap_token: StringC,
      root_verify_key: VerifyKeyC,
      user_certificate: BytesC,
      device_certificate: BytesC,
      redacted_user_certificate: BytesC,
      redacted_device_certificate: BytesC,
    },
    { sequester_authority_certificate: nullable(BytesC) },
  ),
  reply(
    "organization_bootstrap",
    status("ok"),
    withReason("invalid_certification"),
    withReason("invalid_data"),
    badTimestampRep(),
    status("already_bootstrapped"),
    status("not_found"),
  ),
);
/** The decoded `organization_bootstrap` request: wire field names, domain value types. */
export type OrganizationBootstrapReq = t.TypeOf<typeof organizationBootstrap.req>;
/** A `organization_bootstrap` reply, one of its declared variants discriminated by `status`. */
export type OrganizationBootstrapRep = t.TypeOf<typeof organizationBootstrap.rep>;
