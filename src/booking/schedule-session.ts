import { type EntityManager } from '@mikro-orm/postgresql';
import { type Auditorium } from '../entities/auditorium.entity';
import { GapRule } from '../entities/enums';
import { type CategoryPrice, type Session } from '../entities/session.entity';
import { DomainError, ErrorCode, notFound } from '../errors/domain-error';
import { type RequestDeadline } from '../infra/request-deadline';
import { parseId } from '../infra/uuid';
import { repositoriesOf } from '../repositories';
import { ScheduleOverlap } from '../repositories/session.repository';
import { type AuditoriumLayout, parseAuditoriumLayout } from '../seating/auditorium-layout';
import { sessionSpan } from '../seating/schedule';
import { checkedScreening, type SessionCreationDependencies } from './create-session';

/** What `scheduleSession` needs; shapes (ranges, lengths) are already checked by the input type. */
export interface ScheduleSessionCommand {
  readonly auditoriumId: string;
  readonly movie: string;
  readonly startsAt: Date;
  readonly durationMinutes: number;
  /** Exactly one per category of the auditorium. */
  readonly prices: readonly CategoryPrice[];
  /** Null or absent: NO_SINGLE_SEAT. */
  readonly gapRule?: GapRule | null;
}

/** BAD_USER_INPUT about the prices. */
function refusePrices(message: string, category: string): DomainError {
  return new DomainError(ErrorCode.BadUserInput, message, { field: 'prices', category });
}

/**
 * The prices in the order of the auditorium's categories, when they name each category exactly
 * once (categories compared trimmed, as the legend stores them).
 *
 * @throws DomainError BAD_USER_INPUT (`field` `prices`, with the `category`)
 */
function checkedPrices(auditorium: Auditorium, prices: readonly CategoryPrice[]): CategoryPrice[] {
  const given = new Map<string, number>();
  for (const price of prices) {
    const category = price.category.trim();
    if (!auditorium.categories.includes(category)) {
      throw refusePrices(
        `Auditorium '${auditorium.name}' has no category '${category.slice(0, 50)}'; its categories are ${auditorium.categories.join(', ')}.`,
        category.slice(0, 50),
      );
    }
    if (given.has(category)) {
      throw refusePrices(`The price of category '${category}' is given more than once.`, category);
    }
    given.set(category, price.priceCents);
  }
  return auditorium.categories.map((category) => {
    const priceCents = given.get(category);
    if (priceCents === undefined) {
      throw refusePrices(`The price of category '${category}' is missing.`, category);
    }
    return { category, priceCents };
  });
}

/** SCHEDULE_CONFLICT naming the sessions in the way. */
function scheduleConflict(auditorium: Auditorium, sessionIds: readonly string[]): DomainError {
  return new DomainError(
    ErrorCode.ScheduleConflict,
    `Auditorium '${auditorium.name}' is busy then (screening or cleaning of another session).`,
    { sessionIds: [...sessionIds] },
  );
}

/**
 * Schedules a session in an auditorium: its seats are the auditorium's layout, each at its
 * category's price; the session's `room` is the auditorium's name and its `priceCents` the
 * cheapest price. The auditorium is busy from `startsAt` to the end plus its cleaning buffer;
 * PostgreSQL refuses a session whose span overlaps another's (an exclusion constraint), so
 * concurrent schedulers cannot both win; they take turns on the auditorium's schedule lock.
 *
 * @param deadline the HTTP request's: the session is created before it or not at all.
 * @throws DomainError BAD_USER_INPUT (ids, movie, start, prices), NOT_FOUND (auditorium),
 *   SCHEDULE_CONFLICT (`sessionIds`: every session whose span overlaps, by start).
 */
export async function scheduleSession(
  deps: SessionCreationDependencies,
  em: EntityManager,
  command: ScheduleSessionCommand,
  deadline?: RequestDeadline,
): Promise<Session> {
  const auditoriumId = parseId('auditoriumId', command.auditoriumId);
  const movie = checkedScreening(command.movie, command.startsAt);
  const auditorium = await repositoriesOf(em).auditoriums.findWithLayout(auditoriumId);
  if (!auditorium) {
    throw notFound('Auditorium', auditoriumId);
  }
  const prices = checkedPrices(auditorium, command.prices);
  const priceOf = new Map(prices.map((price) => [price.category, price.priceCents]));
  const layout: AuditoriumLayout = parseAuditoriumLayout(auditorium.legend, auditorium.rows);
  const span = sessionSpan(command.startsAt, command.durationMinutes, auditorium.cleaningBufferMinutes);
  let created: Session;
  try {
    created = await deps.transactions.within(em, deadline, async (tx) => {
      const { sessions, seats } = repositoriesOf(tx);
      await sessions.lockSchedule(auditorium.id);
      const session = await sessions.add({
        movie,
        room: auditorium.name,
        startsAt: command.startsAt,
        durationMinutes: command.durationMinutes,
        ...span,
        auditorium: auditorium.id,
        priceCents: Math.min(...prices.map((price) => price.priceCents)),
        prices,
        gapRule: command.gapRule ?? GapRule.NO_SINGLE_SEAT,
        rows: auditorium.rows.length,
        seatsPerRow: Math.max(...countSeatsByRow(layout)),
      });
      await seats.insertSeats(
        session.id,
        layout.seats.map((seat) => ({ ...seat, priceCents: priceOf.get(seat.category) as number })),
      );
      return session;
    });
  } catch (error) {
    if (error instanceof ScheduleOverlap) {
      // Read after the rollback: the sessions in the way have committed by now.
      const overlapping = await repositoriesOf(em.fork()).sessions.findOverlapping(
        auditorium.id,
        command.startsAt,
        span.busyUntil,
      );
      throw scheduleConflict(auditorium, overlapping);
    }
    throw error;
  }
  deps.onCreated?.();
  return created;
}

/** The number of seats of each row of a layout. */
function countSeatsByRow(layout: AuditoriumLayout): number[] {
  const counts: number[] = [];
  for (const seat of layout.seats) {
    counts[seat.y] = (counts[seat.y] ?? 0) + 1;
  }
  return counts;
}
