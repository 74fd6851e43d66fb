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
const NOTIFIED_ROW = z.object({ checkpoint: zInt, notified: z.boolean() });

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
 * that statement runs and commits, not across the round trips of a transaction. Reads (`read`, `listVersions`, `pollChanges`)
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
      const grant = facts.realm.lastGrant;
      // A write needs a role; without a grant row to lock, let the locked path decide.
      if (grant === null || grant.role === null) return { kind: "contended" };
      const notification = notifications.notificationAroundCheckpoint(write.event(facts.realm.realmId, 0));
      if (notification === null) return { kind: "contended" };
      const maintenance = facts.realm.maintenance;
      let written: { checkpoint: number } | null;
      try {
        // One statement, so one transaction committed with it: it locks the rows the check read (realm, vlob, grant,
        // in the documented order), and writes only if they still hold what it saw; a statement that waited for a
        // lock re-checks the locked rows' new versions.
        written = await this.uow.connectionOf(null).maybeOne(sql.type(NOTIFIED_ROW)`
          WITH l AS (
            SELECT r._id AS realm, v._id AS vlob
            FROM realm r
            JOIN vlob v ON v.realm = r._id
            JOIN realm_member m ON m.realm = r._id AND m.user_id = ${userId}
            WHERE v.organization = ${orgKey(organizationId)} AND v.vlob_id = ${vlobId}
              AND v.head_version = ${facts.head.version} AND v.head_timestamp = ${facts.head.timestamp.epochMicroseconds}
              AND r.encryption_revision = ${facts.realm.encryptionRevision}
              AND r.maintenance_type IS NOT DISTINCT FROM ${maintenance?.type ?? null}::text
              AND r.maintenance_started_by IS NOT DISTINCT FROM ${maintenance?.startedBy ?? null}::text
              AND r.maintenance_started_on IS NOT DISTINCT FROM ${maintenance?.startedOn.epochMicroseconds ?? null}::bigint
              AND m.role = ${grant.role} AND m.granted_on = ${grant.grantedOn.epochMicroseconds}
            FOR NO KEY UPDATE OF r, v FOR SHARE OF m
          ), atom AS (
            INSERT INTO vlob_atom (vlob, realm, version, blob, size, author, author_user_id, timestamp)
            SELECT l.vlob, l.realm, ${write.version}, ${bytes(write.atom.blob)}, ${write.atom.blob.length}, ${write.atom.author},
              ${DeviceID.userId(write.atom.author)}, ${write.atom.timestamp.epochMicroseconds}
            FROM l
          ), head AS (
            UPDATE vlob SET head_version = ${write.version}, head_timestamp = ${write.atom.timestamp.epochMicroseconds} FROM l WHERE vlob._id = l.vlob
          ), cp AS (
            UPDATE realm SET checkpoint = checkpoint + 1 FROM l WHERE realm._id = l.realm RETURNING realm.checkpoint, l.vlob, l.realm
          ), log AS (
            INSERT INTO realm_vlob_update (realm, index, vlob, version) SELECT realm, checkpoint, vlob, ${write.version} FROM cp
          )
          SELECT checkpoint, pg_notify(${notification.channel}, ${notification.before} || checkpoint::text || ${notification.after}) IS NULL AS notified
          FROM cp`);
      } catch (err) {
        if (!isRetryable(err)) throw err;
        continue;
      }
      if (written !== null) return { kind: "written" };
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
