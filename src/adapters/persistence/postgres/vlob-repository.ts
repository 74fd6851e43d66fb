import { z } from "zod";
import type {
  BackendEvent,
  Tx,
  VlobRead,
  VlobRepository,
  VlobUpdateFacts,
  VlobUpdateResult,
  VlobUpdateWrite,
  VlobVersionInfo,
} from "../../../application/ports/index.js";
import { DeviceID, type OrganizationID, type RealmID, type UserID, type VlobID } from "../../../domain/ids.js";
import type { RealmAccess } from "../../../domain/realm/index.js";
import type { DateTime } from "../../../domain/time.js";
import type { ReencryptionEntry, ReencryptionProgress, VersionSelector, VlobAtom, VlobChanges, VlobHead } from "../../../domain/vlob/index.js";
import { accessColumns, accessFrom, asDeviceId, asVlobId, bytes, dt, dtOrNull, orgKey, sql, zAccessColumns, zBytes, zInt } from "./sql.js";
import { Batcher } from "../../support/index.js";
import { isRetryable, type PgUnitOfWork } from "./unit-of-work.js";

const realmKeyOf = (organizationId: OrganizationID, realmId: RealmID) =>
  sql.fragment`(SELECT _id FROM realm WHERE organization = ${orgKey(organizationId)} AND realm_id = ${realmId})`;

const vlobKeyOf = (organizationId: OrganizationID, vlobId: VlobID) =>
  sql.fragment`(SELECT _id FROM vlob WHERE organization = ${orgKey(organizationId)} AND vlob_id = ${vlobId})`;

const selection = (selector: VersionSelector) =>
  selector.kind === "version"
    ? sql.fragment`AND version = ${selector.version}`
    : selector.kind === "timestamp"
      ? sql.fragment`AND timestamp <= ${selector.timestamp.epochMicroseconds}`
      : sql.fragment``;

const zKey = z.object({ _id: zInt });
const zCheckpoint = z.object({ checkpoint: zInt });

/** Row schemas of the queries below, built once (a zod schema is costly to build). */
const LOCKED_ROW = z.object({ realm: zInt, vlob: zInt });
const FOR_UPDATE_ROW = z.object({ ...zAccessColumns, version: zInt, timestamp: zInt });
/** One `vlob_read` of a batch: `version` or `timestamp` selects, neither means the latest. */
interface ReadKey {
  readonly organizationId: OrganizationID;
  readonly vlobId: VlobID;
  readonly readerId: UserID;
  readonly version: number | null;
  readonly timestamp: number | null;
}

const READ_ROW = z.object({
  i: zInt,
  ...zAccessColumns,
  version: zInt.nullable(),
  blob: zBytes.nullable(),
  author: z.string().nullable(),
  timestamp: zInt.nullable(),
  author_granted_on: zInt.nullable(),
});
const VERSIONS_ROW = z.object({ ...zAccessColumns, version: zInt, timestamp: zInt, author: z.string() });
const CHANGES_ROW = z.object({ checkpoint: zInt, vlob_id: z.string().nullable(), version: zInt.nullable() });
const BATCH_ROW = z.object({ vlob_id: z.string(), version: zInt, blob: zBytes });
const PROGRESS_ROW = z.object({ total: zInt, done: zInt });
const LAST_WRITE_ROW = z.object({ last: zInt.nullable() });
const SIZE_ROW = z.object({ n: zInt });

/** One read of {@link PgVlobRepository.updateIfUnchanged}'s batches. */
interface FactsKey {
  readonly organizationId: OrganizationID;
  readonly vlobId: VlobID;
  readonly userId: UserID;
}

const FACTS_ROW = z.object({ i: zInt, ...zAccessColumns, version: zInt, timestamp: zInt });
const WRITTEN_ROW = z.object({ i: zInt, notified: z.boolean() });

/** What became of a {@link PendingWrite}: written or not (its facts changed), or the failure of its statement. */
type WriteOutcome = { readonly written: boolean } | { readonly error: unknown };

