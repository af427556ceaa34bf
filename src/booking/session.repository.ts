import { type EntityManager } from '@mikro-orm/postgresql';
import { Session } from '../entities/session.entity';

/** What the booking path needs of a session; sessions never change once created. */
export interface SessionFacts {
  readonly id: string;
  readonly startsAt: Date;
  readonly priceCents: number;
}

/** One page of sessions ordered by (startsAt, id). */
export interface SessionPageQuery {
  readonly first: number;
  readonly after?: { readonly startsAt: Date; readonly id: string };
  readonly from?: Date;
  readonly to?: Date;
}

const FACTS_CACHE_LIMIT = 10_000;

/** Session queries. */
export class SessionRepository {
  // Sessions are immutable, so their facts can be cached without invalidation; the cache only
  // bounds its size. It spares PostgreSQL on the hot reserve path (stampedes on one session).
  private readonly factsCache = new Map<string, SessionFacts>();

  async findById(em: EntityManager, sessionId: string): Promise<Session | null> {
    return em.findOne(Session, { id: sessionId });
  }

  async findByIds(em: EntityManager, sessionIds: readonly string[]): Promise<Session[]> {
    return em.find(Session, { id: { $in: [...sessionIds] } });
  }

  /** The immutable facts of a session, from memory when seen before. */
  async findFacts(em: EntityManager, sessionId: string): Promise<SessionFacts | null> {
    const cached = this.factsCache.get(sessionId);
    if (cached) {
      return cached;
    }
    const session = await this.findById(em, sessionId);
    if (!session) {
      return null;
    }
    const facts: SessionFacts = {
      id: session.id,
      startsAt: session.startsAt,
      priceCents: session.priceCents,
    };
    if (this.factsCache.size >= FACTS_CACHE_LIMIT) {
      // Evict the oldest entry (Map keeps insertion order).
      this.factsCache.delete(this.factsCache.keys().next().value as string);
    }
    this.factsCache.set(sessionId, facts);
    return facts;
  }

  /** Up to `first + 1` sessions after the cursor, so the caller can tell if more exist. */
  async page(em: EntityManager, query: SessionPageQuery): Promise<Session[]> {
    const conditions: object[] = [];
    if (query.from) {
      conditions.push({ startsAt: { $gte: query.from } });
    }
    if (query.to) {
      conditions.push({ startsAt: { $lt: query.to } });
    }
    if (query.after) {
      const { startsAt, id } = query.after;
      conditions.push({ $or: [{ startsAt: { $gt: startsAt } }, { startsAt, id: { $gt: id } }] });
    }
    return em.find(Session, conditions.length ? { $and: conditions } : {}, {
      orderBy: [{ startsAt: 'asc' }, { id: 'asc' }],
      limit: query.first + 1,
    });
  }
}
