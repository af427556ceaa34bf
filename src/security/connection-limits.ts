/**
 * Counts open long-lived connections (websocket, SSE) per client key (`ip:<address>` or
 * `user:<id>`) and refuses past a cap. Its table holds only keys with open connections, so
 * it is bounded by the connections themselves.
 */
export class ConnectionCounter {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerClient: number) {}

  /** Whether `key` may open one more connection (without counting it). */
  hasRoom(key: string): boolean {
    return (this.open.get(key) ?? 0) < this.maxPerClient;
  }

  /** Counts a connection for `key` if there is room; false when the cap is reached. */
  acquire(key: string): boolean {
    if (!this.hasRoom(key)) {
      return false;
    }
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    return true;
  }

  /** Forgets one connection of `key`. */
  release(key: string): void {
    const count = (this.open.get(key) ?? 0) - 1;
    if (count > 0) {
      this.open.set(key, count);
    } else {
      this.open.delete(key);
    }
  }
}

/** graphql-ws close code for "too many connections from this client" (docs/contract.md, "Limits"). */
export const TOO_MANY_CONNECTIONS_CLOSE_CODE = 4429;
