import { z } from "zod";
import type { InvitationRepository, Tx } from "../../../application/ports/index.js";
import type { InvitationToken, OrganizationID, UserID } from "../../../domain/ids.js";
import type { Conduit, ConduitState, Invitation, InvitationDeletedReason, InvitationStatus } from "../../../domain/invite/index.js";
import type { DateTime } from "../../../domain/time.js";
import { asToken, asUserId, bytesOrNull, dt, orgKey, sql, zBytes, zInt } from "./sql.js";
import type { PgUnitOfWork } from "./unit-of-work.js";

/** How long a server process counts as alive after its last heartbeat (see {@link PgProcessRegistry}). */
export const PROCESS_LIVENESS_SECONDS = 30;

const zInvitation = z.object({
  token: z.string(),
  type: z.enum(["USER", "DEVICE", "SHAMIR_RECOVERY"]),
  greeter_user_id: z.string(),
  greeter_email: z.string().nullable(),
  greeter_label: z.string().nullable(),
  claimer_email: z.string().nullable(),
  created_on: zInt,
  deleted_on: zInt.nullable(),
  deleted_reason: z.enum(["FINISHED", "CANCELLED", "ROTTEN"]).nullable(),
  status: z.enum(["IDLE", "READY", "DELETED"]),
});

/** The status of invitation `i`: DELETED, READY while a claimer connection of a live process is present, else IDLE. */
const statusOf = (liveness: number) => sql.fragment`CASE
  WHEN i.deleted_on IS NOT NULL THEN 'DELETED'
  WHEN EXISTS (
    SELECT 1 FROM invitation_presence p JOIN server_process s ON s._id = p.process
    WHERE p.invitation = i._id AND s.last_seen > now() - make_interval(secs => ${liveness})
  ) THEN 'READY'
  ELSE 'IDLE' END`;

const columns = (liveness: number) => sql.fragment`i.token::text AS token, i.type, i.greeter_user_id, i.greeter_email, i.greeter_label, i.claimer_email,
  i.created_on, i.deleted_on, i.deleted_reason, ${statusOf(liveness)} AS status`;

const invitationFrom = (r: z.infer<typeof zInvitation>): Invitation => ({
  token: asToken(r.token),
  type: r.type,
  greeterUserId: asUserId(r.greeter_user_id),
  greeterHumanHandle: r.greeter_email !== null && r.greeter_label !== null ? { email: r.greeter_email, label: r.greeter_label } : null,
  claimerEmail: r.claimer_email,
  createdOn: dt(r.created_on),
  status: r.status,
  deleted: r.deleted_on !== null && r.deleted_reason !== null ? { on: dt(r.deleted_on), reason: r.deleted_reason } : null,
});

const zState = z.enum(["1_WAIT_PEERS", "2_1_CLAIMER_HASHED_NONCE", "2_2_GREETER_NONCE", "2_3_CLAIMER_NONCE", "3_1_CLAIMER_TRUST", "3_2_GREETER_TRUST", "4_COMMUNICATE"]);
const zConduit = z.object({
  conduit_state: zState,
  conduit_greeter_payload: zBytes.nullable(),
  conduit_claimer_payload: zBytes.nullable(),
  conduit_generation: zInt,
  conduit_last_state: zState.nullable(),
  conduit_last_greeter_payload: zBytes.nullable(),
  conduit_last_claimer_payload: zBytes.nullable(),
});

/** Row schemas of the queries below, built once (a zod schema is costly to build). */
const ID_ROW = z.object({ _id: zInt });
const STATUS_ROW = zInvitation.pick({ status: true });

/**
 * {@link InvitationRepository} on PostgreSQL (`invitation`, `invitation_presence`). The conduit lives in the invitation
 * row and is read under its row lock (`FOR UPDATE`), so greeter and claimer may be served by different server
 * processes. `createOrReuse` relies on the unique index of active invitations per greeter, type and claimer email.
 * Presence rows belong to this server process (`processId`, registered by {@link PgProcessRegistry}); the ones of a
 * process that stopped heartbeating no longer count.
 */
