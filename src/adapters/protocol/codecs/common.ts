import * as t from "io-ts";
import { DateTimeC, FloatC, nullable, StringC } from "./primitives.js";
import { status, struct } from "./struct.js";

/**
 * Nested types and reply variants shared by several commands of the Parsec API v2 schema.
 */

/**
 * Schema `RealmArchivingConfiguration`: `{type: "AVAILABLE"}`, `{type: "ARCHIVED"}` or
 * `{type: "DELETION_PLANNED", deletion_date: DateTime}`.
 */
export const RealmArchivingConfigurationC = t.union(
  [
    struct("AVAILABLE", { type: t.literal("AVAILABLE") }),
    struct("ARCHIVED", { type: t.literal("ARCHIVED") }),
    struct("DELETION_PLANNED", { type: t.literal("DELETION_PLANNED"), deletion_date: DateTimeC }),
  ],
  "RealmArchivingConfiguration",
);
/** Decoded {@link RealmArchivingConfigurationC}. */
export type RealmArchivingConfiguration = t.TypeOf<typeof RealmArchivingConfigurationC>;

/**
 * `bad_timestamp` as most commands declare it: optional `reason`, and the ballpark fields (offsets in
 * seconds as floats, the server's and the client's timestamps) introduced in API 2.4, hence optional on
 * decode; a server always writes them.
 */
export const badTimestampRep = () =>
  status(
    "bad_timestamp",
    {},
    {
      reason: nullable(StringC),
      ballpark_client_early_offset: FloatC,
      ballpark_client_late_offset: FloatC,
      backend_timestamp: DateTimeC,
      client_timestamp: DateTimeC,
    },
  );

/** `require_greater_timestamp`: the client must retry with a timestamp strictly after `strictly_greater_than`. */
export const requireGreaterTimestampRep = () => status("require_greater_timestamp", { strictly_greater_than: DateTimeC });
