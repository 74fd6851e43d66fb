import * as t from "io-ts";
import type { MsgpackDecodeLimits } from "../../domain/serialization/decoder.js";
import { MsgpackDecodeError, pack } from "../../domain/serialization/msgpack.js";
import { type CommandCodecs, type UnknownStatusRep, statusesOf, unknownStatus } from "./codecs/struct.js";
import { blockCreate, blockRead } from "./commands/block.js";
import { eventsListen, eventsSubscribe } from "./commands/events.js";
import {
  invite1ClaimerWaitPeer,
  invite1GreeterWaitPeer,
  invite2aClaimerSendHashedNonce,
  invite2aGreeterGetHashedNonce,
  invite2bClaimerSendNonce,
  invite2bGreeterSendNonce,
  invite3aClaimerSignifyTrust,
  invite3aGreeterWaitPeerTrust,
  invite3bClaimerWaitPeerTrust,
  invite3bGreeterSignifyTrust,
  invite4ClaimerCommunicate,
  invite4GreeterCommunicate,
  inviteDelete,
  inviteInfo,
  inviteList,
  inviteNew,
} from "./commands/invite.js";
import { messageGet } from "./commands/message.js";
import { archivingConfig, organizationBootstrap, organizationConfig, organizationStats } from "./commands/organization.js";
import { ping } from "./commands/ping.js";
import { pkiEnrollmentAccept, pkiEnrollmentInfo, pkiEnrollmentList, pkiEnrollmentReject, pkiEnrollmentSubmit } from "./commands/pki.js";
import {
  realmCreate,
  realmFinishReencryptionMaintenance,
  realmGetRoleCertificates,
  realmStartReencryptionMaintenance,
  realmStats,
  realmStatus,
  realmUpdateArchiving,
  realmUpdateRoles,
} from "./commands/realm.js";
import { inviteShamirRecoveryReveal, shamirRecoveryOthersList, shamirRecoverySelfInfo, shamirRecoverySetup } from "./commands/shamir.js";
import { deviceCreate, humanFind, userCreate, userGet, userRevoke } from "./commands/user.js";
import {
  vlobCreate,
  vlobListVersions,
  vlobMaintenanceGetReencryptionBatch,
  vlobMaintenanceSaveReencryptionBatch,
  vlobPollChanges,
  vlobRead,
  vlobUpdate,
} from "./commands/vlob.js";
import { describeErrors, isWireMap, unpackWire } from "./wire.js";

type Table<CS extends readonly CommandCodecs[]> = { readonly [C in CS[number] as C["name"]]: C };

const table = <CS extends readonly CommandCodecs[]>(...commands: CS): Table<CS> =>
  Object.freeze(Object.fromEntries(commands.map((c) => [c.name, c]))) as Table<CS>;

/** Commands of an authenticated device (WebSocket `AUTHENTICATED` handshake or HTTP `/authenticated`), API v2. */
export const authenticatedCommands = table(
  archivingConfig,
  blockCreate,
  blockRead,
  deviceCreate,
  eventsListen,
  eventsSubscribe,
  humanFind,
  invite1GreeterWaitPeer,
  invite2aGreeterGetHashedNonce,
  invite2bGreeterSendNonce,
  invite3aGreeterWaitPeerTrust,
  invite3bGreeterSignifyTrust,
  invite4GreeterCommunicate,
  inviteDelete,
  inviteList,
  inviteNew,
  messageGet,
  organizationConfig,
  organizationStats,
  ping,
  pkiEnrollmentAccept,
  pkiEnrollmentList,
  pkiEnrollmentReject,
  realmCreate,
  realmFinishReencryptionMaintenance,
  realmGetRoleCertificates,
  realmStartReencryptionMaintenance,
  realmStats,
  realmStatus,
  realmUpdateArchiving,
  realmUpdateRoles,
  shamirRecoveryOthersList,
  shamirRecoverySelfInfo,
  shamirRecoverySetup,
  userCreate,
  userGet,
  userRevoke,
  vlobCreate,
  vlobListVersions,
  vlobMaintenanceGetReencryptionBatch,
  vlobMaintenanceSaveReencryptionBatch,
  vlobPollChanges,
  vlobRead,
  vlobUpdate,
);