export class PgInvitationRepository implements InvitationRepository {
  constructor(
    private readonly uow: PgUnitOfWork,
    private readonly processId: string,
    private readonly livenessSeconds: number = PROCESS_LIVENESS_SECONDS,
  ) {}

  async get(organizationId: OrganizationID, token: InvitationToken, tx?: Tx): Promise<Invitation | null> {
    const row = await this.uow.connectionOf(tx).maybeOne(sql.type(zInvitation)`
      SELECT ${columns(this.livenessSeconds)} FROM invitation i
      WHERE i.organization = ${orgKey(organizationId)} AND i.token = ${token}
      ${tx ? sql.fragment`FOR UPDATE OF i` : sql.fragment``}`);
    return row ? invitationFrom(row) : null;
  }

  async createOrReuse(tx: Tx, organizationId: OrganizationID, invitation: Invitation): Promise<{ readonly created: boolean; readonly invitation: Invitation }> {
    const connection = this.uow.connectionOf(tx);
    const handle = invitation.greeterHumanHandle ?? null;
    const inserted = await connection.maybeOne(sql.type(ID_ROW)`
      INSERT INTO invitation (organization, token, type, greeter_user_id, greeter_email, greeter_label, claimer_email, created_on)
      VALUES (${orgKey(organizationId)}, ${invitation.token}, ${invitation.type}, ${invitation.greeterUserId}, ${handle?.email ?? null},
        ${handle?.label ?? null}, ${invitation.claimerEmail}, ${invitation.createdOn.epochMicroseconds})
      ON CONFLICT DO NOTHING
      RETURNING _id`);
    if (inserted) return { created: true, invitation: { ...invitation, greeterHumanHandle: handle, status: "IDLE", deleted: null } };
    const existing = await connection.maybeOne(sql.type(zInvitation)`
      SELECT ${columns(this.livenessSeconds)} FROM invitation i
      WHERE i.organization = ${orgKey(organizationId)} AND i.greeter_user_id = ${invitation.greeterUserId} AND i.type = ${invitation.type}
        AND coalesce(i.claimer_email, '') = ${invitation.claimerEmail ?? ""} AND i.deleted_on IS NULL`);
    if (!existing) throw new Error(`invitation token ${invitation.token} already used in ${organizationId}`);
    return { created: false, invitation: invitationFrom(existing) };
  }

  async markDeleted(tx: Tx, organizationId: OrganizationID, token: InvitationToken, on: DateTime, reason: InvitationDeletedReason): Promise<void> {
    await this.uow.connectionOf(tx).query(sql.unsafe`
      UPDATE invitation SET deleted_on = ${on.epochMicroseconds}, deleted_reason = ${reason}
      WHERE organization = ${orgKey(organizationId)} AND token = ${token}`);
  }

  async listActive(organizationId: OrganizationID, greeter: UserID): Promise<readonly Invitation[]> {
    const rows = await this.uow.connectionOf(null).any(sql.type(zInvitation)`
      SELECT ${columns(this.livenessSeconds)} FROM invitation i
      WHERE i.organization = ${orgKey(organizationId)} AND i.greeter_user_id = ${greeter} AND i.deleted_on IS NULL
      ORDER BY i.created_on, i._id`);
    return rows.map(invitationFrom);
  }

  async getConduit(tx: Tx, organizationId: OrganizationID, token: InvitationToken): Promise<Conduit> {
    const row = await this.uow.connectionOf(tx).one(sql.type(zConduit)`
      SELECT conduit_state, conduit_greeter_payload, conduit_claimer_payload, conduit_generation, conduit_last_state,
        conduit_last_greeter_payload, conduit_last_claimer_payload
      FROM invitation
      WHERE organization = ${orgKey(organizationId)} AND token = ${token}
      FOR UPDATE`);
    return {
      state: row.conduit_state as ConduitState,
      greeterPayload: row.conduit_greeter_payload,
      claimerPayload: row.conduit_claimer_payload,
      generation: row.conduit_generation,
      last:
        row.conduit_last_state !== null && row.conduit_last_greeter_payload !== null && row.conduit_last_claimer_payload !== null
          ? { state: row.conduit_last_state, greeterPayload: row.conduit_last_greeter_payload, claimerPayload: row.conduit_last_claimer_payload }
          : null,
    };
  }

