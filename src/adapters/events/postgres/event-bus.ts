import type { BackendEvent, EventBus, EventSubscriber, Tx, Unsubscribe } from "../../../application/ports/index.js";
import type { OrganizationID } from "../../../domain/ids.js";
import { ListenConnection } from "./listen-connection.js";
import {
  decodeNotification,
  decodeStoredEvent,
  encodeInline,
  encodeInlineAroundCheckpoint,
  encodeStoredEvent,
  encodeStoredReference,
  MAX_INLINE_NOTIFICATION_BYTES,
} from "./notification.js";

/** Subscriptions called between two yields to the event loop (see `forEach`). */
const DELIVERY_SLICE = 64;

/** The channel every server process NOTIFYs and LISTENs on. */
export const EVENT_CHANNEL = "parsec_events";

/**
 * Runs one SQL statement: on a transaction's connection, or on a pool. `text` has `$1`… placeholders bound to
 * `values` (strings and numbers, here); resolves with the rows as objects keyed by column name, rejects on any failure.
 * A `pg` `Pool` or `PoolClient` is one as it is; a slonik connection needs a wrapper that builds a query token from
 * `text` and `values`.
 */
export interface Executor {
  query(text: string, values: readonly unknown[]): Promise<{ readonly rows: readonly unknown[] }>;
}

/** Tunables of {@link PostgresEventBus}; every duration in milliseconds. */
export interface PostgresEventBusOptions {
  /** Waits before successive reconnection attempts of the LISTEN connection; the last repeats. Default 100, 500, 1000, 2000, 5000. */
  readonly reconnectDelaysMs?: readonly number[];
  /** Pause between keepalive queries on the LISTEN connection. Default 5000. */
  readonly keepaliveIntervalMs?: number;
  /** A keepalive query unanswered within this means the LISTEN connection is lost. Default 5000. */
  readonly keepaliveTimeoutMs?: number;
  /** Longest wait to establish the LISTEN connection. Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Longest wait for the LISTEN connection to end gracefully at {@link PostgresEventBus.close}. Default 2000. */
  readonly closeTimeoutMs?: number;
  /** Age after which a row of `event_payload` is deleted. Default 600000 (10 min). */
  readonly payloadRetentionMs?: number;
  /** Pause between two deletions of old `event_payload` rows. Default 60000. */
  readonly payloadCleanupIntervalMs?: number;
}

/** What {@link PostgresEventBus} needs from the composition root. */
export interface PostgresEventBusDeps {
  /** `postgresql://` URL of the database, for the dedicated LISTEN connection (the same database as `executorOf`'s). */
  readonly listenUrl: string;
  /**
   * The executor of a transaction handed out by the persistence adapter's unit of work (its connection, so that a
   * NOTIFY is part of it), or of the pool for `null`.
   */
  readonly executorOf: (tx: Tx | null) => Executor;
  /**
   * This server process's id (random, new at every start): 1 to 49 characters among `A-Z a-z 0-9 _ -`. Names the
   * LISTEN connection in `pg_stat_activity` ({@link listenApplicationName}) and makes every notification unique.
   */
  readonly processId: string;
  /** Reports what goes wrong outside any caller: lost connection, garbage notification, throwing subscriber… */
  readonly onError: (message: string, context: Record<string, unknown>) => void;
  readonly options?: PostgresEventBusOptions;
}

const DEFAULTS: Required<PostgresEventBusOptions> = {
  reconnectDelaysMs: [100, 500, 1_000, 2_000, 5_000],
  keepaliveIntervalMs: 5_000,
  keepaliveTimeoutMs: 5_000,
  connectTimeoutMs: 10_000,
  closeTimeoutMs: 2_000,
  payloadRetentionMs: 600_000,
  payloadCleanupIntervalMs: 60_000,
};

const PROCESS_ID = /^[A-Za-z0-9_-]{1,49}$/;

/** `application_name` of the LISTEN connection of process `processId` (`parsec-listen-<processId>`). */
export const listenApplicationName = (processId: string): string => `parsec-listen-${processId}`;

