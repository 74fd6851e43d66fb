import { createServer, Socket, type Server } from "node:net";
import pg from "pg";
import type { Executor } from "../../../src/adapters/events/postgres/index.js";
import type { Tx, UnitOfWork } from "../../../src/application/ports/index.js";
import type { OrganizationID } from "../../../src/domain/ids.js";

/** A transaction opened by {@link PgUnitOfWork.begin}, ended by the test when it chooses. */
export interface OpenTransaction {
  readonly tx: Tx;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/**
 * A minimal {@link UnitOfWork} on a `pg` pool, standing in for the persistence adapter's: BEGIN … COMMIT on one
 * pool client, ROLLBACK when the work throws. Its `Tx` throws on `onCommit`, which the PostgreSQL event bus must not use.
 */
export class PgUnitOfWork implements UnitOfWork {
  private readonly clients = new WeakMap<Tx, pg.PoolClient>();

  constructor(private readonly pool: pg.Pool) {}

  /** The `executorOf` dependency of the event bus: the transaction's client, or the pool. */
  readonly executorOf = (tx: Tx | null): Executor => {
    if (tx === null) return this.pool;
    const client = this.clients.get(tx);
    if (!client) throw new Error("not an open transaction of this unit of work");
    return client;
  };

  async run<T>(_organizationId: OrganizationID, work: (tx: Tx) => Promise<T>): Promise<T> {
    const open = await this.begin();
    let result: T;
    try {
      result = await work(open.tx);
    } catch (err) {
      await open.rollback();
      throw err;
    }
    await open.commit();
    return result;
  }

  /** Opens a transaction (for tests that interleave several). */
  async begin(): Promise<OpenTransaction> {
    const client = await this.pool.connect();
    const tx: Tx = {
      onCommit: () => {
        throw new Error("the PostgreSQL event bus must not rely on Tx.onCommit");
      },
    };
    await client.query("BEGIN");
    this.clients.set(tx, client);
    const end = async (statement: "COMMIT" | "ROLLBACK") => {
      this.clients.delete(tx);
      try {
        await client.query(statement);
      } finally {
        client.release();
      }
    };
    return { tx, commit: () => end("COMMIT"), rollback: () => end("ROLLBACK") };
  }
}

/**
 * A TCP relay to PostgreSQL that a test can break: `freeze` silently drops every byte both ways (a network cut
 * that no side notices, new connections included), `refuse` closes every new connection at once (a server down),
 * `cutAll` closes the current connections.
 */
export class TcpProxy {
  private frozen = false;
  private refusing = false;
  private readonly pairs = new Set<{ readonly down: Socket; readonly up: Socket }>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** A relay on a free port of 127.0.0.1 to `target`. */
  static async open(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = createServer((down) => proxy?.relay(down, target));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (typeof address !== "object" || !address) throw new Error("proxy has no port");
    proxy = new TcpProxy(server, address.port);
    return proxy;
  }

  /** `url` with its host and port replaced by the relay's. */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }

  /** Connections relayed now. */
  get connections(): number {
    return this.pairs.size;
  }

  freeze(frozen = true): void {
    this.frozen = frozen;
  }

  refuse(refusing = true): void {
    this.refusing = refusing;
  }

  cutAll(): void {
    for (const { down, up } of this.pairs) {
      down.destroy();
      up.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(down: Socket, target: { readonly host: string; readonly port: number }): void {
    if (this.refusing) {
      down.destroy();
      return;
    }
    const up = new Socket();
    const pair = { down, up };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    for (const [from, to] of [
      [down, up],
      [up, down],
    ] as const) {
      from.on("data", (chunk: Buffer) => {
        if (!this.frozen) to.write(chunk);
      });
      from.on("error", end);
      from.on("close", end);
    }
    up.connect(target.port, target.host);
  }
}

/** Resolves when `predicate` holds (checked every 10 ms), rejects after `timeoutMs` with `what`. */
export const waitFor = async (what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};
