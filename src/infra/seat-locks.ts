import { randomUUID } from 'node:crypto';
import { type RedisClient } from './redis';
import { inSpan } from './tracing';

// All keys or none: fails without writing if any key exists, and reports which ones.
const ACQUIRE_ALL = `
local taken = {}
for index, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    taken[#taken + 1] = index
  end
end
if #taken == 0 then
  for _, key in ipairs(KEYS) do
    redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2])
  end
end
return taken
`;

// Compare-and-delete: a lock is removed only by the holder of its token.
const RELEASE_OWNED = `
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    released = released + 1
  end
end
return released
`;

// Compare-and-expire: a lock's TTL is changed only by the holder of its token; a lock that is
// gone (ended, released, flushed) stays gone.
const EXTEND_OWNED = `
local extended = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    extended = extended + 1
  end
end
return extended
`;

interface SeatLockCommands {
  acquireSeatLocks(keyCount: number, ...keysAndArguments: string[]): Promise<number[]>;
  releaseSeatLocks(keyCount: number, ...keysAndArguments: string[]): Promise<number>;
  extendSeatLocks(keyCount: number, ...keysAndArguments: string[]): Promise<number>;
}

/** Result of {@link SeatLocks.acquire}. */
export type SeatLockResult = { acquired: true; token: string } | { acquired: false; heldSeatIds: string[] };

/**
 * Short-lived Redis locks on seats, the fast path that turns contenders away before they reach
 * PostgreSQL. Keys carry the session as a hash tag (`seat:{sessionId}:seatId`), so the locks
 * of one reservation live in one Redis Cluster slot and are taken by one atomic script.
 * These locks are an optimisation: PostgreSQL decides who holds a seat.
 */
export class SeatLocks {
  private readonly commands: SeatLockCommands;

  constructor(redis: RedisClient) {
    redis.defineCommand('acquireSeatLocks', { lua: ACQUIRE_ALL });
    redis.defineCommand('releaseSeatLocks', { lua: RELEASE_OWNED });
    redis.defineCommand('extendSeatLocks', { lua: EXTEND_OWNED });
    this.commands = redis as unknown as SeatLockCommands;
  }

  /** The Redis key of one seat's lock. */
  static key(sessionId: string, seatId: string): string {
    return `seat:{${sessionId}}:${seatId}`;
  }

  /** Takes the locks of all `seatIds` with a fresh random token, or none of them. */
  async acquire(
    sessionId: string,
    seatIds: readonly string[],
    ttlMilliseconds: number,
  ): Promise<SeatLockResult> {
    const token = randomUUID();
    const keys = seatIds.map((seatId) => SeatLocks.key(sessionId, seatId));
    const taken = await this.commands.acquireSeatLocks(keys.length, ...keys, token, String(ttlMilliseconds));
    if (taken.length === 0) {
      return { acquired: true, token };
    }
    return { acquired: false, heldSeatIds: taken.map((index) => seatIds[index - 1]) };
  }

  /** Releases the locks still owned by `token`; locks taken over by others are left alone. */
  async release(sessionId: string, seatIds: readonly string[], token: string): Promise<number> {
    const keys = seatIds.map((seatId) => SeatLocks.key(sessionId, seatId));
    return this.commands.releaseSeatLocks(keys.length, ...keys, token);
  }

  /**
   * Sets the TTL of the locks still owned by `token` to `ttlMilliseconds` (one script, one
   * slot); locks of other tokens, and locks already gone, are left alone. Returns how many it set.
   */
  async extend(
    sessionId: string,
    seatIds: readonly string[],
    token: string,
    ttlMilliseconds: number,
  ): Promise<number> {
    const keys = seatIds.map((seatId) => SeatLocks.key(sessionId, seatId));
    return this.commands.extendSeatLocks(keys.length, ...keys, token, String(ttlMilliseconds));
  }
}

/** What {@link SeatLockGate.acquire} decided. */
export type SeatLockAcquisition =
  /** The locks are taken; `token` is null when PostgreSQL alone decides (no locks taken). */
  | { readonly outcome: 'proceed'; readonly token: string | null }
  /** Other requests hold some of the seats: turn this one away before PostgreSQL. */
  | { readonly outcome: 'conflict'; readonly heldSeatIds: string[] };

