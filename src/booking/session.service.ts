import { type EntityManager } from '@mikro-orm/postgresql';
import { Seat } from '../entities/seat.entity';
import { Session } from '../entities/session.entity';
import { badUserInput, notFound } from '../errors/domain-error';
import { type RequestDeadline } from '../infra/request-deadline';
import { parseId } from '../infra/uuid';
import { repositoriesOf } from '../repositories';
import { type BookingTransactions } from './booking-transaction';
import { decodeCursor, encodeCursor, type Page, pageSize, toPage } from './pagination';
import { rowLetters } from './seat-label';

/** What `createSession` needs; shapes are already checked by the input type. */
export interface CreateSessionCommand {
  readonly movie: string;
  readonly room: string;
  readonly startsAt: Date;
  readonly priceCents: number;
  readonly rows: number;
  readonly seatsPerRow: number;
}

/** What `sessions` asks for. */
export interface SessionListQuery {
  readonly first: number;
  readonly after?: string | null;
  readonly from?: Date | null;
  readonly to?: Date | null;
}

/** Sessions and their seat maps. */
export class SessionService {
  /**
   * @param transactions runs the creation within the request's deadline.
   * @param onCreated told after each session creation has committed.
   */
  constructor(
    private readonly transactions: Pick<BookingTransactions, 'within'>,
    private readonly onCreated: () => void = () => undefined,
  ) {}

  /**
   * Creates a session and its `rows x seatsPerRow` AVAILABLE seats, in one transaction.
   *
   * @param deadline the HTTP request's: the session is created before it or not at all.
   */
  async createSession(
    em: EntityManager,
    command: CreateSessionCommand,
    deadline?: RequestDeadline,
  ): Promise<Session> {
    const movie = command.movie.trim();
    const room = command.room.trim();
    if (!movie) {
      throw badUserInput('movie', 'movie must not be blank.');
    }
    if (!room) {
      throw badUserInput('room', 'room must not be blank.');
    }
    if (command.startsAt.getTime() <= Date.now()) {
      throw badUserInput('startsAt', 'startsAt must be in the future.');
    }
    const created = await this.transactions.within(em, deadline, async (tx) => {
      const session = tx.create(Session, { ...command, movie, room });
      for (let rowIndex = 0; rowIndex < command.rows; rowIndex += 1) {
        const row = rowLetters(rowIndex);
        for (let number = 1; number <= command.seatsPerRow; number += 1) {
          tx.create(Seat, { session, rowIndex, row, number });
        }
      }
      return session;
    });
    this.onCreated();
    return created;
  }

  /**
   * @param field the argument that named the session, for the error.
   * @throws DomainError BAD_USER_INPUT (malformed id), NOT_FOUND.
   */
  async getSession(em: EntityManager, sessionId: string, field = 'id'): Promise<Session> {
    const session = await repositoriesOf(em).sessions.findById(parseId(field, sessionId));
    if (!session) {
      throw notFound('Session', sessionId);
    }
    return session;
  }

  /** Sessions by `startsAt` (from inclusive, to exclusive), then id. */
  async listSessions(em: EntityManager, query: SessionListQuery): Promise<Page<Session>> {
    const first = pageSize(query.first);
    if (query.from && query.to && query.from >= query.to) {
      throw badUserInput('to', 'to must be later than from.');
    }
    let after: { startsAt: Date; id: string } | undefined;
    if (query.after) {
      const [startsAt, id] = decodeCursor(query.after, ['timestamp', 'uuid']);
      after = { startsAt, id };
    }
    const rows = await repositoriesOf(em).sessions.page({
      first,
      after,
      from: query.from ?? undefined,
      to: query.to ?? undefined,
    });
    return toPage(rows, first, (session) => encodeCursor([session.startsAt, session.id]));
  }
}