const NOTIFY = "SELECT pg_notify($1, $2)";
const NOTIFY_STORED =
  "WITH stored AS (INSERT INTO event_payload (payload) VALUES ($2) RETURNING id) SELECT pg_notify($1, $3 || stored.id::text || $4) FROM stored";
const FETCH_STORED = "SELECT payload FROM event_payload WHERE id = $1::bigint";
const DELETE_OLD = "DELETE FROM event_payload WHERE created_on < now() - make_interval(secs => $1::double precision)";

const clip = (text: string, max = 200): string => (text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text);

const validate = (deps: PostgresEventBusDeps): Required<PostgresEventBusOptions> => {
  if (!PROCESS_ID.test(deps.processId)) throw new RangeError(`processId must match ${PROCESS_ID}`);
  const given = Object.fromEntries(Object.entries(deps.options ?? {}).filter(([, value]) => value !== undefined));
  const options: Required<PostgresEventBusOptions> = { ...DEFAULTS, ...given };
  const durations = [
    options.keepaliveIntervalMs,
    options.keepaliveTimeoutMs,
    options.connectTimeoutMs,
    options.closeTimeoutMs,
    options.payloadRetentionMs,
    options.payloadCleanupIntervalMs,
  ];
  if (durations.some((ms) => !Number.isFinite(ms) || ms <= 0)) throw new RangeError("every duration must be a positive number of ms");
  if (options.reconnectDelaysMs.length === 0 || options.reconnectDelaysMs.some((ms) => !Number.isFinite(ms) || ms < 0))
    throw new RangeError("reconnectDelaysMs must be a non-empty list of non-negative numbers of ms");
  try {
    new URL(deps.listenUrl);
  } catch {
    throw new RangeError("listenUrl is not a postgresql:// URL");
  }
  return options;
};

/** One subscription: its own identity, so that the same subscriber subscribed twice is two subscriptions. */
interface Subscription {
  readonly subscriber: EventSubscriber;
}

/**
 * {@link EventBus} shared by every server process on one PostgreSQL database, through LISTEN/NOTIFY on
 * {@link EVENT_CHANNEL}.
 *
 * - **Publishing** sends `pg_notify` through the executor of the transaction (or of the pool, for `publishNow`), so
 *   PostgreSQL delivers the notification only if that transaction commits. An event whose notification would exceed
 *   {@link MAX_INLINE_NOTIFICATION_BYTES} (a large `pinged`) is stored in `event_payload` by the same statement, and
 *   the notification carries the row id; rows are deleted after `payloadRetentionMs`. Every notification holds the
 *   process id and a per-process sequence number, so that two identical events of one transaction are two
 *   notifications (PostgreSQL folds identical payloads of a transaction into one).
 * - **Delivery** happens only through the process's one LISTEN connection — the process's own events included, never
 *   straight from `publish` — to the subscribers of the event's organization, asynchronously, one event at a time in
 *   the order PostgreSQL sends the notifications: the commit order of their transactions.
 * - **At most once**: an event is delivered once per subscription, or not at all when notifications are lost (the
 *   LISTEN connection was down, or a stored event could not be fetched). Every such loss is followed by `gap()`:
 *   for every subscription once LISTEN is reestablished, for the subscriptions of the organization for a stored event
 *   that could not be read. Undecodable notifications are reported through `onError` and skipped.
 * - **LISTEN connection**: TCP keepalive, plus a keepalive query every `keepaliveIntervalMs` answered within
 *   `keepaliveTimeoutMs` (a silent network cut is noticed within their sum); a lost connection is reported and
 *   reconnected with the backoff of `reconnectDelaysMs` until {@link close}. Publishing does not depend on it.
 *
 * Requires the table of `migrations/0002_events.sql`.
 */
export class PostgresEventBus implements EventBus {
  private readonly options: Required<PostgresEventBusOptions>;
  private readonly listen: ListenConnection;
  private readonly subscriptions = new Map<OrganizationID, Set<Subscription>>();
  private sequence = 0;
  /** Deliveries, one after the other in notification order (a stored event is fetched before the next is delivered). */
  private deliveries: Promise<void> = Promise.resolve();
  private cleanupTimer: NodeJS.Timeout | null = null;
  private cleaning = false;
  private started: Promise<void> | null = null;
  /** Set by {@link close}: the bus is closed. */
  private closed: Promise<void> | null = null;

