import * as t from "io-ts";
import { isRight } from "fp-ts/lib/Either.js";
import type { Application } from "../../../application/index.js";
import { OrganizationID } from "../../../domain/ids.js";
import type { OrganizationStats } from "../../../domain/organization/index.js";
import { DateTime } from "../../../domain/time.js";
import { decodePathSegment, json, secretsEqual, type ReadRequest, type Reply } from "./http.js";

const NonNegativeInt = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, "NonNegativeInteger");

const CreateBody = t.exact(
  t.intersection([
    t.type({ organization_id: t.string }),
    t.partial({
      user_profile_outsider_allowed: t.boolean,
      active_users_limit: t.union([NonNegativeInt, t.null]),
      minimum_archiving_period: NonNegativeInt,
    }),
  ]),
);

const PatchBody = t.exact(
  t.partial({
    is_expired: t.boolean,
    user_profile_outsider_allowed: t.boolean,
    active_users_limit: t.union([NonNegativeInt, t.null]),
    minimum_archiving_period: NonNegativeInt,
  }),
);

const KNOWN_CREATE_KEYS = new Set(["organization_id", "user_profile_outsider_allowed", "active_users_limit", "minimum_archiving_period"]);
const KNOWN_PATCH_KEYS = new Set(["is_expired", "user_profile_outsider_allowed", "active_users_limit", "minimum_archiving_period"]);

const badData = (reason: string): Reply => json(400, { error: "bad_data", reason });
const notFound = (): Reply => json(404, { error: "not_found" });

