import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import { type Session } from '../entities/session.entity';

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

/** Session queries, bound to one entity manager (`em.getRepository(Session)`). */
export class SessionRepository extends EntityRepository<Session> {
  async findById(sessionId: string): Promise<Session | null> {
    return this.findOne({ id: sessionId });
  }

  async findByIds(sessionIds: readonly string[]): Promise<Session[]> {
    return this.find({ id: { $in: [...sessionIds] } });
  }

  /** The immutable facts of a session (see `caching/session-facts-cache.ts` for the cached read). */
  async findFacts(sessionId: string): Promise<SessionFacts | null> {
    const session = await this.findById(sessionId);
    return session ? { id: session.id, startsAt: session.startsAt, priceCents: session.priceCents } : null;
  }

  /** Up to `first + 1` sessions after the cursor, so the caller can tell if more exist. */
  async page(query: SessionPageQuery): Promise<Session[]> {
    const conditions: FilterQuery<Session>[] = [];
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
    return this.find(conditions.length ? { $and: conditions } : {}, {
      orderBy: [{ startsAt: 'asc' }, { id: 'asc' }],
      limit: query.first + 1,
    });
  }
}
