import type { CreateDeviceOutcome, CreateUserOutcome, FindHumansOutcome, GetUserOutcome, RevokeUserOutcome } from "../../../application/user/index.js";
import type { DeviceCreateRep, HumanFindRep, UserCreateRep, UserGetRep, UserRevokeRep } from "../commands/user.js";
import { bytes } from "./replies.js";
import type { Handler, HandlerTable } from "./types.js";

/** `user_create` outcome → reply: every error status with `reason: null`, as Parsec v2.16.3 sends. */
const userCreateReply = (outcome: CreateUserOutcome): UserCreateRep =>
  outcome.kind === "ok" ? { status: "ok" } : { status: outcome.kind, reason: null };

/** `device_create` outcome → reply: every error status with `reason: null`. */
const deviceCreateReply = (outcome: CreateDeviceOutcome): DeviceCreateRep =>
  outcome.kind === "ok" ? { status: "ok" } : { status: outcome.kind, reason: null };

/** `user_revoke` outcome → reply: `not_found` has no reason field; the other errors carry `reason: null`. */
const userRevokeReply = (outcome: RevokeUserOutcome): UserRevokeRep => {
  switch (outcome.kind) {
    case "ok":
    case "not_found":
      return { status: outcome.kind };
    case "not_allowed":
    case "invalid_certification":
    case "already_revoked":
      return { status: outcome.kind, reason: null };
  }
};

const userGetReply = (outcome: GetUserOutcome): UserGetRep =>
  outcome.kind === "not_found"
    ? { status: "not_found" }
    : {
        status: "ok",
        user_certificate: outcome.userCertificate,
        revoked_user_certificate: outcome.revokedUserCertificate,
        device_certificates: [...outcome.deviceCertificates],
        trustchain: {
          devices: [...outcome.trustchain.devices],
          users: [...outcome.trustchain.users],
          revoked_users: [...outcome.trustchain.revokedUsers],
        },
      };

const humanFindReply = (outcome: FindHumansOutcome, page: number, perPage: number): HumanFindRep =>
  outcome.kind === "not_allowed"
    ? { status: "not_allowed", reason: null }
    : {
        status: "ok",
        results: outcome.results.map((r) => ({ user_id: r.userId, human_handle: r.humanHandle, revoked: r.revoked })),
        page,
        per_page: perPage,
        total: outcome.total,
      };

/** Authenticated `user_create` (ADMIN only). */
const userCreate: Handler<"authenticated", "user_create"> = async ({ app, session }, req) =>
  userCreateReply(
    await app.createUser(session, {
      userCertificate: bytes(req.user_certificate),
      deviceCertificate: bytes(req.device_certificate),
      redactedUserCertificate: bytes(req.redacted_user_certificate),
      redactedDeviceCertificate: bytes(req.redacted_device_certificate),
    }),
  );

/** Authenticated `device_create` (a device for the author's own user). */
const deviceCreate: Handler<"authenticated", "device_create"> = async ({ app, session }, req) =>
  deviceCreateReply(
    await app.createDevice(session, {
      deviceCertificate: bytes(req.device_certificate),
      redactedDeviceCertificate: bytes(req.redacted_device_certificate),
    }),
  );

/** Authenticated `user_revoke` (ADMIN only). */
const userRevoke: Handler<"authenticated", "user_revoke"> = async ({ app, session }, req) =>
  userRevokeReply(await app.revokeUser(session, bytes(req.revoked_user_certificate)));

/** Authenticated `user_get`. */
const userGet: Handler<"authenticated", "user_get"> = async ({ app, session }, req) => userGetReply(await app.getUser(session, req.user_id));

/** Authenticated `human_find` (not OUTSIDER); `page` and `per_page` are echoed. */
const humanFind: Handler<"authenticated", "human_find"> = async ({ app, session }, req) =>
  humanFindReply(
    await app.findHumans(session, {
      query: req.query,
      omitRevoked: req.omit_revoked,
      omitNonHuman: req.omit_non_human,
      page: req.page,
      perPage: req.per_page,
    }),
    req.page,
    req.per_page,
  );

/** The user and device commands (`user_create`, `device_create`, `user_revoke`, `user_get`, `human_find`). */
export const userHandlers = {
  user_create: userCreate,
  device_create: deviceCreate,
  user_revoke: userRevoke,
  user_get: userGet,
  human_find: humanFind,
} satisfies HandlerTable<"authenticated">;
