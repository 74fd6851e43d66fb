import * as t from "io-ts";
import { BytesC, DateTimeC, DeviceIDC, IndexC, SizeC, list } from "../codecs/primitives.js";
import { command, reply, request, status, struct } from "../codecs/struct.js";

/** Schema `Message` of `message_get`: the `count`-th message (1-based) sent to the user, by `sender` at `timestamp`. */
export const MessageC = struct("Message", { count: SizeC, sender: DeviceIDC, timestamp: DateTimeC, body: BytesC });
/** The decoded value of {@link MessageC}. */
export type Message = t.TypeOf<typeof MessageC>;

/** Authenticated `message_get`: the messages received after position `offset`. */
export const messageGet = command(
  "message_get",
  request("message_get", { offset: IndexC }),
  reply("message_get", status("ok", { messages: list(MessageC) })),
);
/** The decoded `message_get` request: wire field names, domain value types. */
export type MessageGetReq = t.TypeOf<typeof messageGet.req>;
/** A `message_get` reply, one of its declared variants discriminated by `status`. */
export type MessageGetRep = t.TypeOf<typeof messageGet.rep>;