/** Parses a JSON object body against `codec`, refusing unknown keys; a reason string on failure. */
const parseBody = <A>(body: Buffer, codec: t.Type<A, unknown, unknown>, known: ReadonlySet<string>): A | string => {
  let raw: unknown;
  try {
    raw = JSON.parse(body.length ? body.toString("utf8") : "{}");
  } catch {
    return "Invalid JSON";
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "Expected a JSON object";
  const unknownKeys = Object.keys(raw).filter((k) => !known.has(k));
  if (unknownKeys.length) return `Unknown field(s): ${unknownKeys.join(", ")}`;
  const decoded = codec.decode(raw);
  if (isRight(decoded)) return decoded.right;
  const problems = new Set(
    decoded.left.map((e) => {
      const field = e.context.map((c) => c.key).filter((k) => k !== "" && !/^\d+$/.test(k)).join(".") || "body";
      return e.value === undefined ? `missing field \`${field}\`` : `invalid value for field \`${field}\``;
    }),
  );
  return [...problems].join("; ");
};

const statsDetail = (stats: OrganizationStats) =>
  stats.usersPerProfileDetail.map((d) => ({ profile: d.profile, active: d.active, revoked: d.revoked }));

const CSV_COLUMNS = [
  "organization_id",
  "data_size",
  "metadata_size",
  "realms",
  "active_users",
  "admin_users_active",
  "admin_users_revoked",
  "standard_users_active",
  "standard_users_revoked",
  "outsider_users_active",
  "outsider_users_revoked",
];

const csvField = (value: string | number): string => {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * The administration HTTP API of Parsec v2.16.3 (`/administration/...`), JSON in and out,
 * guarded by `Authorization: Bearer <token>` (403 `{"error": "not_allowed"}` otherwise).
 * Returns null for paths it does not serve.
 */
export const administrationRoutes = (app: Application, administrationToken: string) => {
  const authorized = (req: ReadRequest): boolean => {
    const header = req.headers.get("authorization") ?? "";
    return header.startsWith("Bearer ") && secretsEqual(header.slice(7), administrationToken);
  };

  const createOrganization = async (req: ReadRequest): Promise<Reply> => {
    const body = parseBody(req.body, CreateBody, KNOWN_CREATE_KEYS);
    if (typeof body === "string") return badData(body);
    const id = OrganizationID.parse(body.organization_id);
    if (!id.ok) return badData("Invalid field(s): organization_id");
    const outcome = await app.createOrganization({
      organizationId: id.value,
      ...(body.user_profile_outsider_allowed !== undefined && { userProfileOutsiderAllowed: body.user_profile_outsider_allowed }),
      ...(body.active_users_limit !== undefined && { activeUsersLimit: body.active_users_limit }),
      ...(body.minimum_archiving_period !== undefined && { minimumArchivingPeriod: body.minimum_archiving_period }),
    });
    if (outcome.kind === "already_exists") return json(400, { error: "already_exists" });
    return json(200, { bootstrap_token: outcome.bootstrapToken });
  };

  const organizationItem = async (req: ReadRequest, rawId: string): Promise<Reply> => {
    const id = OrganizationID.parse(decodePathSegment(rawId));
    if (!id.ok) return notFound();
    if (req.method === "GET") {
      const found = await app.getOrganization(id.value);
      if (found.kind === "not_found") return notFound();
      const org = found.organization;
      return json(200, {
        is_bootstrapped: org.rootVerifyKey !== null,
        is_expired: org.isExpired,
        user_profile_outsider_allowed: org.userProfileOutsiderAllowed,
        active_users_limit: org.activeUsersLimit,
        minimum_archiving_period: org.minimumArchivingPeriod,
      });
    }
    const body = parseBody(req.body, PatchBody, KNOWN_PATCH_KEYS);
    if (typeof body === "string") return badData(body);
    const outcome = await app.patchOrganization(id.value, {
      ...(body.is_expired !== undefined && { isExpired: body.is_expired }),
      ...(body.user_profile_outsider_allowed !== undefined && { userProfileOutsiderAllowed: body.user_profile_outsider_allowed }),
      ...(body.active_users_limit !== undefined && { activeUsersLimit: body.active_users_limit }),
      ...(body.minimum_archiving_period !== undefined && { minimumArchivingPeriod: body.minimum_archiving_period }),
    });
    return outcome.kind === "ok" ? json(200, {}) : notFound();
  };

  const organizationStats = async (rawId: string): Promise<Reply> => {
    const id = OrganizationID.parse(decodePathSegment(rawId));
    if (!id.ok) return notFound();
    const outcome = await app.organizationStats(id.value);
    if (outcome.kind === "not_found") return notFound();
    const s = outcome.stats;
    return json(200, {
      data_size: s.dataSize,
      metadata_size: s.metadataSize,
      realms: s.realms,
      users: s.users,
      active_users: s.activeUsers,
      users_per_profile_detail: statsDetail(s),
    });
  };

  const serverStats = async (req: ReadRequest): Promise<Reply> => {
    const format = req.query.get("format");
    if (format !== "csv" && format !== "json")
      return badData("Missing/invalid mandatory query argument `format` (expected `csv` or `json`)");
    const rawAt = req.query.get("at");
    const at = rawAt ? DateTime.parseRfc3339(rawAt) : undefined;
    if (at === null) return badData("Invalid `at` query argument (expected RFC3339 datetime)");
    const all = await app.serverStats(at);
    if (format === "json")
      return json(200, {
        stats: all.map(({ organizationId, stats: s }) => ({
          organization_id: organizationId,
          data_size: s.dataSize,
          metadata_size: s.metadataSize,
          realms: s.realms,
          active_users: s.activeUsers,
          users_per_profile_detail: statsDetail(s),
        })),
      });
    const rows = all.map(({ organizationId, stats: s }) => {
      const count = (profile: string) => s.usersPerProfileDetail.find((d) => d.profile === profile) ?? { active: 0, revoked: 0 };
      const [admin, standard, outsider] = [count("ADMIN"), count("STANDARD"), count("OUTSIDER")];
      return [organizationId, s.dataSize, s.metadataSize, s.realms, s.activeUsers, admin.active, admin.revoked, standard.active, standard.revoked, outsider.active, outsider.revoked]
        .map(csvField)
        .join(",");
    });
    return { status: 200, headers: { "content-type": "text/csv" }, body: [CSV_COLUMNS.join(","), ...rows].join("\r\n") + "\r\n" };
  };

  return async (req: ReadRequest): Promise<Reply | null> => {
    const path = req.url;
    if (!path.startsWith("/administration/")) return null;
    const route = (): ((r: ReadRequest) => Promise<Reply>) | "method_not_allowed" | null => {
      const allow = (methods: readonly string[], handler: (r: ReadRequest) => Promise<Reply>) => (methods.includes(req.method) ? handler : "method_not_allowed");
      if (path === "/administration/organizations") return allow(["POST"], createOrganization);
      if (path === "/administration/stats") return allow(["GET"], serverStats);
      const stats = /^\/administration\/organizations\/([^/]+)\/stats$/.exec(path);
      if (stats) return allow(["GET"], () => organizationStats(stats[1]!));
      const item = /^\/administration\/organizations\/([^/]+)$/.exec(path);
      if (item) return allow(["GET", "PATCH"], (r) => organizationItem(r, item[1]!));
      return null;
    };
    const handler = route();
    if (!handler) return null;
    if (!authorized(req)) return json(403, { error: "not_allowed" });
    if (handler === "method_not_allowed") return json(405, { error: "method_not_allowed" });
    return handler(req);
  };
};