/** A `vlob_update` whose check passed, waiting for its batch's statement (see {@link PgVlobRepository.writeRound}). */
interface PendingWrite {
  readonly organizationId: OrganizationID;
  readonly vlobId: VlobID;
  readonly userId: UserID;
  /** What the check saw: the statement writes only if the locked rows still hold it. */
  readonly facts: VlobUpdateFacts;
  readonly grant: { readonly role: string; readonly grantedOn: DateTime };
  readonly write: VlobUpdateWrite;
  readonly notification: { readonly channel: string; readonly before: string; readonly after: string };
}

/** Reads of {@link PgVlobRepository.updateIfUnchanged} before it answers `contended`. */
const OPTIMISTIC_ATTEMPTS = 3;

/**
 * What {@link PgVlobRepository.updateIfUnchanged} needs of the event bus: the notification a statement sends itself
 * once it knows the checkpoint it assigned (`pg_notify(channel, before || checkpoint || after)`), or null when the
 * event cannot go that way. The PostgreSQL event bus provides it.
 */
export interface StatementNotifications {
  notificationAroundCheckpoint(
    event: Extract<BackendEvent, { type: "realm.vlobs_updated" }>,
  ): { readonly channel: string; readonly before: string; readonly after: string } | null;
}

/**
 * {@link VlobRepository} on PostgreSQL (`vlob`, one `vlob_atom` row per version, `realm_vlob_update` as each realm's
 * change log, `vlob_reencryption` for blobs collected during a re-encryption).
 *
 * Writers hold the realm row `FOR NO KEY UPDATE` (one writer per realm; role changes and maintenance, `FOR UPDATE`,
 * wait for them; block creations, `FOR KEY SHARE`, do not) and the vlob row; {@link getForUpdate} reads the author's
 * role and the vlob's head (kept on the vlob row) on the rows it locks, because under READ COMMITTED a statement that
 * waited for a lock re-reads only locked rows (it would miss a role change or a version committed while it waited). A
 * write is one statement: the version row, the vlob's head, `checkpoint = checkpoint + 1 … RETURNING` on the locked
 * realm row (so checkpoints commit in order), and the change-log row. With the event bus's notifications,
 * `vlob_update` is a single autocommit statement instead ({@link updateIfUnchanged}): the realm is then held only while
 * that statement runs and commits, not across the round trips of a transaction, and the concurrent updates of a realm
 * share one statement (one commit, and one `NOTIFY`-ing commit, which PostgreSQL serialises database-wide, for all of
 * them; see {@link writeRound}). Reads (`read`, `listVersions`, `pollChanges`)
 * are one statement each, so one snapshot; `read`, the hottest, answers the concurrent reads of every session with one
 * statement per batch.
 */
export class PgVlobRepository implements VlobRepository {
  /**
   * `vlob_update` in one autocommit statement (see {@link VlobRepository.updateIfUnchanged}); present only with
   * `notifications`, through which the statement announces the write itself.
   */
  readonly updateIfUnchanged?: <R>(
    organizationId: OrganizationID,
    vlobId: VlobID,
    userId: UserID,
    check: (facts: VlobUpdateFacts) => R | null,
    write: VlobUpdateWrite,
  ) => Promise<VlobUpdateResult<R>>;

  /**
   * @param notifications The event bus's notifications for {@link updateIfUnchanged}; without them the repository
   *   offers only the locked path.
   */
  constructor(
    private readonly uow: PgUnitOfWork,
    notifications?: StatementNotifications,
  ) {
    if (notifications) this.updateIfUnchanged = (...args) => this.optimisticUpdate(notifications, ...args);
  }

  /** The unlocked reads of every session's `vlob_update`, a batch per turn of the event loop. */
  private readonly facts = new Batcher<FactsKey, VlobUpdateFacts | null>(async (keys) => {
    const rows = await this.uow.connectionOf(null).any(sql.type(FACTS_ROW)`
      SELECT q.i, ${accessColumns}, v.head_version AS version, v.head_timestamp AS timestamp
      FROM unnest(
        ${sql.array(keys.map((k) => k.organizationId), "text")}, ${sql.array(keys.map((k) => k.vlobId), "uuid")},
        ${sql.array(keys.map((k) => k.userId), "text")}
      ) WITH ORDINALITY AS q (organization_id, vlob_id, user_id, i)
      JOIN organization o ON o.organization_id = q.organization_id
      CROSS JOIN LATERAL (
        SELECT realm, head_version, head_timestamp FROM vlob WHERE organization = o._id AND vlob_id = q.vlob_id OFFSET 0
      ) v
      JOIN realm r ON r._id = v.realm
      LEFT JOIN LATERAL (SELECT role, granted_on FROM realm_member WHERE realm = r._id AND user_id = q.user_id OFFSET 0) m ON true`);
    const results: (VlobUpdateFacts | null)[] = keys.map(() => null);
    for (const row of rows) results[row.i - 1] = { realm: accessFrom(row), head: { version: row.version, timestamp: dt(row.timestamp) } };
    return results;
  });

