import { badTimestamp, timestampsInTheBallpark } from "../../domain/certificates/index.js";
import type { RealmID } from "../../domain/ids.js";
import type { ApplicationDeps } from "../deps.js";
import { checkVlobWrite, publishVlobsUpdated, writtenVersion, type VlobSession, type VlobWrite, type VlobWriteOutcome } from "./common.js";

/** Input of `vlob_create`: the write of version 1, in `realmId`. */
export interface CreateVlobInput extends VlobWrite {
  readonly realmId: RealmID;
}

/** Every status of `vlob_create` this server returns: those of every vlob write, and `already_exists`. */
export type CreateVlobOutcome = VlobWriteOutcome | { readonly kind: "already_exists" };

/**
 * `vlob_create` (authenticated): writes version 1 of a new vlob in a realm. Order of the checks, as Parsec's: the
 * timestamp is in the ballpark of the server's clock (`bad_timestamp`); then in one unit of work holding the realm
 * (`write`), so that its role changes and maintenance never interleave with the write: the realm exists
 * (an unknown realm is `not_allowed`, as in Parsec) and the author may write it at this revision
 * (`checkVlobWriteAccess`: `not_allowed`, `require_greater_timestamp`, `in_maintenance`, `bad_encryption_revision`),
 * the sequester blobs fit the organization (`checkSequesterBlob`), the vlob id is free in the organization
 * (`already_exists`). The realm's checkpoint increments and `realm.vlobs_updated` is published with the transaction.
 * Source: Parsec v2.16.3 `vlob.py` (`api_vlob_create`) and `memory/vlob.py` (`create`).
 */
export const createVlob =
  (deps: Pick<ApplicationDeps, "uow" | "realms" | "vlobs" | "events" | "clock">) =>
  async (session: VlobSession, input: CreateVlobInput): Promise<CreateVlobOutcome> => {
    const now = deps.clock.now();
    if (!timestampsInTheBallpark(input.timestamp, now)) return badTimestamp(input.timestamp, now);
    const { organizationId } = session;
    return deps.uow.run(organizationId, async (tx): Promise<CreateVlobOutcome> => {
      const realm = await deps.realms.getAccess(organizationId, input.realmId, session.userId, tx, "write");
      if (realm === null) return { kind: "not_allowed" };
      const allowed = checkVlobWrite(session, realm, input);
      if (allowed.kind !== "ok") return allowed;
      const version = writtenVersion(session, input);
      const checkpoint = await deps.vlobs.create(tx, organizationId, input.realmId, input.vlobId, input.encryptionRevision, version);
      if (checkpoint === "already_exists") return { kind: "already_exists" };
      await publishVlobsUpdated(deps.events, tx, session, { realmId: input.realmId, checkpoint, vlobId: input.vlobId, version: 1 });
      return { kind: "ok" };
    });
  };
