/**
 * The server-wide budget of incoming bytes held by JavaScript: WebSocket frames queued or being served, and HTTP
 * bodies being read. uWebSockets.js's own buffers (a WebSocket message still arriving, HTTP headers) are outside it;
 * see "Limits and memory budget" in the README.
 */
export class IncomingBudget {
  private usedBytes = 0;

  /** @param maxBytes bytes that may be held at once, over every connection. */
  constructor(readonly maxBytes: number) {}

  /** Bytes currently held. */
  get used(): number {
    return this.usedBytes;
  }

  /** Reserves `bytes` and answers true, or answers false (and reserves nothing) when they would exceed the budget. */
  tryTake(bytes: number): boolean {
    if (this.usedBytes + bytes > this.maxBytes) return false;
    this.usedBytes += bytes;
    return true;
  }

  /** Gives back `bytes` taken with {@link tryTake}. */
  release(bytes: number): void {
    this.usedBytes = Math.max(0, this.usedBytes - bytes);
  }
}

/** Why {@link HandshakingConnections.admit} refused a connection. */
export type AdmissionRefusal = "server_full" | "address_full";

/**
 * Counts WebSocket connections still handshaking (from the upgrade until the session is established or the socket
 * closes), per server and per remote address, so that unauthenticated connections cannot pile up.
 */
export class HandshakingConnections {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  /**
   * @param maxTotal connections handshaking at once on this server.
   * @param maxPerAddress connections handshaking at once from one remote address.
   */
  constructor(
    private readonly maxTotal: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Connections handshaking now. */
  get count(): number {
    return this.total;
  }

  /** Null when a new connection from `address` may start its handshake, else why not (nothing is counted). */
  check(address: string): AdmissionRefusal | null {
    if (this.total >= this.maxTotal) return "server_full";
    if ((this.perAddress.get(address) ?? 0) >= this.maxPerAddress) return "address_full";
    return null;
  }

  /** Counts one more connection handshaking from `address` (after {@link check} admitted it). */
  add(address: string): void {
    this.total += 1;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
  }

  /** The connection from `address` counted by {@link add} finished its handshake or closed. */
  remove(address: string): void {
    this.total = Math.max(0, this.total - 1);
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
  }
}
