import { type EntityManager } from '@mikro-orm/postgresql';
import { Seat } from '../entities/seat.entity';
import { Session } from '../entities/session.entity';
import { badUserInput } from '../errors/domain-error';
import { type RequestDeadline } from '../infra/request-deadline';
import { type BookingTransactions } from './booking-transaction';
import { rowLetters } from '../seating/seat-label';

/** What `createSession` needs; shapes are already checked by the input type. */
export interface CreateSessionCommand {
  readonly movie: string;
  readonly room: string;
  readonly startsAt: Date;
  readonly priceCents: number;
  readonly rows: number;
  readonly seatsPerRow: number;
}

/** What creating a session depends on, built once by the composition root. */
export interface SessionCreationDependencies {
  /** Runs the creation within the request's deadline. */
  readonly transactions: Pick<BookingTransactions, 'within'>;
  /** Told after each session creation has committed. */
  readonly onCreated?: () => void;
}

/**
 * Creates a session and its `rows x seatsPerRow` AVAILABLE seats, in one transaction.
 *
 * @param deadline the HTTP request's: the session is created before it or not at all.
 */
export async function createSession(
  deps: SessionCreationDependencies,
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
  const created = await deps.transactions.within(em, deadline, async (tx) => {
    const session = tx.create(Session, { ...command, movie, room });
    for (let rowIndex = 0; rowIndex < command.rows; rowIndex += 1) {
      const row = rowLetters(rowIndex);
      for (let number = 1; number <= command.seatsPerRow; number += 1) {
        tx.create(Seat, { session, rowIndex, row, number });
      }
    }
    return session;
  });
  deps.onCreated?.();
  return created;
}