  /**
   * The writes of every session's `vlob_update` whose check passed, a batch per turn of the event loop: one
   * statement (so one transaction, one commit) per realm for all of them (see {@link writeRound}).
   */
  private readonly writes = new Batcher<PendingWrite, WriteOutcome>(async (pending) => {
    const outcomes: WriteOutcome[] = pending.map(() => ({ written: false }));
    const byRealm = new Map<string, number[]>();
    pending.forEach((p, i) => {
      const realm = `${p.organizationId}\u0000${p.facts.realm.realmId}`;
      byRealm.set(realm, [...(byRealm.get(realm) ?? []), i]);
    });
    // Never rejects as a whole: each statement commits on its own, so a failure is the outcome of its writes only
    // (the writes of the other statements, committed or not, keep theirs).
    await Promise.all(
      [...byRealm.values()].map(async (indices) => {
        // A vlob at most once per statement: the second write of a vlob waits for the next round (its check saw the
        // head the first one replaces, so it will not be written, and the caller reads again).
        let rest = indices;
        while (rest.length > 0) {
          const seen = new Set<VlobID>();
          const round = rest.filter((i) => !seen.has(pending[i]!.vlobId) && seen.add(pending[i]!.vlobId));
          rest = rest.filter((i) => !round.includes(i));
          try {
            const done = await this.writeRound(round.map((i) => pending[i]!));
            round.forEach((i, k) => (outcomes[i] = { written: done[k]! }));
          } catch (error) {
            for (const i of round) outcomes[i] = { error };
          }
        }
      }),
    );
    return outcomes;
  });

