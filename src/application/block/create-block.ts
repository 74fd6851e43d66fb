import { checkBlockWrite } from "../../domain/block/index.js";
import type { BlockID, RealmID } from "../../domain/ids.js";
import type { ApplicationDeps } from "../deps.js";
import { BlockStoreError, type Tx } from "../ports/index.js";
import type { AuthenticatedSession } from "../session/session.js";

/** Input of `block_create`: the encrypted payload to store under `blockId` in `realmId`. */
export interface CreateBlockInput {
  readonly blockId: BlockID;
  readonly realmId: RealmID;
  readonly block: Buffer;
}

/**
 * Outcome of `block_create`. `timeout` is Parsec's legacy name for a block store failure (the store
 * adapter logs the cause). `realm_archived` and `realm_deleted` never occur: realm archiving is not served.
 */
export type CreateBlockOutcome =
  | { readonly kind: "ok" }
  | { readonly kind: "not_found" }
  | { readonly kind: "not_allowed" }
  | { readonly kind: "in_maintenance" }
  | { readonly kind: "already_exists" }
  | { readonly kind: "timeout" };

type CreateBlockDeps = Pick<ApplicationDeps, "uow" | "realms" | "blocks" | "blockStore" | "clock" | "errors">;

/**
 * The refusal `block_create` owes the author, or null when it may go on. With a transaction, the realm is held
 * `share` until it ends (several block creations of one realm run at once; role changes and maintenance wait).
 */
const refusal = async (deps: CreateBlockDeps, author: AuthenticatedSession, input: CreateBlockInput, tx?: Tx): Promise<CreateBlockOutcome | null> => {
  const realm = await deps.realms.getAccess(author.organizationId, input.realmId, author.userId, tx, tx ? "share" : undefined);
  if (!realm) return { kind: "not_found" };
  const access = checkBlockWrite(realm);
  if (access.kind !== "ok") return access;
  if (await deps.blocks.exists(author.organizationId, input.blockId, tx)) return { kind: "already_exists" };
  return null;
};

/**
 * Authenticated `block_create` (Parsec v2.16.3 `BlockComponent.create`): checks realm, role (CONTRIBUTOR
 * or above), maintenance and id unicity; writes the payload to the block store; then, in a unit of work
 * that re-checks the same rules, records the metadata. The payload goes first so that metadata never
 * points to a missing payload; a payload left behind by a later refusal is unreachable and harmless
 * (block stores are idempotent per id). The block store call stays outside the unit of work so that a
 * slow store never holds a lock.
 *
 * The first write of a block id wins: creations of one id in this process run one after the other (a second one
 * finds the metadata of the first and answers `already_exists` without touching the store), and the block stores keep
 * the first payload written under an id (memory, PostgreSQL, Swift, S3 servers that honour `If-None-Match`), which
 * covers creations of one id racing from two server processes as far as the payload goes.
 */
export const createBlock = (deps: CreateBlockDeps) => {
  /** The creation in progress for `<organization>/<block id>`, which a later creation of the same id waits for. */
  const inFlight = new Map<string, Promise<unknown>>();

  const create = async (author: AuthenticatedSession, input: CreateBlockInput): Promise<CreateBlockOutcome> => {
    const createdOn = deps.clock.now();
    const early = await refusal(deps, author, input);
    if (early) return early;
    try {
      await deps.blockStore.create(author.organizationId, input.blockId, input.block);
    } catch (err) {
      if (!(err instanceof BlockStoreError)) throw err;
      deps.errors.error("Block store write failed", { organizationId: author.organizationId, blockId: input.blockId, cause: err.message });
      return { kind: "timeout" };
    }
    return deps.uow.run(author.organizationId, async (tx) => {
      const late = await refusal(deps, author, input, tx);
      if (late) return late;
      const meta = { id: input.blockId, realmId: input.realmId, size: input.block.length, author: author.deviceId, createdOn };
      return (await deps.blocks.create(tx, author.organizationId, meta)) === "ok" ? { kind: "ok" } : { kind: "already_exists" };
    });
  };

  return async (author: AuthenticatedSession, input: CreateBlockInput): Promise<CreateBlockOutcome> => {
    const key = `${author.organizationId}/${input.blockId}`;
    const previous = inFlight.get(key);
    const current = (previous ?? Promise.resolve()).then(
      () => create(author, input),
      () => create(author, input),
    );
    inFlight.set(key, current);
    try {
      return await current;
    } finally {
      if (inFlight.get(key) === current) inFlight.delete(key);
    }
  };
};
