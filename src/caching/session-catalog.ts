import { type EntityManager } from '@mikro-orm/postgresql';
import { type Session } from '../entities/session.entity';
import { repositoriesOf } from '../repositories';
import { setWithin } from '../infra/bounded-map';

const DEFAULT_LIMIT = 10_000;

/**
 * Sessions by id, kept in memory for the GraphQL reads that show them (a reservation's
 * `session`, the nodes of a `sessions` page). Every field a session shows as an entity is
 * immutable once created (`Session` entity); what changes — seats, `availableSeats`,
 * `mapVersion` — is resolved through the request's loaders, never from the cached entity. So
 * no invalidation is needed; only the size is bounded (oldest out first).
 *
 * The cached entities belong to a fork of their own, never to a request's unit of work: they are
 * only read.
 */
export class SessionCatalog {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  /** How many sessions are kept. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * One session: from memory when kept, else through `read` (a request's batching loader, so
   * that the misses of one request cost one statement), then kept. Null when it does not exist.
   */
  async load(
    sessionId: string,
    read: (sessionId: string) => Promise<Session | null>,
  ): Promise<Session | null> {
    const kept = this.sessions.get(sessionId);
    if (kept) {
      return kept;
    }
    const session = await read(sessionId);
    if (session) {
      this.remember(session);
    }
    return session;
  }

  /** Keeps sessions read elsewhere (e.g. by a request's loader). */
  remember(session: Session): void {
    if (this.sessions.has(session.id)) {
      return;
    }
    setWithin(this.sessions, session.id, session, this.limit);
  }

  /**
   * The sessions of `sessionIds` that exist, by id: the kept ones from memory, the others read
   * in one statement through a fork of `em` (and kept).
   */
  readonly findByIds = async (
    em: EntityManager,
    sessionIds: readonly string[],
  ): Promise<Map<string, Session>> => {
    const found = new Map<string, Session>();
    const missing: string[] = [];
    for (const sessionId of sessionIds) {
      const session = this.sessions.get(sessionId);
      if (session) {
        found.set(sessionId, session);
      } else {
        missing.push(sessionId);
      }
    }
    if (missing.length > 0) {
      for (const session of await repositoriesOf(em.fork()).sessions.findByIds(missing)) {
        this.remember(session);
        found.set(session.id, session);
      }
    }
    return found;
  };
}