  /**
   * One statement, so one transaction committed with it, writing those of `writes` (one realm, distinct vlobs) whose
   * check still holds: it locks the realm, then the vlobs in id order and the writers' grants (the documented order),
   * keeps each write only if the rows it locked still hold what its check saw (a statement that waited for a lock
   * re-checks the rows' new versions), gives the kept ones consecutive checkpoints of the realm, and announces each
   * with `pg_notify`, in checkpoint order.
   * @returns for each write, whether it was written.
   */
  private async writeRound(writes: readonly PendingWrite[]): Promise<boolean[]> {
    const first = writes[0]!;
    const column = <T>(f: (w: PendingWrite) => T) => writes.map(f);
    const rows = await this.uow.connectionOf(null).any(sql.type(WRITTEN_ROW)`
      WITH q AS (
        SELECT * FROM unnest(
          ${sql.array(column((w) => w.vlobId), "uuid")}, ${sql.array(column((w) => w.userId), "text")},
          ${sql.array(column((w) => w.facts.head.version), "int8")}, ${sql.array(column((w) => w.facts.head.timestamp.epochMicroseconds), "int8")},
          ${sql.array(column((w) => w.facts.realm.encryptionRevision), "int8")},
          ${sql.array(column((w) => w.facts.realm.maintenance?.type ?? null), "text")},
          ${sql.array(column((w) => w.facts.realm.maintenance?.startedBy ?? null), "text")},
          ${sql.array(column((w) => w.facts.realm.maintenance?.startedOn.epochMicroseconds ?? null), "int8")},
          ${sql.array(column((w) => w.grant.role), "text")}, ${sql.array(column((w) => w.grant.grantedOn.epochMicroseconds), "int8")},
          ${sql.array(column((w) => w.write.version), "int8")}, ${sql.array(column((w) => w.write.atom.blob), "bytea")},
          ${sql.array(column((w) => w.write.atom.author), "text")}, ${sql.array(column((w) => DeviceID.userId(w.write.atom.author)), "text")},
          ${sql.array(column((w) => w.write.atom.timestamp.epochMicroseconds), "int8")},
          ${sql.array(column((w) => w.notification.channel), "text")}, ${sql.array(column((w) => w.notification.before), "text")},
          ${sql.array(column((w) => w.notification.after), "text")}
        ) WITH ORDINALITY AS q (vlob_id, user_id, head_version, head_timestamp, encryption_revision, maintenance_type,
          maintenance_started_by, maintenance_started_on, role, granted_on, version, blob, author, author_user_id, timestamp,
          channel, before, after, i)
      ), l AS (
        SELECT q.i, r._id AS realm, v._id AS vlob
        FROM q
        JOIN realm r ON r._id = ${realmKeyOf(first.organizationId, first.facts.realm.realmId)}
        JOIN vlob v ON v.organization = r.organization AND v.vlob_id = q.vlob_id AND v.realm = r._id
        JOIN realm_member m ON m.realm = r._id AND m.user_id = q.user_id
        WHERE v.head_version = q.head_version AND v.head_timestamp = q.head_timestamp
          AND r.encryption_revision = q.encryption_revision
          AND r.maintenance_type IS NOT DISTINCT FROM q.maintenance_type
          AND r.maintenance_started_by IS NOT DISTINCT FROM q.maintenance_started_by
          AND r.maintenance_started_on IS NOT DISTINCT FROM q.maintenance_started_on
          AND m.role = q.role AND m.granted_on = q.granted_on
        ORDER BY v._id
        FOR NO KEY UPDATE OF r, v FOR SHARE OF m
      ), atom AS (
        INSERT INTO vlob_atom (vlob, realm, version, blob, size, author, author_user_id, timestamp)
        SELECT l.vlob, l.realm, q.version, q.blob, length(q.blob), q.author, q.author_user_id, q.timestamp FROM l JOIN q ON q.i = l.i
      ), head AS (
        UPDATE vlob SET head_version = q.version, head_timestamp = q.timestamp FROM l JOIN q ON q.i = l.i WHERE vlob._id = l.vlob
      ), cp AS (
        UPDATE realm SET checkpoint = checkpoint + (SELECT count(*) FROM l) WHERE realm._id = (SELECT realm FROM l LIMIT 1)
        RETURNING realm.checkpoint
      ), numbered AS (
        SELECT l.i, l.realm, l.vlob, (SELECT checkpoint FROM cp) - (SELECT count(*) FROM l) + row_number() OVER (ORDER BY l.i) AS checkpoint
        FROM l
      ), log AS (
        INSERT INTO realm_vlob_update (realm, index, vlob, version) SELECT n.realm, n.checkpoint, n.vlob, q.version FROM numbered n JOIN q ON q.i = n.i
      )
      SELECT n.i, pg_notify(q.channel, q.before || n.checkpoint::text || q.after) IS NULL AS notified
      FROM numbered n JOIN q ON q.i = n.i
      ORDER BY n.checkpoint`);
    const written = writes.map(() => false);
    for (const row of rows) written[row.i - 1] = true;
    return written;
  }