/**
 * The fast path in front of PostgreSQL, with its policy: take the seat locks of a reserve,
 * carry on through PostgreSQL alone when Redis is down (logged, never failed), and count the
 * requests the locks turn away. Release never fails either: a lock's TTL ends it anyway.
 */
export interface SeatLockGate {
  /**
   * Takes the locks of all `seatIds`, or none. With `deferConflicts`, seats locked by others
   * do not turn the request away (the locks may be a concurrent use of the same idempotency
   * key, which only PostgreSQL can tell): it proceeds without locks.
   */
  acquire(
    sessionId: string,
    seatIds: readonly string[],
    options: { readonly deferConflicts: boolean },
  ): Promise<SeatLockAcquisition>;
  /** Releases the locks `token` still owns. */
  release(sessionId: string, seatIds: readonly string[], token: string): Promise<void>;
  /** Makes the locks `token` still owns live `ttlMilliseconds` from now (an extended hold). */
  extend(
    sessionId: string,
    seatIds: readonly string[],
    token: string,
    ttlMilliseconds: number,
  ): Promise<void>;
}

/** Logs what the caller is not told (degraded Redis, failed lock releases). */
export interface SeatLockLogger {
  warn(message: string, details?: Record<string, unknown>): void;
}

/** The {@link SeatLockGate} over Redis {@link SeatLocks}. */
export class RedisSeatLockGate implements SeatLockGate {
  constructor(
    private readonly locks: Pick<SeatLocks, 'acquire' | 'release' | 'extend'>,
    private readonly options: {
      /** How long a lock lives unless released: the hold's length. */
      readonly ttlMilliseconds: number;
      readonly logger: SeatLockLogger;
      /** Told each time the locks turn a request away. */
      readonly onConflict?: () => void;
    },
  ) {}

  async acquire(
    sessionId: string,
    seatIds: readonly string[],
    { deferConflicts }: { readonly deferConflicts: boolean },
  ): Promise<SeatLockAcquisition> {
    let result: SeatLockResult;
    try {
      // The Redis fast path as one step of the reserve's trace (its script is a child span).
      result = await inSpan(
        'seat locks acquire',
        async (span) => {
          const acquired = await this.locks.acquire(sessionId, seatIds, this.options.ttlMilliseconds);
          span?.setAttribute('poltrona.locks.acquired', acquired.acquired);
          return acquired;
        },
        { attributes: { 'poltrona.session.id': sessionId, 'poltrona.seats': seatIds.length } },
      );
    } catch (error) {
      this.options.logger.warn('Redis unavailable: reserving through PostgreSQL alone', {
        error: String(error),
      });
      return { outcome: 'proceed', token: null };
    }
    if (result.acquired) {
      return { outcome: 'proceed', token: result.token };
    }
    if (deferConflicts) {
      return { outcome: 'proceed', token: null };
    }
    this.options.onConflict?.();
    return { outcome: 'conflict', heldSeatIds: result.heldSeatIds };
  }

  async release(sessionId: string, seatIds: readonly string[], token: string): Promise<void> {
    try {
      await this.locks.release(sessionId, seatIds, token);
    } catch (error) {
      // The lock's TTL ends it anyway; PostgreSQL stays the judge meanwhile.
      this.options.logger.warn('Could not release seat locks', { sessionId, error: String(error) });
    }
  }

  async extend(
    sessionId: string,
    seatIds: readonly string[],
    token: string,
    ttlMilliseconds: number,
  ): Promise<void> {
    if (seatIds.length === 0 || ttlMilliseconds <= 0) {
      return;
    }
    try {
      await this.locks.extend(sessionId, seatIds, token, ttlMilliseconds);
    } catch (error) {
      // The locks then end at the old time: contenders reach PostgreSQL, which still refuses them.
      this.options.logger.warn('Could not extend seat locks', { sessionId, error: String(error) });
    }
  }
}