/** Commands of an invited peer, the claimer (WebSocket `INVITED` handshake or HTTP `/invited`), API v2. */
export const invitedCommands = table(
  invite1ClaimerWaitPeer,
  invite2aClaimerSendHashedNonce,
  invite2bClaimerSendNonce,
  invite3aClaimerSignifyTrust,
  invite3bClaimerWaitPeerTrust,
  invite4ClaimerCommunicate,
  inviteInfo,
  inviteShamirRecoveryReveal,
  ping,
);

/** Commands without authentication (HTTP `/anonymous`), API v2. */
export const anonymousCommands = table(organizationBootstrap, pkiEnrollmentInfo, pkiEnrollmentSubmit);

/** The client families and their command tables. */
export const commandTables = {
  authenticated: authenticatedCommands,
  invited: invitedCommands,
  anonymous: anonymousCommands,
} as const;

/** A client family: `authenticated`, `invited` or `anonymous`. */
export type ClientFamily = keyof typeof commandTables;

/** The command names of a family. */
export type CommandName<F extends ClientFamily> = keyof (typeof commandTables)[F] & string;

type CodecsOf<F extends ClientFamily, N extends CommandName<F>> = (typeof commandTables)[F][N] extends CommandCodecs<string, infer Req, infer Rep>
  ? { req: Req; rep: Rep }
  : never;

/** The decoded request of command `N` of family `F` (wire field names, domain value types). */
export type RequestOf<F extends ClientFamily, N extends CommandName<F>> = t.TypeOf<CodecsOf<F, N>["req"]>;

/** A reply of command `N` of family `F`, one of its declared variants. */
export type ReplyOf<F extends ClientFamily, N extends CommandName<F>> = t.TypeOf<CodecsOf<F, N>["rep"]>;

/** A successfully decoded request of family `F`, discriminated by `cmd`. */
export type DecodedRequest<F extends ClientFamily> = F extends ClientFamily
  ? { [N in CommandName<F>]: { kind: "ok"; cmd: N; req: RequestOf<F, N> } }[CommandName<F>]
  : never;

/**
 * The outcome of {@link decodeRequest}:
 * - `ok`: a known command whose fields fit its schema;
 * - `invalid_msg_format`: not one msgpack value, or the top level is not a map;
 * - `unknown_command`: `cmd` missing, not a string, or not a command of the family;
 * - `bad_message`: the fields do not fit (`reason` names the first offending field), or the msgpack is well formed
 *   but refused by the strict decoder: an extension type other than 1–4, a key repeated in one map, more nesting or
 *   elements than the decode limits (`reason` says which).
 */
export type DecodeRequestResult<F extends ClientFamily> =
  | DecodedRequest<F>
  | { kind: "invalid_msg_format" }
  | { kind: "unknown_command" }
  | { kind: "bad_message"; reason: string };

const lookup = <F extends ClientFamily>(family: F, cmd: unknown): CommandCodecs | undefined => {
  const commands = commandTables[family] as unknown as Record<string, CommandCodecs>;
  return typeof cmd === "string" && Object.hasOwn(commands, cmd) ? commands[cmd] : undefined;
};

/** What a msgpack decoding failure answers: `bad_message` for a value the strict decoder rejects, else `invalid_msg_format`. */
const undecodable = (err: unknown): { kind: "invalid_msg_format" } | { kind: "bad_message"; reason: string } =>
  err instanceof MsgpackDecodeError && err.kind === "rejected" ? { kind: "bad_message", reason: err.message } : { kind: "invalid_msg_format" };

/**
 * Decodes a request frame of client family `family` (Parsec API v2). Never throws.
 * @param limits msgpack nesting and element bounds (default `DEFAULT_MSGPACK_DECODE_LIMITS`); beyond them, `bad_message`.
 */
export const decodeRequest = <F extends ClientFamily>(family: F, bytes: Uint8Array, limits?: MsgpackDecodeLimits): DecodeRequestResult<F> => {
  let raw: unknown;
  try {
    raw = unpackWire(bytes, limits);
  } catch (err) {
    return undecodable(err);
  }
  if (!isWireMap(raw)) return { kind: "invalid_msg_format" };
  const codecs = lookup(family, raw["cmd"]);
  if (!codecs) return { kind: "unknown_command" };
  let decoded: t.Validation<unknown>;
  try {
    decoded = codecs.req.decode(raw);
  } catch {
    return { kind: "bad_message", reason: "invalid message" };
  }
  if (decoded._tag === "Left") return { kind: "bad_message", reason: describeErrors(decoded.left) };
  return { kind: "ok", cmd: codecs.name, req: decoded.right } as DecodedRequest<F>;
};

