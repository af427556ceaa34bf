import { type Redis } from 'ioredis';

/** What a request counts against: mutations have a stricter budget than reads. */
export type RateLimitKind = 'mutation' | 'read';

/** Result of {@link RateLimiter.consume}. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Seconds until the current window ends (when refused). */
  readonly retryAfterSeconds: number;
}

// INCR, with the window's expiry set by the request that opened it.
const COUNT_IN_WINDOW = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
`;

interface RateLimitCommands {
  countInWindow(key: string, windowMilliseconds: number): Promise<number>;
}

const MAX_LOCAL_KEYS = 100_000;

/**
 * Fixed-window request counters per identity (`user:<id>`, or `ip:<address>` for anonymous
 * callers), shared by every process through Redis. When Redis does not answer, each process
 * keeps counting in memory, so limiting goes on (per process) instead of failing open.
 */
export class RateLimiter {
  private readonly commands: RateLimitCommands;
  private readonly local = new Map<string, number>();
  private localWindow = -1;

  /**
   * @param namespace keeps the counters of deployments that share a Redis apart.
   */
  constructor(
    redis: Redis,
    private readonly namespace: string,
    private readonly perMinute: Readonly<Record<RateLimitKind, number>>,
    private readonly windowMilliseconds = 60_000,
  ) {
    redis.defineCommand('countInWindow', { numberOfKeys: 1, lua: COUNT_IN_WINDOW });
    this.commands = redis as unknown as RateLimitCommands;
  }

  /** Counts one request of `kind` for `identity` and says whether it is within the budget. */
  async consume(kind: RateLimitKind, identity: string, now: number = Date.now()): Promise<RateLimitDecision> {
    const window = Math.floor(now / this.windowMilliseconds);
    const key = `ratelimit:${this.namespace}:${kind}:${identity}:${window}`;
    let count: number;
    try {
      count = await this.commands.countInWindow(key, this.windowMilliseconds);
    } catch {
      count = this.countLocally(key, window);
    }
    const retryAfterSeconds = Math.ceil(((window + 1) * this.windowMilliseconds - now) / 1_000);
    return { allowed: count <= this.perMinute[kind], retryAfterSeconds };
  }

  private countLocally(key: string, window: number): number {
    if (window !== this.localWindow || this.local.size >= MAX_LOCAL_KEYS) {
      this.local.clear();
      this.localWindow = window;
    }
    const count = (this.local.get(key) ?? 0) + 1;
    this.local.set(key, count);
    return count;
  }
}
