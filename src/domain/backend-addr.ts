import type { InvitationToken, InvitationType, OrganizationID } from "./ids.js";
import { invalid, parsed, type Parsed } from "./result.js";

/**
 * Where clients reach this server: `parsec://<hostname>[:<port>][?no_ssl=true]` (Parsec `BackendAddr`).
 * `port` is null when it is the default one (443 with TLS, 80 without).
 */
export interface BackendAddr {
  readonly hostname: string;
  readonly port: number | null;
  readonly useSsl: boolean;
}

/** Parses a `parsec://` server address; `no_ssl` accepts `true` or `false` only. */
export const parseBackendAddr = (raw: string): Parsed<BackendAddr> => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return invalid("Invalid URL");
  }
  if (url.protocol !== "parsec:") return invalid("Expected a `parsec://` URL");
  if (!url.hostname) return invalid("Missing hostname");
  if ((url.pathname !== "" && url.pathname !== "/") || url.hash) return invalid("A server address has no path");
  const noSsl = url.searchParams.getAll("no_ssl");
  if (noSsl.length > 1) return invalid("Duplicate `no_ssl` parameter");
  if (noSsl.length === 1 && noSsl[0] !== "true" && noSsl[0] !== "false") return invalid("Expected `no_ssl=true` or `no_ssl=false`");
  const useSsl = noSsl[0] !== "true";
  const port = url.port ? Number(url.port) : null;
  return parsed({ hostname: url.hostname, port: port === (useSsl ? 443 : 80) ? null : port, useSsl });
};

/** `parsec://host[:port]` with `?no_ssl=true` when TLS is off. */
export const formatBackendAddr = (addr: BackendAddr): string =>
  `parsec://${addr.hostname}${addr.port === null ? "" : `:${addr.port}`}${addr.useSsl ? "" : "?no_ssl=true"}`;

/**
 * The URL a claimer opens to join (Parsec `BackendInvitationAddr`):
 * `parsec://host[:port]/<org>?[no_ssl=true&]action=claim_user|claim_device|claim_shamir_recovery&token=<32 hex digits>`.
 */
export const invitationUrl = (addr: BackendAddr, organizationId: OrganizationID, type: InvitationType, token: InvitationToken): string => {
  const action = type === "USER" ? "claim_user" : type === "DEVICE" ? "claim_device" : "claim_shamir_recovery";
  const query = [...(addr.useSsl ? [] : ["no_ssl=true"]), `action=${action}`, `token=${token}`].join("&");
  return `parsec://${addr.hostname}${addr.port === null ? "" : `:${addr.port}`}/${encodeURIComponent(organizationId)}?${query}`;
};
