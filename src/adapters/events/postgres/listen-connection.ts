import { Socket } from "node:net";
import pg from "pg";

/** Timings of a {@link ListenConnection}, in milliseconds. */
export interface ListenTimings {
  /** Waits before successive reconnection attempts; the last one repeats until a reconnection succeeds. */
  readonly reconnectDelaysMs: readonly number[];
  /** Pause between two keepalive queries on a healthy connection. */
  readonly keepaliveIntervalMs: number;
  /** A keepalive query (or the LISTEN command) not answered within this is a lost connection. */
  readonly keepaliveTimeoutMs: number;
  /** Longest wait for a connection to be established (TCP, TLS, authentication). */
  readonly connectTimeoutMs: number;
  /** Longest wait for a graceful disconnection at {@link ListenConnection.close} before the socket is destroyed. */
  readonly closeTimeoutMs: number;
}

/** What a {@link ListenConnection} needs. */
export interface ListenConnectionOptions {
  /** `postgresql://` URL of the database. */
  readonly url: string;
  /** The channel to LISTEN on (an SQL identifier, quoted here). */
  readonly channel: string;
  /** `application_name` of the connection (visible in `pg_stat_activity`). */
  readonly applicationName: string;
  readonly timings: ListenTimings;
  /** Receives the payload of every notification of the channel, in the order PostgreSQL sends them. */
  readonly onNotification: (payload: string) => void;
  /**
   * LISTEN is established again after a loss. Called before the first notification received on the new
   * connection is handed to `onNotification`.
   */
  readonly onReestablished: () => void;
  /** Reports a lost connection or a failed reconnection attempt (the connection keeps trying). */
  readonly onError: (message: string, context: Record<string, unknown>) => void;
}

/** One connection, from its first byte to its loss or its end. */
class Attempt {
  readonly client: pg.Client;
  socket: Socket | null = null;
  /** LISTEN succeeded: a loss from now on means reconnecting. */
  established = false;
  /** Notifications are handed over (else kept in `held` until the caller has signalled the reestablishment). */
  delivering = false;
  readonly held: string[] = [];
  /** The keepalive pause, or the deadline of the query in flight. */
  timer: NodeJS.Timeout | null = null;

  constructor(config: Omit<pg.ClientConfig, "stream">) {
    this.client = new pg.Client({ ...config, stream: () => (this.socket = new Socket()) });
  }
}

type State = "new" | "starting" | "running" | "closed";

/** `host:port/database` of a URL, for messages (never the credentials). */
export const describeTarget = (url: string): string => {
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}:${u.port || "5432"}${u.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
};

/** The `sslmode` values node-postgres treats as `verify-full` (and warns about, at the first connection). */
const VERIFY_FULL_ALIASES = new Set(["prefer", "require", "verify-ca"]);

/**
 * The URL the LISTEN connection opens: `url` with its `application_name`, and an `sslmode` node-postgres treats as an
 * alias of `verify-full` written `verify-full` — the same connection (certificate and host name verified), without
 * the multi-line "SECURITY WARNING … treated as aliases for 'verify-full'" node-postgres prints otherwise.
 */
export const listenConnectionUrl = (url: string, applicationName: string): string => {
  const u = new URL(url);
  u.searchParams.set("application_name", applicationName);
  const sslmode = u.searchParams.get("sslmode");
  if (sslmode !== null && VERIFY_FULL_ALIASES.has(sslmode)) u.searchParams.set("sslmode", "verify-full");
  return u.toString();
};

const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * One PostgreSQL connection that LISTENs on a channel, for as long as it is open: a loss (server error, end of the
 * connection, keepalive query unanswered within {@link ListenTimings.keepaliveTimeoutMs}) is reported and followed by
 * reconnection attempts, with the delays of {@link ListenTimings.reconnectDelaysMs}, until one succeeds or
 * {@link close} is called. TCP keepalive is on as well.
 */
export class ListenConnection {
  private state: State = "new";
  private current: Attempt | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private failedAttempts = 0;
  private closing: Promise<void> = Promise.resolve();
  private readonly connectUrl: string;

  constructor(private readonly options: ListenConnectionOptions) {
    this.connectUrl = listenConnectionUrl(options.url, options.applicationName);
  }

  /**
   * Connects and LISTENs. Resolves once LISTEN is established; rejects (and the connection is closed) when the
   * database cannot be reached or refuses, or when {@link close} is called meanwhile. Call once.
   */
  async start(): Promise<void> {
    if (this.state !== "new") throw new Error(this.state === "closed" ? "ListenConnection closed before it started" : "ListenConnection.start called twice");
    this.state = "starting";
    let attempt: Attempt;
    try {
      attempt = await this.connect();
    } catch (err) {
      this.state = "closed";
      throw new Error(`Cannot LISTEN on PostgreSQL ${describeTarget(this.options.url)}: ${messageOf(err)}`, { cause: err });
    }
    this.state = "running";
    this.deliverFrom(attempt);
  }

