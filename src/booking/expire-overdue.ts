import { type EntityManager } from '@mikro-orm/postgresql';
import { type Clock } from '../infra/clock';
import { type RequestDeadline } from '../infra/request-deadline';
import { repositoriesOf } from '../repositories';
import { type ExpiredReservation, type OverdueCriteria } from '../repositories/reservation.repository';
import { type BookingDependencies } from './booking-dependencies';
import { reservationExpiredEvent, seatStatusChanged } from './booking-events';
import { type EventRecorder } from './booking-transaction';

/**
 * Expires overdue PENDING reservations and frees their seats, with events, inside the caller's
 * transaction (confirm, cancel and reserve do it on their way). Lock order: reservation rows
 * (the update), then seats.
 */
export async function expireInTransaction(
  tx: EntityManager,
  events: EventRecorder,
  criteria: OverdueCriteria,
  clock: Clock,
): Promise<ExpiredReservation[]> {
  const { reservations, seats } = repositoriesOf(tx);
  const expired = await reservations.expireOverdue(criteria, clock);
  if (expired.length === 0) {
    return expired;
  }
  const released = await seats.releaseHeldBy(expired.map((reservation) => reservation.id));
  for (const reservation of expired) {
    events.record('reservation.expired', reservationExpiredEvent(reservation));
    const change = seatStatusChanged(
      reservation.sessionId,
      reservation.id,
      released.filter((seat) => seat.reservationId === reservation.id),
      reservation.databaseNow,
    );
    if (change) {
      events.recordSeatChange(change);
    }
  }
  return expired;
}

/**
 * Expires overdue PENDING reservations and frees their seats, with events, in one transaction.
 * Idempotent: a reservation already confirmed, cancelled or expired is left alone.
 *
 * @param deadline the HTTP request's, when a request does this on its way.
 */
export async function expireOverdue(
  deps: Pick<BookingDependencies, 'transactions' | 'clock'>,
  em: EntityManager,
  criteria: OverdueCriteria,
  deadline?: RequestDeadline,
): Promise<ExpiredReservation[]> {
  return deps.transactions.run(em, deadline, (tx, events) =>
    expireInTransaction(tx, events, criteria, deps.clock),
  );
}
