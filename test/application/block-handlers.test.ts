import { describe, expect, it } from "vitest";
import { blockHandlers } from "../../src/adapters/protocol/handlers/block.js";
import { BlockID, RealmID } from "../../src/domain/ids.js";
import { deviceId, userId } from "../support/app.js";
import { handlerContext, parsed, setupRealmOwner } from "../support/world.js";

const realmId = parsed(RealmID.parse("0000000000000000000000000000000a"));
const blockId = parsed(BlockID.parse("0000000000000000000000000000000d"));

/** `CoolOrg` where alice owns realm {@link realmId}. */
const setup = () => setupRealmOwner(realmId);
const ctx = handlerContext;

describe("block handlers (outcome → reply)", () => {
  it("maps block_create and block_read outcomes to their replies (payload taken from a view into the frame)", async () => {
    const { t, alice } = await setup();
    const block = new Uint8Array(Buffer.from("xxHodi ho !").subarray(2));
    const create = { cmd: "block_create", block_id: blockId, realm_id: realmId, block } as const;
    expect(await blockHandlers.block_create(ctx(t, alice), create)).toEqual({ status: "ok" });
    expect(await blockHandlers.block_create(ctx(t, alice), create)).toEqual({ status: "already_exists" });
    const bob = { ...alice, userId: userId("bob"), deviceId: deviceId("bob@dev1") };
    expect(await blockHandlers.block_create(ctx(t, bob), { ...create, block_id: parsed(BlockID.parse("0000000000000000000000000000000e")) })).toEqual({
      status: "not_allowed",
    });
    expect(await blockHandlers.block_read(ctx(t, alice), { cmd: "block_read", block_id: blockId })).toEqual({ status: "ok", block: Buffer.from("Hodi ho !") });
    expect(await blockHandlers.block_read(ctx(t, bob), { cmd: "block_read", block_id: blockId })).toEqual({ status: "not_allowed" });
  });
});