/**
 * The outcome of {@link decodeReply} (for clients and tests): a declared variant, an undeclared status
 * kept as {@link UnknownStatusRep}, or why the bytes do not fit.
 */
export type DecodeReplyResult<F extends ClientFamily, N extends CommandName<F>> =
  | { kind: "ok"; rep: ReplyOf<F, N> }
  | { kind: "unknown_status"; rep: UnknownStatusRep }
  | { kind: "invalid_msg_format" }
  | { kind: "bad_message"; reason: string };

/**
 * Decodes the reply to command `cmd` of family `family`. Never throws.
 * @param limits msgpack nesting and element bounds (default `DEFAULT_MSGPACK_DECODE_LIMITS`); beyond them, `bad_message`.
 */
export const decodeReply = <F extends ClientFamily, N extends CommandName<F>>(
  family: F,
  cmd: N,
  bytes: Uint8Array,
  limits?: MsgpackDecodeLimits,
): DecodeReplyResult<F, N> => {
  let raw: unknown;
  try {
    raw = unpackWire(bytes, limits);
  } catch (err) {
    return undecodable(err);
  }
  if (!isWireMap(raw)) return { kind: "invalid_msg_format" };
  const codecs = lookup(family, cmd);
  if (!codecs) return { kind: "bad_message", reason: `unknown command '${cmd}'` };
  const decoded = codecs.rep.decode(raw);
  if (decoded._tag === "Right") return { kind: "ok", rep: decoded.right as ReplyOf<F, N> };
  const unknown = unknownStatus(new Set(statusesOf(codecs.rep))).decode(raw);
  if (unknown._tag === "Right") return { kind: "unknown_status", rep: unknown.right };
  return { kind: "bad_message", reason: describeErrors(decoded.left) };
};

/** The reply to a frame that is not binary msgpack with a map at the top. */
export const invalidMsgFormatRep = { status: "invalid_msg_format", reason: "Invalid message format" } as const;
/** The reply to a request whose `cmd` is missing, not a string, or unknown to the client's family. */
export const unknownCommandRep = { status: "unknown_command", reason: "Unknown command" } as const;
/** The reply to a request whose fields do not fit its command. */
export const badMessageRep = (reason: string) => ({ status: "bad_message", reason }) as const;

/** A reply object ready for {@link encodeReply}: a typed reply already encoded by its codec, or a generic reply. */
export type WireReply = { readonly status: string } & Readonly<Record<string, unknown>>;

/** Removes `undefined`-valued keys from plain objects, recursively, so that absent optional fields are not written as nil. */
const dropUndefined = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(dropUndefined);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, dropUndefined(v)]));
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, dropUndefined(v)]),
  );
};

/**
 * Packs a reply map (output of a reply codec's `encode`, or a generic reply) to msgpack bytes;
 * keys whose value is `undefined` are left out.
 */
export const encodeReply = (reply: WireReply): Buffer => pack(dropUndefined(reply));

/**
 * Encodes a typed reply of command `cmd` with its codec and packs it
 * (domain values → wire: DateTime ext 1, ids ext 2, floats as float 64, 64-bit integers kept integral).
 */
export const encodeTypedReply = <F extends ClientFamily, N extends CommandName<F>>(family: F, cmd: N, reply: ReplyOf<F, N>): Buffer => {
  const codecs = lookup(family, cmd)!;
  return encodeReply(codecs.rep.encode(reply) as WireReply);
};

/** Maps a failed {@link decodeRequest} to its generic reply. */
export const genericErrorReply = (
  result: { kind: "invalid_msg_format" } | { kind: "unknown_command" } | { kind: "bad_message"; reason: string },
): WireReply => {
  switch (result.kind) {
    case "invalid_msg_format":
      return invalidMsgFormatRep;
    case "unknown_command":
      return unknownCommandRep;
    case "bad_message":
      return badMessageRep(result.reason);
  }
};