  /** Checks `deps` (a bad process id or option throws a `RangeError`); connects nothing before {@link start}. */
  constructor(private readonly deps: PostgresEventBusDeps) {
    this.options = validate(deps);
    this.listen = new ListenConnection({
      url: deps.listenUrl,
      channel: EVENT_CHANNEL,
      applicationName: listenApplicationName(deps.processId),
      timings: this.options,
      onNotification: (payload) => this.received(payload),
      onReestablished: () => this.enqueue(() => this.gapEverywhere()),
      onError: deps.onError,
    });
  }

  /**
   * Deletes the expired `event_payload` rows (which checks the table exists), then opens the LISTEN connection.
   * Resolves once LISTEN is established; rejects with an explanatory error when the database is unreachable or
   * `event_payload` is missing (the bus is then closed). Calling it again returns the same promise; once closed,
   * a rejected one.
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("PostgresEventBus: closed"));
    this.started ??= this.startOnce();
    return this.started;
  }

  private async startOnce(): Promise<void> {
    try {
      await this.deleteExpiredPayloads();
    } catch (err) {
      await this.close();
      throw new Error(
        `PostgresEventBus: cannot delete expired rows of event_payload (is PostgreSQL reachable, and migrations/0002_events.sql applied?): ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    if (this.closed) throw new Error("PostgresEventBus: closed while starting");
    try {
      await this.listen.start();
    } catch (err) {
      await this.close();
      throw err;
    }
    if (this.closed) throw new Error("PostgresEventBus: closed while starting");
    this.cleanupTimer = setInterval(() => void this.cleanup(), this.options.payloadCleanupIntervalMs);
  }

  /**
   * Stops delivering, closes the LISTEN connection and stops the cleanup; idempotent. Resolves once no socket or
   * timer of the bus is left. Publishing keeps working afterwards (it only needs `executorOf`).
   */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = null;
    this.subscriptions.clear();
    this.closed = this.listen.close();
    return this.closed;
  }

  /** Sends the event's notification on `tx`'s connection: delivered everywhere once `tx` commits. */
  publish(tx: Tx, event: BackendEvent): Promise<void> {
    return this.notify(this.deps.executorOf(tx), event);
  }

  /** Sends the event's notification on the pool, in a transaction of its own. */
  publishNow(event: BackendEvent): Promise<void> {
    return this.notify(this.deps.executorOf(null), event);
  }

  /** Subscribes to the events of `organizationId` received from now on. */
  subscribe(organizationId: OrganizationID, subscriber: EventSubscriber): Unsubscribe {
    const subscription: Subscription = { subscriber };
    let subscriptions = this.subscriptions.get(organizationId);
    if (!subscriptions) {
      subscriptions = new Set();
      this.subscriptions.set(organizationId, subscriptions);
    }
    subscriptions.add(subscription);
    return () => {
      const current = this.subscriptions.get(organizationId);
      if (!current?.delete(subscription)) return;
      if (current.size === 0) this.subscriptions.delete(organizationId);
    };
  }

  /**
   * The notification of `event` for a statement that assigns its checkpoint and notifies itself (the PostgreSQL vlob
   * repository's one-statement `vlob_update`): `pg_notify(channel, before || checkpoint || after)` delivers it as
   * {@link publish} would. Null when it could not go inline (then publish it with {@link publish}).
   */
  notificationAroundCheckpoint(
    event: Extract<BackendEvent, { type: "realm.vlobs_updated" }>,
  ): { readonly channel: string; readonly before: string; readonly after: string } | null {
    const split = encodeInlineAroundCheckpoint(this.deps.processId, this.sequence++, event);
    return split && { channel: EVENT_CHANNEL, ...split };
  }

  private async notify(executor: Executor, event: BackendEvent): Promise<void> {
    const sequence = this.sequence++;
    const inline = encodeInline(this.deps.processId, sequence, event);
    if (inline.length <= MAX_INLINE_NOTIFICATION_BYTES) {
      await executor.query(NOTIFY, [EVENT_CHANNEL, inline]);
      return;
    }
    const { before, after } = encodeStoredReference(this.deps.processId, sequence, event.organizationId);
    await executor.query(NOTIFY_STORED, [EVENT_CHANNEL, encodeStoredEvent(event), before, after]);
  }

  private received(payload: string): void {
    const notification = decodeNotification(payload);
    if (!notification.ok) {
      this.deps.onError("Malformed event notification skipped", { reason: notification.error, payload: clip(payload) });
      return;
    }
    const n = notification.value;
    if (n.kind === "inline") {
      this.enqueue(() => this.deliver(n.event));
      return;
    }
    this.enqueue(async () => {
      if (!this.subscriptions.has(n.organizationId)) return;
      const event = await this.fetchStored(n.payloadId);
      if (event.ok && event.value.organizationId === n.organizationId) await this.deliver(event.value);
      else {
        this.deps.onError("Stored event lost", {
          reason: event.ok ? "organization differs from its notification's" : event.error,
          payload_id: n.payloadId,
          organization_id: n.organizationId,
          process_id: n.processId,
        });
        await this.gapIn(n.organizationId);
      }
    });
  }

  private async fetchStored(payloadId: string): Promise<{ ok: true; value: BackendEvent } | { ok: false; error: string }> {
    let rows: readonly unknown[];
    try {
      ({ rows } = await this.deps.executorOf(null).query(FETCH_STORED, [payloadId]));
    } catch (err) {
      return { ok: false, error: `cannot read event_payload: ${err instanceof Error ? err.message : String(err)}` };
    }
    const row = rows[0] as { payload?: unknown } | undefined;
    if (!row) return { ok: false, error: "row missing from event_payload (expired?)" };
    if (typeof row.payload !== "string") return { ok: false, error: "event_payload row without a text payload" };
    return decodeStoredEvent(row.payload);
  }

  private enqueue(task: () => Promise<void>): void {
    this.deliveries = this.deliveries.then(task).catch((err: unknown) => this.deps.onError("Event delivery failed", { err }));
  }

  private deliver(event: BackendEvent): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.forEach(event.organizationId, (subscriber) => subscriber.event(event), event.type);
  }

  private gapIn(organizationId: OrganizationID): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.forEach(organizationId, (subscriber) => subscriber.gap?.(), "gap");
  }

  private async gapEverywhere(): Promise<void> {
    for (const organizationId of [...this.subscriptions.keys()]) await this.gapIn(organizationId);
  }

  /**
   * Calls every subscription of `organizationId` present now and still present when its turn comes, yielding to
   * the event loop every {@link DELIVERY_SLICE} subscriptions: what each call sets off (an `events_listen` reply)
   * then runs, and other I/O — the replies of the writes themselves — is not held up behind thousands of deliveries.
   */
  private async forEach(organizationId: OrganizationID, call: (subscriber: EventSubscriber) => void, what: string): Promise<void> {
    const subscriptions = this.subscriptions.get(organizationId);
    if (!subscriptions) return;
    let done = 0;
    for (const subscription of [...subscriptions]) {
      if (!subscriptions.has(subscription)) continue;
      try {
        call(subscription.subscriber);
      } catch (err) {
        this.deps.onError("Event subscriber threw", { err, organization_id: organizationId, event_type: what });
      }
      if (++done % DELIVERY_SLICE === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        if (this.closed) return;
      }
    }
  }

  private async cleanup(): Promise<void> {
    if (this.cleaning || this.closed) return;
    this.cleaning = true;
    try {
      await this.deleteExpiredPayloads();
    } catch (err) {
      this.deps.onError("Deleting expired event_payload rows failed", { err });
    } finally {
      this.cleaning = false;
    }
  }

  private async deleteExpiredPayloads(): Promise<void> {
    await this.deps.executorOf(null).query(DELETE_OLD, [this.options.payloadRetentionMs / 1_000]);
  }
}
