import type { BackendEvent } from "../../../application/ports/index.js";
import { DeviceID, InvitationToken, OrganizationID, REALM_ROLES, RealmID, UserID, VlobID } from "../../../domain/ids.js";
import { invalid, parsed, type Parsed } from "../../../domain/result.js";

/**
 * The text of a `parsec_events` notification, and of a row of `event_payload`. Everything written is JSON with
 * every non-ASCII character escaped (`\uXXXX`), so that its length in bytes is its length in characters in any
 * server encoding, and so that any JavaScript string (lone surrogates included) comes back unchanged.
 */

/** Version of the notification format, written in every notification; a reader skips any other version. */
const FORMAT_VERSION = 1;

/**
 * Largest notification sent inline, in bytes: PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
 * (default build). A larger event goes to `event_payload` and the notification carries its row id.
 */
export const MAX_INLINE_NOTIFICATION_BYTES = 7_999;

/** A decoded notification: the event itself, or where to fetch it. */
export type Notification =
  | { readonly kind: "inline"; readonly processId: string; readonly sequence: number; readonly event: BackendEvent }
  | {
      readonly kind: "stored";
      readonly processId: string;
      readonly sequence: number;
      /** The organization of the stored event: listeners with no subscriber there need not fetch it. */
      readonly organizationId: OrganizationID;
      /** `event_payload.id`, in decimal. */
      readonly payloadId: string;
    };

const escapeNonAscii = (json: string): string =>
  json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

const toAsciiJson = (value: unknown): string => escapeNonAscii(JSON.stringify(value));

/** The notification carrying `event` itself; may be longer than {@link MAX_INLINE_NOTIFICATION_BYTES}. */
export const encodeInline = (processId: string, sequence: number, event: BackendEvent): string =>
  toAsciiJson({ v: FORMAT_VERSION, process: processId, seq: sequence, event });

/** Stands for the checkpoint while {@link encodeInlineAroundCheckpoint} encodes (a number no checkpoint reaches). */
const CHECKPOINT_STANDIN = Number.MAX_SAFE_INTEGER;
/** Most digits of a checkpoint (a safe integer). */
const CHECKPOINT_DIGITS = String(Number.MAX_SAFE_INTEGER).length;

/**
 * The inline notification of `event` split around its checkpoint, for SQL that assigns the checkpoint and notifies
 * in one statement: the notification is `before || checkpoint || after` (the checkpoint in decimal). Null when that
 * could exceed {@link MAX_INLINE_NOTIFICATION_BYTES}.
 */
export const encodeInlineAroundCheckpoint = (
  processId: string,
  sequence: number,
  event: Extract<BackendEvent, { type: "realm.vlobs_updated" }>,
): { readonly before: string; readonly after: string } | null => {
  const text = encodeInline(processId, sequence, { ...event, checkpoint: CHECKPOINT_STANDIN });
  // Unique: inside a JSON string every quote is escaped, so only the member itself reads `"checkpoint":`.
  const member = `"checkpoint":${CHECKPOINT_STANDIN}`;
  const at = text.indexOf(member);
  if (at < 0 || text.includes(member, at + 1)) return null;
  const before = text.slice(0, at + member.length - String(CHECKPOINT_STANDIN).length);
  const after = text.slice(at + member.length);
  return before.length + CHECKPOINT_DIGITS + after.length <= MAX_INLINE_NOTIFICATION_BYTES ? { before, after } : null;
};

/** The text stored in `event_payload.payload` for `event`. */
export const encodeStoredEvent = (event: BackendEvent): string => toAsciiJson(event);

/**
 * The notification pointing at a stored event, split around the row id so that SQL can insert it:
 * the notification is `before || id || after`.
 */
export const encodeStoredReference = (
  processId: string,
  sequence: number,
  organizationId: OrganizationID,
): { readonly before: string; readonly after: string } => {
  const template = toAsciiJson({ v: FORMAT_VERSION, process: processId, seq: sequence, organizationId, payloadId: "" });
  return { before: template.slice(0, -2), after: template.slice(-2) };
};

const isRecord = (raw: unknown): raw is Record<string, unknown> => typeof raw === "object" && raw !== null && !Array.isArray(raw);

const parseJson = (text: string): Parsed<unknown> => {
  try {
    return parsed(JSON.parse(text) as unknown);
  } catch {
    return invalid("not JSON");
  }
};

