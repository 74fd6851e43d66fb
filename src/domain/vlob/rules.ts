import type { SequesterServiceID } from "../ids.js";
import type { DateTime } from "../time.js";
import type { RequireGreaterTimestamp } from "./access.js";
import type { VlobAtom } from "./vlob.js";

/** The version asked for does not exist (read), or is not the next one (update). */
export interface BadVersion {
  readonly kind: "bad_version";
}

const OK = { kind: "ok" } as const;
const BAD_VERSION: BadVersion = { kind: "bad_version" };

/** Outcome of {@link checkNewVersion}. */
export type NewVersionCheck = typeof OK | BadVersion | RequireGreaterTimestamp;

/** The last version of a vlob: its number and the client timestamp it was written with. */
export interface VlobHead {
  readonly version: number;
  readonly timestamp: DateTime;
}

/**
 * May `version`, stamped `timestamp`, follow `head` (the vlob's last version)? It must be exactly the next version
 * (`bad_version`), and its timestamp must not be older than the last version's (`require_greater_timestamp` with that
 * timestamp; an equal timestamp is accepted, as in Parsec).
 * Source: Parsec v2.16.3 `memory/vlob.py` `update`, `postgresql/vlob_queries/write.py` `query_update`.
 */
export const checkNewVersion = (head: VlobHead, version: number, timestamp: DateTime): NewVersionCheck => {
  if (version !== head.version + 1) return BAD_VERSION;
  if (timestamp.isBefore(head.timestamp)) return { kind: "require_greater_timestamp", strictlyGreaterThan: head.timestamp };
  return OK;
};

/** Which version `vlob_read` asks for: a number, the last one written at or before a timestamp, or the latest. */
export type VersionSelector =
  | { readonly kind: "version"; readonly version: number }
  | { readonly kind: "timestamp"; readonly timestamp: DateTime }
  | { readonly kind: "latest" };

/** `vlob_read`'s selector: `version` wins over `timestamp`; with neither, the latest version. */
export const versionSelector = (version: number | null, timestamp: DateTime | null): VersionSelector =>
  version !== null ? { kind: "version", version } : timestamp !== null ? { kind: "timestamp", timestamp } : { kind: "latest" };

/** Outcome of {@link selectVersion}: the 1-based version to read. */
export type VersionSelection = { readonly kind: "ok"; readonly version: number } | BadVersion;

/**
 * Which of `versions` `selector` names: the given version (it must exist, else `bad_version`); the last version
 * written at or before a timestamp (`bad_version` when none); or the latest. A storage adapter may answer the same
 * question in a query instead (e.g. `WHERE timestamp <= $1 ORDER BY version DESC LIMIT 1`).
 * Relies on timestamps never decreasing across versions (binary search, O(log n)).
 * Source: Parsec v2.16.3 `postgresql/vlob_queries/read.py` `query_read` (version 0 is `bad_version`).
 */
export const selectVersion = (versions: readonly VlobAtom[], selector: VersionSelector): VersionSelection => {
  if (selector.kind === "version") return selector.version >= 1 && selector.version <= versions.length ? { kind: "ok", version: selector.version } : BAD_VERSION;
  if (selector.kind === "latest") return versions.length > 0 ? { kind: "ok", version: versions.length } : BAD_VERSION;
  const timestamp = selector.timestamp;
  let low = 0;
  let high = versions.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (versions[middle]!.timestamp.isAfter(timestamp)) high = middle;
    else low = middle + 1;
  }
  return low === 0 ? BAD_VERSION : { kind: "ok", version: low };
};

/** The organization has no sequester authority but the client sent `sequester_blob`. */
export interface NotASequesteredOrganization {
  readonly kind: "not_a_sequestered_organization";
}

/** The client's set of sequester services differs from the organization's: here are the current certificates. */
export interface SequesterInconsistency {
  readonly kind: "sequester_inconsistency";
  readonly sequesterAuthorityCertificate: Buffer;
  readonly sequesterServicesCertificates: readonly Buffer[];
}

/** What {@link checkSequesterBlob} needs to know about the organization. */
export interface SequesterSetup {
  /** The sequester authority certificate, or null for an organization without sequester. */
  readonly authorityCertificate: Buffer | null;
  /** The enabled sequester services: their identifiers and certificates. */
  readonly services: ReadonlyMap<SequesterServiceID, Buffer>;
}

/** Outcome of {@link checkSequesterBlob}. */
export type SequesterBlobCheck = typeof OK | NotASequesteredOrganization | SequesterInconsistency;

/**
 * Does the `sequester_blob` of a vlob write fit the organization? Without a sequester authority it must be nil
 * (`not_a_sequestered_organization`, even for an empty map); with one, its keys must be exactly the enabled services
 * (a nil blob counts as no key), else `sequester_inconsistency`.
 * Source: Parsec v2.16.3 `postgresql/vlob.py` `_check_sequestered_organization` (the memory implementation also
 * refuses a nil blob in a sequestered organization without services; PostgreSQL, the production one, accepts it).
 */
export const checkSequesterBlob = (setup: SequesterSetup, sequesterBlob: ReadonlyMap<SequesterServiceID, Buffer> | null): SequesterBlobCheck => {
  if (setup.authorityCertificate === null) return sequesterBlob === null ? OK : { kind: "not_a_sequestered_organization" };
  const given = sequesterBlob ?? new Map<SequesterServiceID, Buffer>();
  const consistent = given.size === setup.services.size && [...given.keys()].every((id) => setup.services.has(id));
  return consistent
    ? OK
    : {
        kind: "sequester_inconsistency",
        sequesterAuthorityCertificate: setup.authorityCertificate,
        sequesterServicesCertificates: [...setup.services.values()],
      };
};
