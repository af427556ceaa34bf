import { type EntityManager } from '@mikro-orm/postgresql';
import { ReservationStatus } from '../entities/enums';
import { type Reservation } from '../entities/reservation.entity';
import { type RequestDeadline } from '../infra/request-deadline';
import { repositoriesOf } from '../repositories';
import { type BookingDependencies } from './booking-dependencies';
import { invalidState, reservationExpired } from './booking-errors';
import { reservationChanged, seatStatusChanged } from './booking-events';
import { type Caller } from './caller';
import { expireInTransaction } from './expire-overdue';
import { lockOwnedReservation } from './owned-reservation';

// How the cancel transaction ended; an ended hold is expired (and committed) instead.
type CancelOutcome =
  | { readonly kind: 'cancelled'; readonly reservation: Reservation; readonly releasedSeatIds: string[] }
  | { readonly kind: 'unchanged'; readonly reservation: Reservation }
  | { readonly kind: 'expired' };

/**
 * Cancels the caller's PENDING reservation and frees its seats. Cancelling an already
 * cancelled reservation returns it unchanged. The Redis locks of the hold are released after
 * commit, for the seats the transaction freed (nothing is read again).
 *
 * @param deadline the HTTP request's: the cancellation commits before it or not at all.
 * @throws DomainError NOT_FOUND, FORBIDDEN, RESERVATION_EXPIRED, INVALID_STATE (confirmed),
 *   TIMEOUT.
 */
export async function cancelReservation(
  deps: BookingDependencies,
  em: EntityManager,
  caller: Caller,
  reservationId: string,
  deadline?: RequestDeadline,
): Promise<Reservation> {
  const outcome = await deps.transactions.run(em, deadline, async (tx, events): Promise<CancelOutcome> => {
    const { reservation, overdue, databaseNow } = await lockOwnedReservation(
      tx,
      caller,
      reservationId,
      deps.clock,
    );
    switch (reservation.status) {
      case ReservationStatus.CANCELLED:
        return { kind: 'unchanged', reservation };
      case ReservationStatus.CONFIRMED:
        throw invalidState('A confirmed reservation cannot be cancelled.', reservationId);
      case ReservationStatus.EXPIRED:
        throw reservationExpired(reservationId);
      case ReservationStatus.PENDING:
        break;
    }
    if (overdue) {
      await expireInTransaction(tx, events, { reservationIds: [reservation.id] }, deps.clock);
      return { kind: 'expired' };
    }
    const released = await repositoriesOf(tx).seats.releaseHeldBy([reservation.id]);
    reservation.status = ReservationStatus.CANCELLED;
    reservation.updatedAt = databaseNow;
    // A running hold's seats are all live and RESERVED: the released seats are all its seats.
    const releasedSeatIds = released.map((seat) => seat.id).sort();
    events.record('reservation.cancelled', reservationChanged(reservation, releasedSeatIds, databaseNow));
    const change = seatStatusChanged(reservation.session.id, reservation.id, released, databaseNow);
    if (change) {
      events.record('seat.status-changed', change);
    }
    return { kind: 'cancelled', reservation, releasedSeatIds };
  });
  switch (outcome.kind) {
    case 'expired':
      throw reservationExpired(reservationId);
    case 'unchanged':
      return outcome.reservation;
    case 'cancelled': {
      const { reservation, releasedSeatIds } = outcome;
      if (reservation.lockToken && releasedSeatIds.length > 0) {
        await deps.seatLocks.release(reservation.session.id, releasedSeatIds, reservation.lockToken);
      }
      return reservation;
    }
  }
}
