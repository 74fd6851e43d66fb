import { randomUUID } from "node:crypto";
import { WireUuid } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";
import { realmRoleCertificate } from "../support/certificates.js";
import type { WireMap } from "../support/client.js";
import type { FixtureDevice } from "../support/fixtures.js";
import { newUserFields } from "./helpers.js";

/** Building blocks of `realms-data.test.ts`: bounded calls, ids, a strictly increasing clock, wire-value readers. */

export { bounded, hexOf, rpc, STEP_TIMEOUT_MS, wire } from "./helpers.js";

/** A fresh UUID-based id as 32 lowercase hex digits. */
export const newId = (): string => randomUUID().replace(/-/g, "");

let lastMicros = 0;
/**
 * Now, strictly later than every previous value this function returned: Parsec refuses a vlob write that is not
 * strictly after the writer's last role grant, and versions must not go back in time.
 */
export const tick = (): DateTime => {
  lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
  return DateTime.fromEpochMicroseconds(lastMicros);
};

/** The microseconds of a DateTime received from the server (ext 1). */
export const micros = (value: unknown): number => {
  if (!(value instanceof DateTime)) throw new Error(`Expected a DateTime, got ${String(value)}`);
  return value.epochMicroseconds;
};

/**
 * The entries of a map received from the server, keys made comparable: an ext-2 key becomes its hex, other keys stay.
 * A non-string-keyed map decodes as a `Map`; an empty map decodes as `{}`.
 */
export const entriesOf = (value: unknown): [unknown, unknown][] => {
  if (value instanceof Map) return [...value].map(([k, v]) => [k instanceof WireUuid ? k.hex : k, v]);
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return Object.entries(value);
  throw new Error(`Expected a map, got ${String(value)}`);
};

/** A device that signs things: its id and Ed25519 seed. */
export interface Signer {
  readonly deviceId: string;
  readonly signingKey: Uint8Array;
}

/** A signed realm role certificate for `userId` in `realmId` (32 hex digits). */
export const roleCertificate = (author: Signer, realmId: string, userId: string, role: "OWNER" | "MANAGER" | "CONTRIBUTOR" | "READER" | null, timestamp: DateTime): Buffer =>
  realmRoleCertificate(author.signingKey, { author: author.deviceId, timestamp, realmId, userId, role });

/** The four certificates of a `user_create` of the fixture device `who` with profile `profile`, signed by `author`. */
export const userCreateOf = (author: Signer, who: FixtureDevice, profile: "ADMIN" | "STANDARD" | "OUTSIDER", timestamp: DateTime): WireMap =>
  newUserFields(author.signingKey, { ...who, profile, author: author.deviceId, timestamp });

/** An `events_listen` ok reply reduced to comparable values: ext-2 ids as hex. */
export const eventOf = (reply: WireMap): WireMap => {
  const out: WireMap = {};
  for (const [key, value] of Object.entries(reply)) out[key] = value instanceof WireUuid ? value.hex : value;
  return out;
};