  /** Disconnects and stops reconnecting; idempotent. Resolves once the socket is closed and no timer is left. */
  close(): Promise<void> {
    if (this.state === "closed") return this.closing;
    this.state = "closed";
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const attempt = this.current;
    this.current = null;
    this.closing = attempt ? this.disconnect(attempt) : Promise.resolve();
    return this.closing;
  }

  /** A new connection with LISTEN established (notifications held), or a rejection with the connection discarded. */
  private async connect(): Promise<Attempt> {
    const attempt = new Attempt({
      connectionString: this.connectUrl,
      keepAlive: true,
      keepAliveInitialDelayMillis: this.options.timings.keepaliveIntervalMs,
      connectionTimeoutMillis: this.options.timings.connectTimeoutMs,
    });
    const client = attempt.client;
    client.on("error", (err) => this.lost(attempt, "connection error", err));
    client.on("end", () => this.lost(attempt, "connection ended", null));
    client.on("notification", (message) => {
      if (this.current !== attempt || message.channel !== this.options.channel) return;
      const payload = message.payload ?? "";
      if (attempt.delivering) this.options.onNotification(payload);
      else attempt.held.push(payload);
    });
    this.current = attempt;
    try {
      await client.connect();
      this.assertCurrent(attempt);
      await this.withDeadline(attempt, client.query(`LISTEN ${quoteIdentifier(this.options.channel)}`), "LISTEN");
      this.assertCurrent(attempt);
    } catch (err) {
      if (this.current === attempt) this.current = null;
      this.discard(attempt);
      throw err;
    }
    attempt.established = true;
    this.scheduleKeepalive(attempt);
    return attempt;
  }

  private assertCurrent(attempt: Attempt): void {
    if (this.current !== attempt) throw new Error(this.state === "closed" ? "closed while connecting" : "connection lost while connecting");
  }

  /** Hands over the notifications held since LISTEN, then every next one as it comes. */
  private deliverFrom(attempt: Attempt): void {
    attempt.delivering = true;
    for (const payload of attempt.held.splice(0)) this.options.onNotification(payload);
  }

  /** Settles like `query`, or rejects when it takes longer than the keepalive timeout (a silent network cut). */
  private withDeadline<T>(attempt: Attempt, query: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} not answered within ${this.options.timings.keepaliveTimeoutMs} ms`)), this.options.timings.keepaliveTimeoutMs);
      attempt.timer = timer;
      query.then(
        (value) => {
          clearTimeout(timer);
          if (attempt.timer === timer) attempt.timer = null;
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          if (attempt.timer === timer) attempt.timer = null;
          reject(err);
        },
      );
    });
  }

  private scheduleKeepalive(attempt: Attempt): void {
    attempt.timer = setTimeout(() => {
      attempt.timer = null;
      this.withDeadline(attempt, attempt.client.query("SELECT 1"), "keepalive query").then(
        () => {
          if (this.current === attempt) this.scheduleKeepalive(attempt);
        },
        (err: unknown) => this.lost(attempt, "keepalive failed", err),
      );
    }, this.options.timings.keepaliveIntervalMs);
  }

  /** A loss of `attempt`: ignored unless it is the established connection (a connecting attempt fails by itself). */
  private lost(attempt: Attempt, reason: string, err: unknown): void {
    if (this.current !== attempt || !attempt.established || this.state !== "running") return;
    this.current = null;
    this.discard(attempt);
    this.options.onError("LISTEN connection to PostgreSQL lost; reconnecting", { reason, err, target: describeTarget(this.options.url) });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delays = this.options.timings.reconnectDelaysMs;
    const delay = delays[Math.min(this.failedAttempts, delays.length - 1)] ?? 0;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.reconnect();
    }, delay);
  }

  private async reconnect(): Promise<void> {
    if (this.state !== "running") return;
    let attempt: Attempt;
    try {
      attempt = await this.connect();
    } catch (err) {
      if (this.state !== "running") return;
      this.failedAttempts += 1;
      this.options.onError("LISTEN reconnection to PostgreSQL failed; retrying", {
        attempt: this.failedAttempts,
        err,
        target: describeTarget(this.options.url),
      });
      this.scheduleReconnect();
      return;
    }
    this.failedAttempts = 0;
    try {
      this.options.onReestablished();
    } catch (err) {
      this.options.onError("LISTEN reestablishment handler threw", { err });
    }
    this.deliverFrom(attempt);
  }

  /** Drops a connection that is lost or failed to start: no timer left, socket destroyed. */
  private discard(attempt: Attempt): void {
    if (attempt.timer) clearTimeout(attempt.timer);
    attempt.timer = null;
    attempt.socket?.destroy();
  }

  /** Ends a connection gracefully, within {@link ListenTimings.closeTimeoutMs}, then makes sure its socket is gone. */
  private async disconnect(attempt: Attempt): Promise<void> {
    if (attempt.timer) clearTimeout(attempt.timer);
    attempt.timer = null;
    if (attempt.established) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        attempt.client.end().catch(() => {}),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.timings.closeTimeoutMs))),
      ]);
      clearTimeout(timer);
    }
    attempt.socket?.destroy();
  }
}
