import { type RedisClient } from '../infra/redis';

/** What a request counts against: mutations have a stricter budget than reads. */
export type RateLimitKind = 'mutation' | 'read';

/** Result of {@link RateLimiter.consume}. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Seconds until the current window ends (when refused). */
  readonly retryAfterSeconds: number;
}

/** Bounds of the in-memory counters used while Redis does not answer. */
export interface LocalCounterBounds {
  /** Most counters kept at once. */
  readonly maxEntries: number;
  /** Most bytes (UTF-8) of counter keys kept at once; identities come from client text. */
  readonly maxKeyBytes: number;
}

/** What the in-memory counters hold now; see {@link RateLimiter.localFootprint}. */
export interface LocalCounterFootprint {
  readonly entries: number;
  readonly keyBytes: number;
}

// INCRBY, with the window's expiry set by the request that opened it.
const COUNT_IN_WINDOW = `
local cost = tonumber(ARGV[2])
local count = redis.call('INCRBY', KEYS[1], cost)
if count == cost then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
`;

interface RateLimitCommands {
  countInWindow(key: string, windowMilliseconds: number, cost: number): Promise<number>;
}

/**
 * 100,000 counters of keys up to ~300 bytes (identities are up to 200 characters) stay
 * within ~16 MiB of keys, whatever identities clients make up.
 */
const DEFAULT_LOCAL_BOUNDS: LocalCounterBounds = { maxEntries: 100_000, maxKeyBytes: 16 * 1_024 * 1_024 };

/**
 * Fixed-window request counters per identity (`user:<id>`, or `ip:<address>` for anonymous
 * callers), shared by every process through Redis. When Redis does not answer, each process
 * keeps counting in memory, so limiting goes on (per process) instead of failing open; those
 * counters are bounded in entries and key bytes, the oldest dropped first.
 */
export class RateLimiter {
  private readonly commands: RateLimitCommands;
  /** In-memory counters of the current window, oldest first. */
  private readonly local = new Map<string, number>();
  private localKeyBytes = 0;
  private localWindow = -1;

  /**
   * @param namespace keeps the counters of deployments that share a Redis apart.
   * @param localBounds bounds of the in-memory fallback counters.
   */
  constructor(
    redis: RedisClient,
    private readonly namespace: string,
    private readonly perMinute: Readonly<Record<RateLimitKind, number>>,
    private readonly windowMilliseconds = 60_000,
    private readonly localBounds: LocalCounterBounds = DEFAULT_LOCAL_BOUNDS,
  ) {
    redis.defineCommand('countInWindow', { numberOfKeys: 1, lua: COUNT_IN_WINDOW });
    this.commands = redis as unknown as RateLimitCommands;
  }

  /**
   * Counts a request costing `cost` (its root fields, at least 1) of `kind` for `identity`
   * and says whether the window's count is still within the budget. A refused request is
   * counted too: a caller who keeps sending stays refused until the window ends, and a
   * request costing more than the whole budget is never allowed.
   */
  async consume(
    kind: RateLimitKind,
    identity: string,
    cost = 1,
    now: number = Date.now(),
  ): Promise<RateLimitDecision> {
    const window = Math.floor(now / this.windowMilliseconds);
    const key = `ratelimit:${this.namespace}:${kind}:${identity}:${window}`;
    const counted = Math.max(1, Math.ceil(cost));
    let count: number;
    try {
      count = await this.commands.countInWindow(key, this.windowMilliseconds, counted);
    } catch {
      count = this.countLocally(key, window, counted);
    }
    const retryAfterSeconds = Math.ceil(((window + 1) * this.windowMilliseconds - now) / 1_000);
    return { allowed: count <= this.perMinute[kind], retryAfterSeconds };
  }

  /** Size of the in-memory fallback counters (for tests and metrics). */
  get localFootprint(): LocalCounterFootprint {
    return { entries: this.local.size, keyBytes: this.localKeyBytes };
  }

  private countLocally(key: string, window: number, cost: number): number {
    if (window !== this.localWindow) {
      this.local.clear();
      this.localKeyBytes = 0;
      this.localWindow = window;
    }
    const previous = this.local.get(key);
    if (previous !== undefined) {
      const count = previous + cost;
      this.local.set(key, count);
      return count;
    }
    const keyBytes = Buffer.byteLength(key);
    if (keyBytes > this.localBounds.maxKeyBytes) {
      // Cannot happen with real identities (at most a few hundred bytes); keeps the bound strict.
      return cost;
    }
    // Make room by forgetting the oldest counters: their callers start the window afresh,
    // which is the price of keeping memory bounded against made-up identities.
    while (
      this.local.size > 0 &&
      (this.local.size >= this.localBounds.maxEntries ||
        this.localKeyBytes + keyBytes > this.localBounds.maxKeyBytes)
    ) {
      const oldest = this.local.keys().next().value as string;
      this.local.delete(oldest);
      this.localKeyBytes -= Buffer.byteLength(oldest);
    }
    this.local.set(key, cost);
    this.localKeyBytes += keyBytes;
    return cost;
  }
}
