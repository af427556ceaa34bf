import { type Redis } from 'ioredis';
import { RateLimiter } from '../../src/security/rate-limiter';

/**
 * A Redis whose scripts fail, as when it is down: the limiter counts in memory. (The Lua
 * script itself runs against the real Redis in test/integration/rate-limit-cost.test.ts.)
 */
function unreachableRedis(): Redis {
  const redis: Record<string, unknown> = {
    defineCommand: (name: string) => {
      redis[name] = () => Promise.reject(new Error('Connection is closed.'));
    },
  };
  return redis as unknown as Redis;
}

const MINUTE = 60_000;

describe('RateLimiter', () => {
  it('counts a request at its cost, and counts refused requests too', async () => {
    const limiter = new RateLimiter(unreachableRedis(), 'test', { mutation: 5, read: 100 });
    const now = 10 * MINUTE;
    const consume = (cost: number) => limiter.consume('mutation', 'user:greedy', cost, now);
    expect((await consume(3)).allowed).toBe(true);
    expect((await consume(2)).allowed).toBe(true);
    expect((await consume(1)).allowed).toBe(false);
    // The window is spent; a request costing more than the whole budget never passes.
    expect((await limiter.consume('mutation', 'user:other', 6, now)).allowed).toBe(false);
    expect((await limiter.consume('mutation', 'user:polite', 1, now)).allowed).toBe(true);
    // Reads have their own budget; a new window starts afresh.
    expect((await limiter.consume('read', 'user:greedy', 1, now)).allowed).toBe(true);
    expect((await limiter.consume('mutation', 'user:greedy', 5, now + MINUTE)).allowed).toBe(true);
  });

  it('says how long until the window ends', async () => {
    const limiter = new RateLimiter(unreachableRedis(), 'test', { mutation: 1, read: 1 });
    const decision = await limiter.consume('read', 'ip:10.0.0.1', 2, 10 * MINUTE + 15_500);
    expect(decision).toEqual({ allowed: false, retryAfterSeconds: 45 });
  });

  it('bounds its in-memory counters in bytes, dropping the oldest identities first', async () => {
    const limiter = new RateLimiter(unreachableRedis(), 'test', { mutation: 2, read: 2 }, MINUTE, {
      maxEntries: 1_000,
      maxKeyBytes: 10_000,
    });
    const now = 10 * MINUTE;
    // Identities are client text of up to 200 characters.
    const identity = (index: number) => `user:${String(index).padStart(200, 'x')}`;
    for (let index = 0; index < 500; index += 1) {
      await limiter.consume('read', identity(index), 1, now);
      expect(limiter.localFootprint.keyBytes).toBeLessThanOrEqual(10_000);
    }
    expect(limiter.localFootprint.entries).toBeLessThan(500);
    expect(limiter.localFootprint.entries).toBeGreaterThan(10_000 / 300);
    // The most recent identities are still counted.
    expect((await limiter.consume('read', identity(499), 2, now)).allowed).toBe(false);
  });

  it('keeps the default in-memory bounds against made-up identities', async () => {
    const limiter = new RateLimiter(unreachableRedis(), 'test', { mutation: 1, read: 1 });
    const now = 10 * MINUTE;
    for (let index = 0; index < 80_000; index += 1) {
      await limiter.consume('read', `ip:${String(index).padStart(200, '0')}`, 1, now);
    }
    const footprint = limiter.localFootprint;
    expect(footprint.keyBytes).toBeLessThanOrEqual(16 * 1_024 * 1_024);
    expect(footprint.entries).toBeLessThanOrEqual(100_000);
  });
});
