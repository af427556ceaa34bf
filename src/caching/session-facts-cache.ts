import { type EntityManager } from '@mikro-orm/postgresql';
import { Session } from '../entities/session.entity';
import { singleFlight } from '../infra/single-flight';
import { type SessionFacts } from '../repositories/session.repository';
import { setWithin } from '../infra/bounded-map';

const DEFAULT_LIMIT = 10_000;

/**
 * The immutable facts of sessions (start, price), kept in memory: sessions never change once
 * created, so no invalidation is needed; only the size is bounded (oldest out first). Spares
 * PostgreSQL a query on the hot reserve path (stampedes on one session).
 */
export class SessionFactsCache {
  private readonly facts = new Map<string, SessionFacts>();

  // A stampede on a session not yet kept reads its facts once, not once per racer (2,000 racers
  // would otherwise queue 2,000 reads for the pooled connections); hits never come here.
  private readonly read = singleFlight(
    (em: EntityManager, sessionId: string) => em.getRepository(Session).findFacts(sessionId),
    (_em, sessionId) => sessionId,
  );

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  /** The facts of `sessionId`, from memory when seen before; null when it does not exist. */
  readonly find = async (em: EntityManager, sessionId: string): Promise<SessionFacts | null> => {
    const cached = this.facts.get(sessionId);
    if (cached) {
      return cached;
    }
    const facts = await this.read(em, sessionId);
    if (!facts) {
      return null;
    }
    setWithin(this.facts, sessionId, facts, this.limit);
    return facts;
  };
}
