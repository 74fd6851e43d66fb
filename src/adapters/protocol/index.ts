/**
 * The Parsec API v2 wire protocol: io-ts codecs of every command's request and replies, the command
 * tables per client family, request decoding with the generic error replies, and the handshake messages.
 */
export * from "./codecs/primitives.js";
export * from "./codecs/common.js";
export { struct, request, status, withReason, reply, command, unknownStatus, statusesOf } from "./codecs/struct.js";
export type { StructC, ReplyC, CommandCodecs, UnknownStatusRep } from "./codecs/struct.js";
export * from "./commands/block.js";
export * from "./commands/events.js";
export * from "./commands/invite.js";
export * from "./commands/message.js";
export * from "./commands/organization.js";
export * from "./commands/ping.js";
export * from "./commands/pki.js";
export * from "./commands/realm.js";
export * from "./commands/shamir.js";
export * from "./commands/user.js";
export * from "./commands/vlob.js";
export * from "./registry.js";
export * from "./handshake.js";
export { unpackWire, describeErrors } from "./wire.js";
