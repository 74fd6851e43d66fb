import type * as t from "io-ts";
import { StringC } from "../codecs/primitives.js";
import { command, reply, request, status } from "../codecs/struct.js";

/** `ping` (authenticated and invited families): the server echoes `ping` back as `pong`. */
export const ping = command("ping", request("ping", { ping: StringC }), reply("ping", status("ok", { pong: StringC })));
/** The decoded `ping` request: wire field names, domain value types. */
export type PingReq = t.TypeOf<typeof ping.req>;
/** A `ping` reply, one of its declared variants discriminated by `status`. */
export type PingRep = t.TypeOf<typeof ping.rep>;