  async saveConduit(tx: Tx, organizationId: OrganizationID, token: InvitationToken, conduit: Conduit): Promise<void> {
    await this.uow.connectionOf(tx).query(sql.unsafe`
      UPDATE invitation SET conduit_state = ${conduit.state}, conduit_greeter_payload = ${bytesOrNull(conduit.greeterPayload)},
        conduit_claimer_payload = ${bytesOrNull(conduit.claimerPayload)}, conduit_generation = ${conduit.generation},
        conduit_last_state = ${conduit.last?.state ?? null}, conduit_last_greeter_payload = ${bytesOrNull(conduit.last?.greeterPayload ?? null)},
        conduit_last_claimer_payload = ${bytesOrNull(conduit.last?.claimerPayload ?? null)}
      WHERE organization = ${orgKey(organizationId)} AND token = ${token}`);
  }

  async setClaimerPresence(tx: Tx, organizationId: OrganizationID, token: InvitationToken, connectionId: string, present: boolean): Promise<InvitationStatus> {
    const connection = this.uow.connectionOf(tx);
    const invitation = sql.fragment`(SELECT _id FROM invitation WHERE organization = ${orgKey(organizationId)} AND token = ${token})`;
    const process = sql.fragment`(SELECT _id FROM server_process WHERE process_id = ${this.processId})`;
    if (present)
      await connection.query(sql.unsafe`
        INSERT INTO invitation_presence (invitation, process, connection_id) VALUES (${invitation}, ${process}, ${connectionId})
        ON CONFLICT DO NOTHING`);
    else
      await connection.query(sql.unsafe`
        DELETE FROM invitation_presence WHERE invitation = ${invitation} AND process = ${process} AND connection_id = ${connectionId}`);
    const row = await connection.one(sql.type(STATUS_ROW)`
      SELECT ${statusOf(this.livenessSeconds)} AS status FROM invitation i WHERE i.organization = ${orgKey(organizationId)} AND i.token = ${token}`);
    return row.status;
  }
}

/**
 * This server process's row in `server_process`: registered at start, its `last_seen` refreshed every
 * `heartbeatSeconds` (PostgreSQL's clock), and the rows of processes silent for `expireSeconds` deleted (with their
 * claimer presence). A process that could not heartbeat for a while (database away) registers itself again.
 */
export class PgProcessRegistry {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly uow: PgUnitOfWork,
    readonly processId: string,
    private readonly options: { readonly heartbeatSeconds?: number; readonly expireSeconds?: number; readonly onError?: (err: unknown) => void } = {},
  ) {}

  /** Registers the process (and cleans up dead ones), then heartbeats until {@link stop}. */
  async start(): Promise<void> {
    await this.beat();
    const every = (this.options.heartbeatSeconds ?? 10) * 1000;
    this.timer = setInterval(() => void this.beat().catch((err: unknown) => this.options.onError?.(err)), every);
    this.timer.unref();
  }

  /** Stops heartbeating and removes this process's row and presence. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.uow.connectionOf(null).query(sql.unsafe`DELETE FROM server_process WHERE process_id = ${this.processId}`);
  }

  private async beat(): Promise<void> {
    const connection = this.uow.connectionOf(null);
    await connection.query(sql.unsafe`
      INSERT INTO server_process (process_id) VALUES (${this.processId})
      ON CONFLICT (process_id) DO UPDATE SET last_seen = now()`);
    await connection.query(sql.unsafe`
      DELETE FROM server_process WHERE last_seen < now() - make_interval(secs => ${this.options.expireSeconds ?? 120})`);
  }
}