/** Decodes a notification; anything but a well-formed one of {@link FORMAT_VERSION} is invalid. */
export const decodeNotification = (payload: string): Parsed<Notification> => {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const raw = json.value;
  if (!isRecord(raw)) return invalid("not a JSON object");
  if (raw.v !== FORMAT_VERSION) return invalid(`unknown format version ${JSON.stringify(raw.v)}`);
  if (typeof raw.process !== "string" || raw.process === "") return invalid("bad process");
  if (typeof raw.seq !== "number" || !Number.isSafeInteger(raw.seq) || raw.seq < 0) return invalid("bad seq");
  const header = { processId: raw.process, sequence: raw.seq };
  if ("event" in raw) {
    const event = decodeEvent(raw.event);
    return event.ok ? parsed({ kind: "inline", ...header, event: event.value }) : event;
  }
  const organizationId = OrganizationID.parse(raw.organizationId);
  if (!organizationId.ok) return invalid(`bad organizationId: ${organizationId.error}`);
  if (typeof raw.payloadId !== "string" || !/^[1-9][0-9]{0,18}$/.test(raw.payloadId)) return invalid("bad payloadId");
  return parsed({ kind: "stored", ...header, organizationId: organizationId.value, payloadId: raw.payloadId });
};

/** Decodes the text of an `event_payload` row. */
export const decodeStoredEvent = (text: string): Parsed<BackendEvent> => {
  const json = parseJson(text);
  return json.ok ? decodeEvent(json.value) : json;
};

type Field<T> = (raw: unknown) => Parsed<T>;

const text: Field<string> = (raw) => (typeof raw === "string" ? parsed(raw) : invalid("not a string"));
const count: Field<number> = (raw) =>
  typeof raw === "number" && Number.isSafeInteger(raw) && raw >= 0 ? parsed(raw) : invalid("not a non-negative integer");
const oneOf =
  <T extends string>(values: readonly T[]): Field<T> =>
  (raw) =>
    values.includes(raw as T) ? parsed(raw as T) : invalid(`not one of ${values.join(", ")}`);
const nullable =
  <T>(field: Field<T>): Field<T | null> =>
  (raw) =>
    raw === null ? parsed(null) : field(raw);

const organizationId: Field<OrganizationID> = (raw) => OrganizationID.parse(raw);
const deviceId: Field<DeviceID> = (raw) => DeviceID.parse(raw);
const userId: Field<UserID> = (raw) => UserID.parse(raw);
const realmId: Field<RealmID> = (raw) => RealmID.parse(raw);
const vlobId: Field<VlobID> = (raw) => VlobID.parse(raw);
const token: Field<InvitationToken> = (raw) => InvitationToken.parse(raw);

/** For each event type, how to decode each of its fields (the compiler checks it covers {@link BackendEvent}). */
type EventSchemas = {
  readonly [E in BackendEvent as E["type"]]: { readonly [K in Exclude<keyof E, "type">]-?: Field<E[K]> };
};

const maintenance = { organizationId, author: deviceId, realmId, encryptionRevision: count };

const SCHEMAS: EventSchemas = {
  pinged: { organizationId, author: deviceId, ping: text },
  "user.revoked": { organizationId, userId },
  "invite.status_changed": { organizationId, greeter: userId, token, status: oneOf(["IDLE", "READY", "DELETED"]) },
  "organization.expired": { organizationId },
  "message.received": { organizationId, author: deviceId, recipient: userId, index: count },
  "invite.conduit_updated": { organizationId, token },
  "realm.roles_updated": { organizationId, author: deviceId, realmId, userId, role: nullable(oneOf(REALM_ROLES)) },
  "realm.vlobs_updated": { organizationId, author: deviceId, realmId, checkpoint: count, srcId: vlobId, srcVersion: count },
  "realm.maintenance_started": maintenance,
  "realm.maintenance_finished": maintenance,
};

/** Decodes and validates an event (identifiers through their smart constructors); unknown fields are dropped. */
export const decodeEvent = (raw: unknown): Parsed<BackendEvent> => {
  if (!isRecord(raw)) return invalid("event: not a JSON object");
  const type = raw.type;
  if (typeof type !== "string" || !Object.hasOwn(SCHEMAS, type)) return invalid(`event: unknown type ${JSON.stringify(type)}`);
  const schema: Readonly<Record<string, Field<unknown>>> = SCHEMAS[type as BackendEvent["type"]];
  const event: Record<string, unknown> = { type };
  for (const [name, field] of Object.entries(schema)) {
    const value = field(raw[name]);
    if (!value.ok) return invalid(`event ${type}: ${name}: ${value.error}`);
    event[name] = value.value;
  }
  return parsed(event as BackendEvent);
};
