import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { BlockStore } from "../../src/application/ports/index.js";
import { newBlockId, newOrganizationId, useFixture, type Make } from "./fixtures.js";

/**
 * `BlockStore`: immutable payloads up to 512 KiB, read back intact, null when unknown, idempotent create; the first
 * payload written under an id kept, unless `options.firstWriteWins` is false (an S3 server that ignores
 * `If-None-Match`, such as s3rver, or answers it is not implemented, such as Swift's s3api).
 */
export function blockStoreContract(make: Make<{ readonly store: BlockStore }>, options: { readonly firstWriteWins?: boolean } = {}): void {
  describe("BlockStore contract", () => {
    const fixture = useFixture(make);

    it("answers null for a block it does not have", async () => {
      const { store } = fixture.current();
      expect(await store.read(newOrganizationId(), newBlockId())).toBeNull();
    });

    it("reads back the payload it stored", async () => {
      const { store } = fixture.current();
      const organizationId = newOrganizationId();
      const blockId = newBlockId();
      const payload = randomBytes(1024);
      await store.create(organizationId, blockId, payload);
      expect(await store.read(organizationId, blockId)).toEqual(payload);
    });

    it("keeps a 512 KiB payload intact", async () => {
      const { store } = fixture.current();
      const organizationId = newOrganizationId();
      const blockId = newBlockId();
      const payload = randomBytes(512 * 1024);
      await store.create(organizationId, blockId, payload);
      const read = await store.read(organizationId, blockId);
      expect(read?.length).toBe(payload.length);
      expect(read!.equals(payload)).toBe(true);
    });

    it("accepts the same payload twice for one block", async () => {
      const { store } = fixture.current();
      const organizationId = newOrganizationId();
      const blockId = newBlockId();
      const payload = randomBytes(4096);
      await store.create(organizationId, blockId, payload);
      await store.create(organizationId, blockId, Buffer.from(payload));
      expect(await store.read(organizationId, blockId)).toEqual(payload);
    });

    it.skipIf(options.firstWriteWins === false)("keeps the first payload written under a block id", async () => {
      const { store } = fixture.current();
      const organizationId = newOrganizationId();
      const blockId = newBlockId();
      const first = randomBytes(2048);
      await store.create(organizationId, blockId, first);
      await store.create(organizationId, blockId, randomBytes(4096));
      expect(await store.read(organizationId, blockId)).toEqual(first);
    });

    it("keeps blocks apart by organization and by id", async () => {
      const { store } = fixture.current();
      const [orgA, orgB] = [newOrganizationId(), newOrganizationId()];
      const [block1, block2] = [newBlockId(), newBlockId()];
      const [a1, b1, a2] = [randomBytes(64), randomBytes(64), randomBytes(64)];
      await store.create(orgA, block1, a1);
      await store.create(orgB, block1, b1);
      await store.create(orgA, block2, a2);
      expect(await store.read(orgA, block1)).toEqual(a1);
      expect(await store.read(orgB, block1)).toEqual(b1);
      expect(await store.read(orgA, block2)).toEqual(a2);
      expect(await store.read(orgB, block2)).toBeNull();
    });

    it("keeps the payload as written when the caller reuses its buffer afterwards", async () => {
      const { store } = fixture.current();
      const organizationId = newOrganizationId();
      const blockId = newBlockId();
      const payload = randomBytes(256);
      const original = Buffer.from(payload);
      await store.create(organizationId, blockId, payload);
      payload.fill(0);
      expect(await store.read(organizationId, blockId)).toEqual(original);
    });
  });
}
