/** An API version `[major, revision]` (Parsec `ApiVersion`). */
export interface ApiVersion {
  readonly major: number;
  readonly revision: number;
}

/** The versions this server implements: 2.10 for 2.x clients, 3.4 for the v2.16 desktop clients (same wire format). */
export const SUPPORTED_API_VERSIONS: readonly ApiVersion[] = [
  { major: 2, revision: 10 },
  { major: 3, revision: 4 },
];

/** `major.revision`, the form of the HTTP `Api-Version` header. */
export const formatApiVersion = (v: ApiVersion): string => `${v.major}.${v.revision}`;

/** Parses `major.revision`; null when malformed. */
export const parseApiVersion = (raw: string): ApiVersion | null => {
  const m = /^(\d{1,9})\.(\d{1,9})$/.exec(raw.trim());
  return m ? { major: Number(m[1]), revision: Number(m[2]) } : null;
};

/**
 * The server version used with a client: the supported version of the client's major,
 * or null when no supported version shares it (the handshake then answers `bad_protocol`).
 */
export const settleApiVersion = (client: ApiVersion): ApiVersion | null =>
  SUPPORTED_API_VERSIONS.find((v) => v.major === client.major) ?? null;
