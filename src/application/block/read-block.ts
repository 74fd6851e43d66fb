import { checkBlockRead } from "../../domain/block/index.js";
import type { BlockID } from "../../domain/ids.js";
import type { ApplicationDeps } from "../deps.js";
import { BlockStoreError, type BlockRepository } from "../ports/index.js";
import type { AuthenticatedSession } from "../session/session.js";

/**
 * Outcome of `block_read`. `timeout` means the block store failed or lost the payload (Parsec's legacy
 * name). `realm_deleted` never occurs: realm archiving is not served.
 */
export type ReadBlockOutcome =
  | { readonly kind: "ok"; readonly block: Buffer }
  | { readonly kind: "not_found" }
  | { readonly kind: "not_allowed" }
  | { readonly kind: "in_maintenance" }
  | { readonly kind: "timeout" };

/**
 * Authenticated `block_read` (Parsec v2.16.3 `BlockComponent.read`): any member of the block's realm may
 * read it, also during a re-encryption maintenance (not during another kind of maintenance). Blocks are
 * immutable, so the metadata check and the payload read need no unit of work. The payload comes with the metadata
 * from a repository that {@link BlockRepository.readsPayloads | reads payloads}; otherwise the block store's read
 * runs at the same time as the check (one round trip of latency instead of two): the payload is returned only once
 * the check passed, and a refusal answers as soon as the check is done, whatever the block store's read becomes.
 */
export const readBlock =
  (deps: Pick<ApplicationDeps, "blocks" | "blockStore" | "errors">) =>
  async (reader: AuthenticatedSession, blockId: BlockID): Promise<ReadBlockOutcome> => {
    const fromStore = () =>
      deps.blockStore.read(reader.organizationId, blockId).then(
        (block) => ({ block }),
        (err: unknown) => ({ err }),
      );
    const early = deps.blocks.readsPayloads ? null : fromStore();
    const found = await deps.blocks.getForRead(reader.organizationId, blockId, reader.userId);
    if (!found) return { kind: "not_found" };
    const access = checkBlockRead(found.realm);
    if (access.kind !== "ok") return access;
    const read = found.payload !== undefined ? { block: found.payload } : await (early ?? fromStore());
    if ("err" in read) {
      if (!(read.err instanceof BlockStoreError)) throw read.err;
      deps.errors.error("Block store read failed", { organizationId: reader.organizationId, blockId, cause: read.err.message });
      return { kind: "timeout" };
    }
    const { block } = read;
    if (block) return { kind: "ok", block };
    deps.errors.error("Block payload missing from the block store", { organizationId: reader.organizationId, blockId });
    return { kind: "timeout" };
  };
