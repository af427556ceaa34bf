import { randomUUID } from 'node:crypto';
import { unauthenticated } from '../errors/domain-error';
import { type TokenVerifier, type Viewer, cachingVerifier } from './auth';
import { ManualClock } from './clock';

const START = new Date('2030-01-01T00:00:00Z');

/**
 * A stand-in for the RS256 verifier: a "token" is `<user>.<exp in epoch seconds>` or "bad";
 * it counts its calls.
 */
function countingVerifier() {
  const calls: string[] = [];
  const verify: TokenVerifier = async (token) => {
    calls.push(token);
    const [userId, exp] = token.split('.');
    if (!exp) {
      throw unauthenticated('The bearer token is invalid or expired.');
    }
    return { userId, isAdmin: false, expiresAt: new Date(Number(exp) * 1_000) } satisfies Viewer;
  };
  return { verify, calls };
}

const inSeconds = (seconds: number) => START.getTime() / 1_000 + seconds;

describe('cachingVerifier', () => {
  it('verifies a token once and answers the same viewer until it expires', async () => {
    const clock = new ManualClock(START);
    const { verify, calls } = countingVerifier();
    const cached = cachingVerifier(verify, { maxEntries: 10, maxAgeSeconds: 3_600 }, clock);
    const token = `alice.${inSeconds(60)}`;
    const first = await cached(token);
    expect(await cached(token)).toBe(first);
    expect(calls).toHaveLength(1);

    clock.advance(59_999);
    expect(await cached(token)).toBe(first);
    expect(calls).toHaveLength(1);
    // At `exp` the entry is gone: the verifier decides again (the real one refuses then).
    clock.advance(1);
    await cached(token);
    expect(calls).toHaveLength(2);
  });

  it('keeps an entry no longer than its maximum age, even for a long-lived token', async () => {
    const clock = new ManualClock(START);
    const { verify, calls } = countingVerifier();
    const cached = cachingVerifier(verify, { maxEntries: 10, maxAgeSeconds: 30 }, clock);
    const token = `bob.${inSeconds(86_400)}`;
    await cached(token);
    clock.advance(29_999);
    await cached(token);
    expect(calls).toHaveLength(1);
    clock.advance(1);
    await cached(token);
    expect(calls).toHaveLength(2);
  });

  it('never remembers a refused token', async () => {
    const { verify, calls } = countingVerifier();
    const cached = cachingVerifier(verify, { maxEntries: 10, maxAgeSeconds: 60 }, new ManualClock(START));
    await expect(cached('bad')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(cached('bad')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(calls).toEqual(['bad', 'bad']);
  });

  it('does not remember a token that has already expired by the clock', async () => {
    const { verify, calls } = countingVerifier();
    const cached = cachingVerifier(verify, { maxEntries: 10, maxAgeSeconds: 60 }, new ManualClock(START));
    const stale = `carol.${inSeconds(-1)}`;
    await cached(stale);
    await cached(stale);
    expect(calls).toHaveLength(2);
  });

  it('holds at most maxEntries tokens, dropping the least recently used', async () => {
    const { verify, calls } = countingVerifier();
    const cached = cachingVerifier(verify, { maxEntries: 2, maxAgeSeconds: 60 }, new ManualClock(START));
    const [a, b, c] = ['a', 'b', 'c'].map((user) => `${user}.${inSeconds(600)}`);
    await cached(a);
    await cached(b);
    await cached(a); // a is now the most recent
    await cached(c); // drops b
    expect(calls).toEqual([a, b, c]);
    await cached(a);
    await cached(c);
    expect(calls).toEqual([a, b, c]);
    await cached(b);
    expect(calls).toEqual([a, b, c, b]);
  });

  it('gives every token its own identity, however many share the cache', async () => {
    const { verify } = countingVerifier();
    const cached = cachingVerifier(verify, { maxEntries: 1_000, maxAgeSeconds: 60 }, new ManualClock(START));
    const users = Array.from({ length: 500 }, () => randomUUID());
    for (const user of users) {
      await cached(`${user}.${inSeconds(600)}`);
    }
    // Again, from the cache: each token still names its own user.
    for (const user of users) {
      expect((await cached(`${user}.${inSeconds(600)}`)).userId).toBe(user);
    }
    // Tokens one character apart are different entries.
    expect((await cached(`x.${inSeconds(600)}`)).userId).toBe('x');
    expect((await cached(`y.${inSeconds(600)}`)).userId).toBe('y');
  });
});
