import { randomUUID } from "node:crypto";
import { WireUuid } from "../../src/domain/serialization/msgpack.js";
import { DateTime } from "../../src/domain/time.js";
import { deviceCertificate, realmRoleCertificate, userCertificate } from "../support/certificates.js";
import type { ParsecSession, WireMap } from "../support/client.js";
import type { FixtureDevice } from "../support/fixtures.js";
import { within } from "./helpers.js";

/** Building blocks of `realms-data.test.ts`: bounded calls, ids, a strictly increasing clock, wire-value readers. */

/** Bound on every single wait of the suite: a hang fails fast. */
export const STEP_TIMEOUT_MS = 5_000;

/** `promise`, or a rejection after {@link STEP_TIMEOUT_MS}. */
export const bounded = <T>(promise: Promise<T>, what: string): Promise<T> => within(STEP_TIMEOUT_MS, promise, what);

/** `session.send(cmd, fields)` (raw wire values), bounded. */
export const rpc = (session: ParsecSession<"authenticated">, cmd: string, fields: WireMap = {}): Promise<WireMap> => bounded(session.send(cmd, fields), cmd);

/** A fresh UUID-based id as 32 lowercase hex digits. */
export const newId = (): string => randomUUID().replace(/-/g, "");

/** The wire form (msgpack ext 2) of a UUID-based id. */
export const wire = (hex: string): WireUuid => new WireUuid(hex);

/** The hex form of an ext-2 value received from the server. */
export const hexOf = (value: unknown): string => {
  if (!(value instanceof WireUuid)) throw new Error(`Expected an ext-2 UUID, got ${String(value)}`);
  return value.hex;
};

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
export const userCreateOf = (author: Signer, who: FixtureDevice, profile: "ADMIN" | "STANDARD" | "OUTSIDER", timestamp: DateTime): WireMap => {
  const user = (humanHandle: FixtureDevice["humanHandle"] | null) =>
    userCertificate(author.signingKey, { author: author.deviceId, timestamp, userId: who.userId, humanHandle, publicKey: who.publicKey, profile });
  const device = (deviceLabel: string | null) =>
    deviceCertificate(author.signingKey, { author: author.deviceId, timestamp, deviceId: who.deviceId, deviceLabel, verifyKey: who.verifyKey });
  return {
    user_certificate: user(who.humanHandle),
    device_certificate: device(who.deviceLabel),
    redacted_user_certificate: user(null),
    redacted_device_certificate: device(null),
  };
};

/** An `events_listen` ok reply reduced to comparable values: ext-2 ids as hex. */
export const eventOf = (reply: WireMap): WireMap => {
  const out: WireMap = {};
  for (const [key, value] of Object.entries(reply)) out[key] = value instanceof WireUuid ? value.hex : value;
  return out;
};
