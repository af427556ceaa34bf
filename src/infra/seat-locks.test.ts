import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '../../test/support/test-environment';
import { RedisSeatLockGate, type SeatLockResult, SeatLocks } from './seat-locks';

function gateOver(store: {
  acquire?: () => Promise<SeatLockResult>;
  release?: () => Promise<number>;
  extend?: () => Promise<number>;
}) {
  const warnings: string[] = [];
  let conflicts = 0;
  const gate = new RedisSeatLockGate(
    {
      acquire: store.acquire ?? (async () => ({ acquired: true, token: 't' })),
      release: store.release ?? (async () => 1),
      extend: store.extend ?? (async () => 1),
    },
    {
      ttlMilliseconds: 1_000,
      logger: { warn: (message) => warnings.push(message) },
      onConflict: () => {
        conflicts += 1;
      },
    },
  );
  return { gate, warnings, conflicts: () => conflicts };
}

const down = async (): Promise<never> => {
  throw new Error('ECONNREFUSED');
};

describe('SeatLockGate policy', () => {
  it('proceeds with the token when the locks are taken', async () => {
    const { gate } = gateOver({});
    expect(await gate.acquire('s', ['a'], { deferConflicts: false })).toEqual({
      outcome: 'proceed',
      token: 't',
    });
  });

  it('degrades to PostgreSQL alone when Redis is down, with a warning', async () => {
    const { gate, warnings } = gateOver({ acquire: down });
    expect(await gate.acquire('s', ['a'], { deferConflicts: false })).toEqual({
      outcome: 'proceed',
      token: null,
    });
    expect(warnings).toEqual(['Redis unavailable: reserving through PostgreSQL alone']);
  });

  it('turns a conflict away and counts it, unless told to defer it to PostgreSQL', async () => {
    const taken = async (): Promise<SeatLockResult> => ({ acquired: false, heldSeatIds: ['a'] });
    const { gate, conflicts } = gateOver({ acquire: taken });
    expect(await gate.acquire('s', ['a', 'b'], { deferConflicts: false })).toEqual({
      outcome: 'conflict',
      heldSeatIds: ['a'],
    });
    expect(await gate.acquire('s', ['a', 'b'], { deferConflicts: true })).toEqual({
      outcome: 'proceed',
      token: null,
    });
    expect(conflicts()).toBe(1);
  });

  it('never fails an extension: PostgreSQL holds the seats, the locks then end at the old time', async () => {
    const { gate, warnings } = gateOver({ extend: down });
    await expect(gate.extend('s', ['a'], 't', 1_000)).resolves.toBeUndefined();
    expect(warnings).toEqual(['Could not extend seat locks']);
  });

  it('never fails a release: the TTL ends the lock anyway', async () => {
    const { gate, warnings } = gateOver({ release: down });
    await expect(gate.release('s', ['a'], 't')).resolves.toBeUndefined();
    expect(warnings).toEqual(['Could not release seat locks']);
  });
});

describe('SeatLocks.extend (real Redis)', () => {
  const redis = new Redis(TEST_REDIS_URL);
  /** Redis's clock (`TIME`), in whole milliseconds, as it stamps a key's expiry. */
  const redisMilliseconds = async () => {
    const [seconds, microseconds] = await redis.time();
    return Number(seconds) * 1_000 + Math.floor(Number(microseconds) / 1_000);
  };
  const locks = new SeatLocks(redis);

  afterAll(async () => {
    await redis.quit();
  });

  it("sets the TTL of the token's own locks only, and brings back none that is gone", async () => {
    const sessionId = randomUUID();
    const [mine, alsoMine, gone, theirs] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const held = await locks.acquire(sessionId, [mine, alsoMine, gone], 2_000);
    if (!held.acquired) {
      throw new Error('the fresh seats were locked');
    }
    // One lock ended (or was flushed), another seat's lock belongs to someone else.
    await redis.del(SeatLocks.key(sessionId, gone));
    await redis.set(SeatLocks.key(sessionId, theirs), 'other-token', 'PX', 3_000);

    // Redis's own clock before and after: each extended lock ends 60 s after a moment between
    // them, however long the extension took.
    const before = await redisMilliseconds();
    expect(await locks.extend(sessionId, [mine, alsoMine, gone, theirs], held.token, 60_000)).toBe(2);
    const after = await redisMilliseconds();
    for (const seatId of [mine, alsoMine]) {
      expect(await redis.get(SeatLocks.key(sessionId, seatId))).toBe(held.token);
      const endsAt = await redis.pexpiretime(SeatLocks.key(sessionId, seatId));
      expect(endsAt).toBeGreaterThanOrEqual(before + 60_000);
      expect(endsAt).toBeLessThanOrEqual(after + 60_000);
    }
    expect(await redis.exists(SeatLocks.key(sessionId, gone))).toBe(0);
    expect(await redis.get(SeatLocks.key(sessionId, theirs))).toBe('other-token');
    expect(await redis.pttl(SeatLocks.key(sessionId, theirs))).toBeLessThanOrEqual(3_000);

    // A stranger's token extends nothing.
    await locks.release(sessionId, [mine, alsoMine], held.token);
    expect(await locks.extend(sessionId, [theirs], 'not-the-token', 60_000)).toBe(0);
    expect(await redis.pttl(SeatLocks.key(sessionId, theirs))).toBeLessThanOrEqual(3_000);
    await redis.del(SeatLocks.key(sessionId, theirs));
  });
});
