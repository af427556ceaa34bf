import { type EntityManager } from '@mikro-orm/postgresql';
import { GapRule } from '../entities/enums';
import { type Session } from '../entities/session.entity';
import { badUserInput } from '../errors/domain-error';
import { type RequestDeadline } from '../infra/request-deadline';
import { isPrintable } from '../infra/text';
import { repositoriesOf } from '../repositories';
import { rectangularLayout, STANDARD_CATEGORY } from '../seating/auditorium-layout';
import { DEFAULT_DURATION_MINUTES, sessionSpan } from '../seating/schedule';
import { type BookingTransactions } from './booking-transaction';

/** What `createSession` needs; shapes are already checked by the input type. */
export interface CreateSessionCommand {
  readonly movie: string;
  readonly room: string;
  readonly startsAt: Date;
  /** Null or absent: {@link DEFAULT_DURATION_MINUTES}. */
  readonly durationMinutes?: number | null;
  readonly priceCents: number;
  readonly rows: number;
  readonly seatsPerRow: number;
}

/** What creating or scheduling a session depends on, built once by the composition root. */
export interface SessionCreationDependencies {
  /** Runs the creation within the request's deadline. */
  readonly transactions: Pick<BookingTransactions, 'within'>;
  /** Told after each session creation has committed. */
  readonly onCreated?: () => void;
}

/**
 * Latest start a session may have: its end, cleaning included, must still be a date PostgreSQL
 * stores (before the year 10000).
 */
const LATEST_START = new Date('9999-01-01T00:00:00Z');

/**
 * The trimmed `text` of a session (its movie, a one-off room's name): not blank, visible text.
 *
 * @throws DomainError BAD_USER_INPUT naming `field`
 */
export function checkedTitle(field: 'movie' | 'room', text: string): string {
  const trimmed = text.trim();
  if (!trimmed) {
    throw badUserInput(field, `${field} must not be blank.`);
  }
  if (!isPrintable(trimmed)) {
    throw badUserInput(field, `${field} must be visible text (no control characters).`);
  }
  return trimmed;
}

/**
 * The trimmed movie title, and that the session starts in the future (and before 9999).
 *
 * @throws DomainError BAD_USER_INPUT
 */
export function checkedScreening(movie: string, startsAt: Date): string {
  const trimmed = checkedTitle('movie', movie);
  if (startsAt.getTime() <= Date.now()) {
    throw badUserInput('startsAt', 'startsAt must be in the future.');
  }
  if (startsAt >= LATEST_START) {
    throw badUserInput('startsAt', 'startsAt must be before 9999-01-01.');
  }
  return trimmed;
}

/**
 * Creates a one-off session (deprecated by `scheduleSession`): a rectangular room of
 * `rows x seatsPerRow` STANDARD seats at `priceCents`, no auditorium, no schedule check, no gap
 * rule; all in one transaction.
 *
 * @param deadline the HTTP request's: the session is created before it or not at all.
 */
export async function createSession(
  deps: SessionCreationDependencies,
  em: EntityManager,
  command: CreateSessionCommand,
  deadline?: RequestDeadline,
): Promise<Session> {
  const movie = checkedScreening(command.movie, command.startsAt);
  const room = checkedTitle('room', command.room);
  const durationMinutes = command.durationMinutes ?? DEFAULT_DURATION_MINUTES;
  const created = await deps.transactions.within(em, deadline, async (tx) => {
    const { sessions, seats } = repositoriesOf(tx);
    const session = await sessions.add({
      ...command,
      movie,
      room,
      durationMinutes,
      ...sessionSpan(command.startsAt, durationMinutes, 0),
      prices: [{ category: STANDARD_CATEGORY, priceCents: command.priceCents }],
      gapRule: GapRule.OFF,
    });
    const layout = rectangularLayout(command.rows, command.seatsPerRow);
    await seats.insertSeats(
      session.id,
      layout.map((seat) => ({ ...seat, priceCents: command.priceCents })),
    );
    return session;
  });
  deps.onCreated?.();
  return created;
}
