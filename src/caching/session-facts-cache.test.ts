import { type EntityManager } from '@mikro-orm/postgresql';
import { type SessionFacts } from '../repositories/session.repository';
import { SessionFactsCache } from './session-facts-cache';

/** An entity manager whose session repository answers `findFacts` after `answer` settles, counting calls. */
function countingManager(answer: Promise<SessionFacts | null>) {
  const calls: string[] = [];
  const em = {
    getRepository: () => ({
      findFacts: (sessionId: string) => {
        calls.push(sessionId);
        return answer;
      },
    }),
  } as unknown as EntityManager;
  return { em, calls };
}

const FACTS = { id: 's1', startsAt: new Date('2030-01-01T20:00:00Z') } as unknown as SessionFacts;

describe('SessionFactsCache', () => {
  it('reads a session not yet kept once for all concurrent callers, then answers from memory', async () => {
    let resolve!: (facts: SessionFacts) => void;
    const { em, calls } = countingManager(new Promise((done) => (resolve = done)));
    const cache = new SessionFactsCache();
    const racers = Array.from({ length: 50 }, () => cache.find(em, 's1'));
    resolve(FACTS);
    expect(await Promise.all(racers)).toEqual(Array(50).fill(FACTS));
    expect(await cache.find(em, 's1')).toBe(FACTS);
    expect(calls).toEqual(['s1']);
  });

  it('keeps nothing for a session that does not exist: the next call reads again', async () => {
    const { em, calls } = countingManager(Promise.resolve(null));
    const cache = new SessionFactsCache();
    expect(await cache.find(em, 'missing')).toBeNull();
    expect(await cache.find(em, 'missing')).toBeNull();
    expect(calls).toEqual(['missing', 'missing']);
  });
});
