import type * as t from "io-ts";
import { BlockIDC, BytesC, RealmIDC } from "../codecs/primitives.js";
import { command, reply, request, status } from "../codecs/struct.js";

/** Authenticated `block_create`: store the encrypted `block` under `block_id` in `realm_id`. */
export const blockCreate = command(
  "block_create",
  request("block_create", { block_id: BlockIDC, realm_id: RealmIDC, block: BytesC }),
  reply(
    "block_create",
    status("ok"),
    status("already_exists"),
    status("not_found"),
    status("timeout"),
    status("not_allowed"),
    status("in_maintenance"),
    status("realm_archived"),
    status("realm_deleted"),
  ),
);
/** The decoded `block_create` request: wire field names, domain value types. */
export type BlockCreateReq = t.TypeOf<typeof blockCreate.req>;
/** A `block_create` reply, one of its declared variants discriminated by `status`. */
export type BlockCreateRep = t.TypeOf<typeof blockCreate.rep>;

/** Authenticated `block_read`: fetch the encrypted block `block_id`. */
export const blockRead = command(
  "block_read",
  request("block_read", { block_id: BlockIDC }),
  reply(
    "block_read",
    status("ok", { block: BytesC }),
    status("not_found"),
    status("timeout"),
    status("not_allowed"),
    status("in_maintenance"),
    status("realm_deleted"),
  ),
);
/** The decoded `block_read` request: wire field names, domain value types. */
export type BlockReadReq = t.TypeOf<typeof blockRead.req>;
/** A `block_read` reply, one of its declared variants discriminated by `status`. */
export type BlockReadRep = t.TypeOf<typeof blockRead.rep>;
