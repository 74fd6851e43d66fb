import * as t from "io-ts";
import {
  BooleanC,
  BytesC,
  HumanHandleC,
  IntegerBetween1And100C,
  NonZeroIntegerC,
  SizeC,
  StringC,
  UserIDC,
  list,
  nullable,
} from "../codecs/primitives.js";
import { command, reply, request, status, struct, withReason } from "../codecs/struct.js";

/** Schema `Trustchain` of `user_get`: the certificates needed to verify a user's certificates. */
export const TrustchainC = struct("Trustchain", { devices: list(BytesC), users: list(BytesC), revoked_users: list(BytesC) });
/** The decoded value of {@link TrustchainC}. */
export type Trustchain = t.TypeOf<typeof TrustchainC>;

/** Authenticated `user_get`: a user's certificates, its devices' certificates and their trustchain. */
export const userGet = command(
  "user_get",
  request("user_get", { user_id: UserIDC }),
  reply(
    "user_get",
    status("ok", {
      user_certificate: BytesC,
      revoked_user_certificate: nullable(BytesC),
      device_certificates: list(BytesC),
      trustchain: TrustchainC,
    }),
    status("not_found"),
  ),
);
/** The decoded `user_get` request: wire field names, domain value types. */
export type UserGetReq = t.TypeOf<typeof userGet.req>;
/** A `user_get` reply, one of its declared variants discriminated by `status`. */
export type UserGetRep = t.TypeOf<typeof userGet.rep>;

/** Authenticated `user_create` (admins): add a user with its first device, signed certificates and redacted copies. */
export const userCreate = command(
  "user_create",
  request("user_create", {
    user_certificate: BytesC,
    device_certificate: BytesC,
    redacted_user_certificate: BytesC,
    redacted_device_certificate: BytesC,
  }),
  reply(
    "user_create",
    status("ok"),
    withReason("not_allowed"),
    withReason("invalid_certification"),
    withReason("invalid_data"),
    withReason("already_exists"),
    withReason("active_users_limit_reached"),
  ),
);
/** The decoded `user_create` request: wire field names, domain value types. */
export type UserCreateReq = t.TypeOf<typeof userCreate.req>;
/** A `user_create` reply, one of its declared variants discriminated by `status`. */
export type UserCreateRep = t.TypeOf<typeof userCreate.rep>;

/** Authenticated `user_revoke` (admins): revoke a user with a signed revocation certificate. */
export const userRevoke = command(
  "user_revoke",
  request("user_revoke", { revoked_user_certificate: BytesC }),
  reply(
    "user_revoke",
    status("ok"),
    withReason("not_allowed"),
    withReason("invalid_certification"),
    status("not_found"),
    withReason("already_revoked"),
  ),
);
/** The decoded `user_revoke` request: wire field names, domain value types. */
export type UserRevokeReq = t.TypeOf<typeof userRevoke.req>;
/** A `user_revoke` reply, one of its declared variants discriminated by `status`. */
export type UserRevokeRep = t.TypeOf<typeof userRevoke.rep>;

/** Authenticated `device_create`: add a device to the author's own user. */
export const deviceCreate = command(
  "device_create",
  request("device_create", { device_certificate: BytesC, redacted_device_certificate: BytesC }),
  reply(
    "device_create",
    status("ok"),
    withReason("invalid_certification"),
    withReason("bad_user_id"),
    withReason("invalid_data"),
    withReason("already_exists"),
  ),
);
/** The decoded `device_create` request: wire field names, domain value types. */
export type DeviceCreateReq = t.TypeOf<typeof deviceCreate.req>;
/** A `device_create` reply, one of its declared variants discriminated by `status`. */
export type DeviceCreateRep = t.TypeOf<typeof deviceCreate.rep>;

/** Schema `HumanFindResultItem` of `human_find`. */
export const HumanFindResultItemC = struct("HumanFindResultItem", {
  user_id: UserIDC,
  human_handle: nullable(HumanHandleC),
  revoked: BooleanC,
});
/** The decoded value of {@link HumanFindResultItemC}. */
export type HumanFindResultItem = t.TypeOf<typeof HumanFindResultItemC>;

/** Authenticated `human_find`: search users by `query` (nil for all), paginated (`page` from 1, `per_page` 1 to 100). */
export const humanFind = command(
  "human_find",
  request("human_find", {
    query: nullable(StringC),
    omit_revoked: BooleanC,
    omit_non_human: BooleanC,
    page: NonZeroIntegerC,
    per_page: IntegerBetween1And100C,
  }),
  reply(
    "human_find",
    status("ok", { results: list(HumanFindResultItemC), page: NonZeroIntegerC, per_page: IntegerBetween1And100C, total: SizeC }),
    withReason("not_allowed"),
  ),
);
/** The decoded `human_find` request: wire field names, domain value types. */
export type HumanFindReq = t.TypeOf<typeof humanFind.req>;
/** A `human_find` reply, one of its declared variants discriminated by `status`. */
export type HumanFindRep = t.TypeOf<typeof humanFind.rep>;
