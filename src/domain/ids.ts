import { invalid, parsed, type Parsed } from "./result.js";

declare const brand: unique symbol;
/** A nominal type: a `T` that went through the smart constructor named `B`. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Parsec's rule for string identifiers: 1 to 32 word characters or `-`, at most 32 bytes in UTF-8, NFC-normalised. */
const STRING_ID_PATTERN = /^[\p{L}\p{N}\p{M}\p{Pc}\-]{1,32}$/u;

const parseStringId = <B extends string>(kind: B, raw: unknown): Parsed<Brand<string, B>> => {
  if (typeof raw !== "string") return invalid(`Invalid ${kind}: not a string`);
  const id = raw.normalize("NFC");
  if (!STRING_ID_PATTERN.test(id) || Buffer.byteLength(id, "utf8") > 32) return invalid(`Invalid ${kind}`);
  return parsed(id as Brand<string, B>);
};

/** Identifier of an organization, e.g. `CoolOrg` (Parsec `OrganizationID`). */
export type OrganizationID = Brand<string, "OrganizationID">;
export const OrganizationID = { parse: (raw: unknown) => parseStringId("OrganizationID", raw) };

/** Identifier of a user inside an organization, e.g. `alice` (Parsec `UserID`). */
export type UserID = Brand<string, "UserID">;
export const UserID = { parse: (raw: unknown) => parseStringId("UserID", raw) };

/** Name of a device of a user, e.g. `dev1` (Parsec `DeviceName`). */
export type DeviceName = Brand<string, "DeviceName">;
export const DeviceName = { parse: (raw: unknown) => parseStringId("DeviceName", raw) };

/** A device identifier `user@device`, e.g. `alice@dev1` (Parsec `DeviceID`). */
export type DeviceID = Brand<string, "DeviceID">;
export const DeviceID = {
  parse(raw: unknown): Parsed<DeviceID> {
    if (typeof raw !== "string") return invalid("Invalid DeviceID: not a string");
    const at = raw.indexOf("@");
    if (at < 0) return invalid("Invalid DeviceID");
    const user = UserID.parse(raw.slice(0, at));
    const device = DeviceName.parse(raw.slice(at + 1));
    if (!user.ok || !device.ok) return invalid("Invalid DeviceID");
    return parsed(`${user.value}@${device.value}` as DeviceID);
  },
  /** Builds `user@device` from its validated parts. */
  of: (user: UserID, device: DeviceName): DeviceID => `${user}@${device}` as DeviceID,
  /** The user part of a device identifier. */
  userId: (id: DeviceID): UserID => id.slice(0, id.indexOf("@")) as UserID,
  /** The device-name part of a device identifier. */
  deviceName: (id: DeviceID): DeviceName => id.slice(id.indexOf("@") + 1) as DeviceName,
};

/** Free-form device label shown to humans: non-empty, at most 255 bytes, no line break or NUL (Parsec `DeviceLabel`). */
export type DeviceLabel = Brand<string, "DeviceLabel">;
export const DeviceLabel = {
  parse(raw: unknown): Parsed<DeviceLabel> {
    if (typeof raw !== "string") return invalid("Invalid DeviceLabel: not a string");
    const label = raw.normalize("NFC");
    if (label.length === 0 || /[\n\r\0]/.test(label) || Buffer.byteLength(label, "utf8") > 255) return invalid("Invalid DeviceLabel");
    return parsed(label as DeviceLabel);
  },
};

/** A person's email and display label (Parsec `HumanHandle`, wire form `[email, label]`). Equality is on the email only. */
export interface HumanHandle {
  readonly email: string;
  readonly label: string;
}

const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uFFFF-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uFFFF-]+)*$/u;
const EMAIL_DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;
const FORBIDDEN_LABEL_CHARS = /[<>@,:;\\"[\]\0]/;
/** An address literal (`[192.0.2.1]`, `[IPv6:…]`): printable ASCII but `[`, `\` and `]` between the brackets (RFC 5321 dtext). */
const EMAIL_DOMAIN_LITERAL = /^\[[\x21-\x5a\x5e-\x7e]+\]$/;

/** True when `email` is a syntactically valid address (local part @ domain), under 255 bytes. */
export const isValidEmail = (email: string): boolean => {
  if (Buffer.byteLength(email, "utf8") >= 255) return false;
  const at = email.lastIndexOf("@");
  if (at <= 0 || at === email.length - 1) return false;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > 64 || !EMAIL_LOCAL.test(local)) return false;
  if (domain.startsWith("[")) return EMAIL_DOMAIN_LITERAL.test(domain);
  return domain.split(".").every((part) => EMAIL_DOMAIN_LABEL.test(part));
};

