import { type EntityManager } from '@mikro-orm/postgresql';
import { type Session } from '../entities/session.entity';
import { badUserInput, notFound } from '../errors/domain-error';
import { parseId } from '../infra/uuid';
import { repositoriesOf } from '../repositories';
import { decodeCursor, encodeCursor, type Page, pageSize, toPage } from './pagination';

/** What `sessions` asks for. */
export interface SessionListQuery {
  readonly first: number;
  readonly after?: string | null;
  readonly from?: Date | null;
  readonly to?: Date | null;
}

/**
 * Sessions by id (those that exist). Sessions never change once created, so the caller may
 * answer from memory (`caching/session-catalog.ts`); by default they are read.
 */
export type FindSessions = (
  em: EntityManager,
  sessionIds: readonly string[],
) => Promise<Map<string, Session>>;

async function readSessions(em: EntityManager, sessionIds: readonly string[]): Promise<Map<string, Session>> {
  const sessions = await repositoriesOf(em).sessions.findByIds(sessionIds);
  return new Map(sessions.map((session) => [session.id, session]));
}

/**
 * One session by id.
 *
 * @param field the argument that named the session, for the error.
 * @param findSessions where sessions are read (memory first, in production).
 * @throws DomainError BAD_USER_INPUT (malformed id), NOT_FOUND.
 */
export async function getSession(
  em: EntityManager,
  sessionId: string,
  field = 'id',
  findSessions: FindSessions = readSessions,
): Promise<Session> {
  const id = parseId(field, sessionId);
  const session = (await findSessions(em, [id])).get(id);
  if (!session) {
    throw notFound('Session', sessionId);
  }
  return session;
}

/** Sessions by `startsAt` (from inclusive, to exclusive), then id. */
export async function listSessions(
  em: EntityManager,
  query: SessionListQuery,
  findSessions: FindSessions = readSessions,
): Promise<Page<Session>> {
  const first = pageSize(query.first);
  if (query.from && query.to && query.from >= query.to) {
    throw badUserInput('to', 'to must be later than from.');
  }
  let after: { startsAt: Date; id: string } | undefined;
  if (query.after) {
    const [startsAt, id] = decodeCursor(query.after, ['timestamp', 'uuid']);
    after = { startsAt, id };
  }
  const ids = await repositoriesOf(em).sessions.pageIds({
    first,
    after,
    from: query.from ?? undefined,
    to: query.to ?? undefined,
  });
  const sessions = await findSessions(em, ids);
  // Sessions are never deleted: every id of the page is found.
  const rows = ids.map((id) => sessions.get(id)).filter((session) => session !== undefined);
  return toPage(rows, first, (session) => encodeCursor([session.startsAt, session.id]));
}