  private async optimisticUpdate<R>(
    notifications: StatementNotifications,
    organizationId: OrganizationID,
    vlobId: VlobID,
    userId: UserID,
    check: (facts: VlobUpdateFacts) => R | null,
    write: VlobUpdateWrite,
  ): Promise<VlobUpdateResult<R>> {
    for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
      const facts = await this.facts.load({ organizationId, vlobId, userId });
      if (facts === null) return { kind: "not_found" };
      const refusal = check(facts);
      if (refusal !== null) return { kind: "refused", outcome: refusal };
      const lastGrant = facts.realm.lastGrant;
      // A write needs a role; without a grant row to lock, let the locked path decide.
      if (lastGrant === null || lastGrant.role === null) return { kind: "contended" };
      const grant = { role: lastGrant.role, grantedOn: lastGrant.grantedOn };
      const notification = notifications.notificationAroundCheckpoint(write.event(facts.realm.realmId, 0));
      if (notification === null) return { kind: "contended" };
      const outcome = await this.writes.load({ organizationId, vlobId, userId, facts, grant, write, notification });
      if ("error" in outcome) {
        if (!isRetryable(outcome.error)) throw outcome.error;
        continue;
      }
      if (outcome.written) return { kind: "written" };
    }
    return { kind: "contended" };
  }

  async getForUpdate(tx: Tx, organizationId: OrganizationID, vlobId: VlobID, userId: UserID): Promise<{ readonly realm: RealmAccess; readonly head: VlobHead } | null> {
    const connection = this.uow.connectionOf(tx);
    // One statement for the common case, a writer who has (or had) a role: the rows it reads are the rows it locks —
    // realm (`write`: one writer per realm, role changes and maintenance wait), vlob, member row, in that order — so
    // that a statement that waited for one of them re-reads them all.
    const member = await connection.maybeOne(sql.type(FOR_UPDATE_ROW)`
      SELECT ${accessColumns}, v.head_version AS version, v.head_timestamp AS timestamp
      FROM realm r
      JOIN vlob v ON v.realm = r._id
      JOIN realm_member m ON m.realm = r._id AND m.user_id = ${userId}
      WHERE v.organization = ${orgKey(organizationId)} AND v.vlob_id = ${vlobId}
      FOR NO KEY UPDATE OF r, v FOR SHARE OF m`);
    if (member) return { realm: accessFrom(member), head: { version: member.version, timestamp: dt(member.timestamp) } };
    // Unknown vlob, or a writer who never had a role: lock, then read (a statement that waited for a lock would still
    // read the other tables' rows as of its own start).
    const locked = await connection.maybeOne(sql.type(LOCKED_ROW)`
      SELECT r._id AS realm, v._id AS vlob FROM realm r JOIN vlob v ON v.realm = r._id
      WHERE v.organization = ${orgKey(organizationId)} AND v.vlob_id = ${vlobId}
      FOR NO KEY UPDATE OF r, v`);
    if (!locked) return null;
    const row = await connection.one(sql.type(FOR_UPDATE_ROW)`
      SELECT ${accessColumns}, v.head_version AS version, v.head_timestamp AS timestamp
      FROM realm r
      JOIN vlob v ON v.realm = r._id
      LEFT JOIN realm_member m ON m.realm = r._id AND m.user_id = ${userId}
      WHERE v._id = ${locked.vlob}`);
    return { realm: accessFrom(row), head: { version: row.version, timestamp: dt(row.timestamp) } };
  }

  async create(
    tx: Tx,
    organizationId: OrganizationID,
    realmId: RealmID,
    vlobId: VlobID,
    encryptionRevision: number,
    atom: VlobAtom,
  ): Promise<number | "already_exists"> {
    const row = await this.uow.connectionOf(tx).maybeOne(sql.type(zCheckpoint)`
      WITH v AS (
        INSERT INTO vlob (organization, realm, vlob_id, encryption_revision, head_version, head_timestamp)
        SELECT r.organization, r._id, ${vlobId}, ${encryptionRevision}, 1, ${atom.timestamp.epochMicroseconds}
        FROM realm r WHERE r.organization = ${orgKey(organizationId)} AND r.realm_id = ${realmId}
        ON CONFLICT (organization, vlob_id) DO NOTHING
        RETURNING _id, realm
      ), atom AS (
        INSERT INTO vlob_atom (vlob, realm, version, blob, size, author, author_user_id, timestamp)
        SELECT v._id, v.realm, 1, ${bytes(atom.blob)}, ${atom.blob.length}, ${atom.author}, ${DeviceID.userId(atom.author)}, ${atom.timestamp.epochMicroseconds}
        FROM v
      ), cp AS (
        UPDATE realm SET checkpoint = checkpoint + 1 FROM v WHERE realm._id = v.realm RETURNING realm.checkpoint, v._id AS vlob, v.realm
      ), log AS (
        INSERT INTO realm_vlob_update (realm, index, vlob, version) SELECT realm, checkpoint, vlob, 1 FROM cp
      )
      SELECT checkpoint FROM cp`);
    return row ? row.checkpoint : "already_exists";
  }

  async append(tx: Tx, organizationId: OrganizationID, realmId: RealmID, vlobId: VlobID, version: number, atom: VlobAtom): Promise<number> {
    const row = await this.uow.connectionOf(tx).maybeOne(sql.type(zCheckpoint)`
      WITH v AS (
        SELECT v._id, v.realm FROM vlob v
        WHERE v.organization = ${orgKey(organizationId)} AND v.vlob_id = ${vlobId} AND v.realm = ${realmKeyOf(organizationId, realmId)}
      ), atom AS (
        INSERT INTO vlob_atom (vlob, realm, version, blob, size, author, author_user_id, timestamp)
        SELECT v._id, v.realm, ${version}, ${bytes(atom.blob)}, ${atom.blob.length}, ${atom.author}, ${DeviceID.userId(atom.author)}, ${atom.timestamp.epochMicroseconds}
        FROM v
      ), head AS (
        UPDATE vlob SET head_version = ${version}, head_timestamp = ${atom.timestamp.epochMicroseconds} FROM v WHERE vlob._id = v._id
      ), cp AS (
        UPDATE realm SET checkpoint = checkpoint + 1 FROM v WHERE realm._id = v.realm RETURNING realm.checkpoint, v._id AS vlob, v.realm
      ), log AS (
        INSERT INTO realm_vlob_update (realm, index, vlob, version) SELECT realm, checkpoint, vlob, ${version} FROM cp
      )
      SELECT checkpoint FROM cp`);
    if (!row) throw new Error(`PgVlobRepository.append: no vlob ${vlobId} in realm ${realmId}`);
    return row.checkpoint;
  }

  /** `vlob_read`s of every session, a batch per turn of the event loop: one query for all (see {@link Batcher}). */
  private readonly reads = new Batcher<ReadKey, VlobRead | null>(async (keys) => {
    const rows = await this.uow.connectionOf(null).any(sql.type(READ_ROW)`
      SELECT q.i, ${accessColumns}, sel.version, sel.blob, sel.author, sel.timestamp, am.granted_on AS author_granted_on
      FROM unnest(
        ${sql.array(keys.map((k) => k.organizationId), "text")}, ${sql.array(keys.map((k) => k.vlobId), "uuid")},
        ${sql.array(keys.map((k) => k.readerId), "text")}, ${sql.array(keys.map((k) => k.version), "int8")},
        ${sql.array(keys.map((k) => k.timestamp), "int8")}
      ) WITH ORDINALITY AS q (organization_id, vlob_id, reader, version, timestamp, i)
      JOIN organization o ON o.organization_id = q.organization_id
      CROSS JOIN LATERAL (SELECT _id, realm FROM vlob WHERE organization = o._id AND vlob_id = q.vlob_id OFFSET 0) v
      JOIN realm r ON r._id = v.realm
      LEFT JOIN LATERAL (SELECT role, granted_on FROM realm_member WHERE realm = r._id AND user_id = q.reader OFFSET 0) m ON true
      LEFT JOIN LATERAL (
        (SELECT version, blob, author, author_user_id, timestamp FROM vlob_atom
          WHERE vlob = v._id AND q.version IS NOT NULL AND version = q.version)
        UNION ALL
        (SELECT version, blob, author, author_user_id, timestamp FROM vlob_atom
          WHERE vlob = v._id AND q.version IS NULL AND (q.timestamp IS NULL OR timestamp <= q.timestamp)
          ORDER BY version DESC LIMIT 1)
      ) sel ON true
      LEFT JOIN LATERAL (SELECT granted_on FROM realm_member WHERE realm = r._id AND user_id = sel.author_user_id OFFSET 0) am ON true`);
    const results: (VlobRead | null)[] = keys.map(() => null);
    for (const row of rows) {
      const selected =
        row.version !== null && row.blob !== null && row.author !== null && row.timestamp !== null
          ? { version: row.version, blob: row.blob, author: asDeviceId(row.author), timestamp: dt(row.timestamp) }
          : null;
      results[row.i - 1] = { realm: accessFrom(row), selected, authorLastRoleGrantedOn: selected ? dtOrNull(row.author_granted_on) : null };
    }
    return results;
  });

  read(organizationId: OrganizationID, vlobId: VlobID, selector: VersionSelector, readerId: UserID): Promise<VlobRead | null> {
    return this.reads.load({
      organizationId,
      vlobId,
      readerId,
      version: selector.kind === "version" ? selector.version : null,
      timestamp: selector.kind === "timestamp" ? selector.timestamp.epochMicroseconds : null,
    });
  }

  async listVersions(
    organizationId: OrganizationID,
    vlobId: VlobID,
    readerId: UserID,
  ): Promise<{ readonly realm: RealmAccess; readonly versions: readonly VlobVersionInfo[] } | null> {
    const rows = await this.uow.connectionOf(null).any(sql.type(VERSIONS_ROW)`
      SELECT ${accessColumns}, a.version, a.timestamp, a.author
      FROM vlob v
      JOIN realm r ON r._id = v.realm
      LEFT JOIN realm_member m ON m.realm = r._id AND m.user_id = ${readerId}
      JOIN vlob_atom a ON a.vlob = v._id
      WHERE v.organization = ${orgKey(organizationId)} AND v.vlob_id = ${vlobId}
      ORDER BY a.version`);
    if (rows.length === 0) return null;
    return {
      realm: accessFrom(rows[0]!),
      versions: rows.map((r) => ({ version: r.version, timestamp: dt(r.timestamp), author: asDeviceId(r.author) })),
    };
  }

  async pollChanges(organizationId: OrganizationID, realmId: RealmID, lastCheckpoint: number): Promise<VlobChanges> {
    const rows = await this.uow.connectionOf(null).any(sql.type(CHANGES_ROW)`
      SELECT r.checkpoint, v.vlob_id::text AS vlob_id, max(u.version) AS version
      FROM realm r
      LEFT JOIN realm_vlob_update u ON u.realm = r._id AND u.index > ${lastCheckpoint}
      LEFT JOIN vlob v ON v._id = u.vlob
      WHERE r.organization = ${orgKey(organizationId)} AND r.realm_id = ${realmId}
      GROUP BY r.checkpoint, v.vlob_id`);
    const changes = new Map<VlobID, number>();
    for (const row of rows) if (row.vlob_id !== null && row.version !== null) changes.set(asVlobId(row.vlob_id), row.version);
    return { checkpoint: rows[0]?.checkpoint ?? 0, changes };
  }

  /** The realm's key if a re-encryption to `encryptionRevision` is under way, else null. */
  private async reencrypting(tx: Tx | undefined, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<number | null> {
    return this.uow.connectionOf(tx).maybeOneFirst(sql.type(zKey)`
      SELECT _id FROM realm WHERE organization = ${orgKey(organizationId)} AND realm_id = ${realmId} AND reencryption_revision = ${encryptionRevision}`);
  }

  async getReencryptionBatch(
    organizationId: OrganizationID,
    realmId: RealmID,
    encryptionRevision: number,
    size: number,
    tx?: Tx,
  ): Promise<readonly ReencryptionEntry[] | null> {
    const key = await this.reencrypting(tx, organizationId, realmId, encryptionRevision);
    if (key === null) return null;
    if (size <= 0) return [];
    const rows = await this.uow.connectionOf(tx).any(sql.type(BATCH_ROW)`
      SELECT v.vlob_id::text AS vlob_id, a.version, a.blob
      FROM vlob_reencryption s JOIN vlob_atom a ON a._id = s.atom JOIN vlob v ON v._id = a.vlob
      WHERE s.realm = ${key} AND s.encryption_revision = ${encryptionRevision} AND s.blob IS NULL
      ORDER BY v._id, a.version
      LIMIT ${size}`);
    return rows.map((r) => ({ vlobId: asVlobId(r.vlob_id), version: r.version, blob: r.blob }));
  }

  async saveReencryptionBatch(
    tx: Tx,
    organizationId: OrganizationID,
    realmId: RealmID,
    encryptionRevision: number,
    batch: readonly ReencryptionEntry[],
  ): Promise<ReencryptionProgress | null> {
    const key = await this.reencrypting(tx, organizationId, realmId, encryptionRevision);
    if (key === null) return null;
    const connection = this.uow.connectionOf(tx);
    // The first entry of a (vlob, version) wins, as does a blob already saved.
    const seen = new Set<string>();
    for (const entry of batch) {
      const id = `${entry.vlobId}:${entry.version}`;
      if (seen.has(id)) continue;
      seen.add(id);
      await connection.query(sql.unsafe`
        UPDATE vlob_reencryption s SET blob = ${bytes(entry.blob)}
        FROM vlob_atom a JOIN vlob v ON v._id = a.vlob
        WHERE s.atom = a._id AND s.realm = ${key} AND s.encryption_revision = ${encryptionRevision} AND s.blob IS NULL
          AND v.vlob_id = ${entry.vlobId} AND a.version = ${entry.version}`);
    }
    return connection.one(sql.type(PROGRESS_ROW)`
      SELECT count(*) AS total, count(blob) AS done FROM vlob_reencryption WHERE realm = ${key} AND encryption_revision = ${encryptionRevision}`);
  }

  async lastWriteBy(organizationId: OrganizationID, realmId: RealmID, userId: UserID, tx?: Tx): Promise<DateTime | null> {
    const last = await this.uow.connectionOf(tx).oneFirst(sql.type(LAST_WRITE_ROW)`
      SELECT max(timestamp) AS last FROM vlob_atom WHERE realm = ${realmKeyOf(organizationId, realmId)} AND author_user_id = ${userId}`);
    return dtOrNull(last);
  }

  async startReencryption(tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<void> {
    const connection = this.uow.connectionOf(tx);
    const key = await connection.oneFirst(sql.type(zKey)`
      UPDATE realm SET reencryption_revision = ${encryptionRevision}
      WHERE organization = ${orgKey(organizationId)} AND realm_id = ${realmId} RETURNING _id`);
    await connection.query(sql.unsafe`DELETE FROM vlob_reencryption WHERE realm = ${key}`);
    await connection.query(sql.unsafe`
      INSERT INTO vlob_reencryption (realm, encryption_revision, atom) SELECT ${key}, ${encryptionRevision}, a._id FROM vlob_atom a WHERE a.realm = ${key}`);
  }

  async finishReencryption(tx: Tx, organizationId: OrganizationID, realmId: RealmID, encryptionRevision: number): Promise<"ok" | "not_finished"> {
    const connection = this.uow.connectionOf(tx);
    const key = await this.reencrypting(tx, organizationId, realmId, encryptionRevision);
    if (key === null) {
      const hasVlobs = await connection.exists(sql.unsafe`SELECT 1 FROM vlob WHERE realm = ${realmKeyOf(organizationId, realmId)}`);
      if (!hasVlobs) return "ok";
      throw new Error(`PgVlobRepository.finishReencryption: no re-encryption to revision ${encryptionRevision} in realm ${realmId}`);
    }
    const pending = await connection.exists(sql.unsafe`
      SELECT 1 FROM vlob_reencryption WHERE realm = ${key} AND encryption_revision = ${encryptionRevision} AND blob IS NULL`);
    if (pending) return "not_finished";
    await connection.query(sql.unsafe`
      UPDATE vlob_atom a SET blob = s.blob, size = length(s.blob)
      FROM vlob_reencryption s WHERE s.atom = a._id AND s.realm = ${key} AND s.encryption_revision = ${encryptionRevision}`);
    await connection.query(sql.unsafe`UPDATE vlob SET encryption_revision = ${encryptionRevision} WHERE realm = ${key}`);
    await connection.query(sql.unsafe`DELETE FROM vlob_reencryption WHERE realm = ${key}`);
    await connection.query(sql.unsafe`UPDATE realm SET reencryption_revision = NULL WHERE _id = ${key}`);
    return "ok";
  }

  async realmSize(organizationId: OrganizationID, realmId: RealmID): Promise<number> {
    return this.uow
      .connectionOf(null)
      .oneFirst(sql.type(SIZE_ROW)`SELECT coalesce(sum(size), 0)::bigint AS n FROM vlob_atom WHERE realm = ${realmKeyOf(organizationId, realmId)}`);
  }

  async metadataSize(organizationId: OrganizationID, at: DateTime): Promise<number> {
    return this.uow.connectionOf(null).oneFirst(sql.type(SIZE_ROW)`
      SELECT coalesce(sum(a.size), 0)::bigint AS n FROM vlob_atom a JOIN realm r ON r._id = a.realm
      WHERE r.organization = ${orgKey(organizationId)} AND a.timestamp <= ${at.epochMicroseconds}`);
  }
}