export const HumanHandle = {
  parse(email: unknown, label: unknown): Parsed<HumanHandle> {
    if (typeof email !== "string" || typeof label !== "string") return invalid("Invalid HumanHandle: not strings");
    const e = email.normalize("NFC");
    const l = label.normalize("NFC");
    if (!isValidEmail(e)) return invalid("Invalid email address");
    if (l.length === 0 || Buffer.byteLength(l, "utf8") >= 255 || FORBIDDEN_LABEL_CHARS.test(l)) return invalid("Invalid label");
    return parsed({ email: e, label: l });
  },
  /** `Label <email>`, the form Parsec displays. */
  display: (h: HumanHandle): string => `${h.label} <${h.email}>`,
};

const UUID_HEX = /^[0-9a-f]{32}$/;

const uuidId = <B extends string>(kind: B) => ({
  /** Accepts 32 hex digits or the hyphenated 8-4-4-4-12 form (any case); yields 32 lowercase hex digits. */
  parse(raw: unknown): Parsed<Brand<string, B>> {
    if (typeof raw !== "string") return invalid(`Invalid ${kind}: not a string`);
    const hex = raw.replace(/-/g, "").toLowerCase();
    if (!UUID_HEX.test(hex) || (raw.includes("-") && !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(raw)))
      return invalid(`Invalid ${kind}`);
    return parsed(hex as Brand<string, B>);
  },
  /** From the 16 raw bytes of the UUID. */
  fromBytes(bytes: Uint8Array): Parsed<Brand<string, B>> {
    if (bytes.length !== 16) return invalid(`Invalid ${kind}: expected 16 bytes`);
    return parsed(Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString("hex") as Brand<string, B>);
  },
  /** The 16 raw bytes of the UUID. */
  toBytes: (id: Brand<string, B>): Buffer => Buffer.from(id, "hex"),
  /** Hyphenated 8-4-4-4-12 form. */
  toHyphenated: (id: Brand<string, B>): string =>
    `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`,
});

/** UUID-based identifiers, stored as 32 lowercase hex digits; on the wire msgpack ext 2 with the 16 raw bytes. */
export type RealmID = Brand<string, "RealmID">;
export const RealmID = uuidId("RealmID");
export type VlobID = Brand<string, "VlobID">;
export const VlobID = uuidId("VlobID");
export type BlockID = Brand<string, "BlockID">;
export const BlockID = uuidId("BlockID");
export type InvitationToken = Brand<string, "InvitationToken">;
export const InvitationToken = uuidId("InvitationToken");
export type EnrollmentID = Brand<string, "EnrollmentID">;
export const EnrollmentID = uuidId("EnrollmentID");
export type SequesterServiceID = Brand<string, "SequesterServiceID">;
export const SequesterServiceID = uuidId("SequesterServiceID");
export type ShamirRevealToken = Brand<string, "ShamirRevealToken">;
export const ShamirRevealToken = uuidId("ShamirRevealToken");
export type EntryID = Brand<string, "EntryID">;
export const EntryID = uuidId("EntryID");

/** A user's profile (Parsec `UserProfile`). */
export type UserProfile = "ADMIN" | "STANDARD" | "OUTSIDER";
export const USER_PROFILES: readonly UserProfile[] = ["ADMIN", "STANDARD", "OUTSIDER"];

/** A role in a realm (Parsec `RealmRole`), from most to least powerful. */
export type RealmRole = "OWNER" | "MANAGER" | "CONTRIBUTOR" | "READER";
export const REALM_ROLES: readonly RealmRole[] = ["OWNER", "MANAGER", "CONTRIBUTOR", "READER"];

/** The kind of invitation (Parsec `InvitationType`). */
export type InvitationType = "USER" | "DEVICE" | "SHAMIR_RECOVERY";
export const INVITATION_TYPES: readonly InvitationType[] = ["USER", "DEVICE", "SHAMIR_RECOVERY"];
