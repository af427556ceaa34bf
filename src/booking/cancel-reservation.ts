import { type EntityManager } from '@mikro-orm/postgresql';
import { ReservationStatus } from '../entities/enums';
import { type Reservation } from '../entities/reservation.entity';
import { type RequestDeadline } from '../infra/request-deadline';
import { repositoriesOf } from '../repositories';
import { type BookingDependencies } from './booking-dependencies';
import { invalidState } from './booking-errors';
import { reservationChanged, seatStatusChanged } from './booking-events';
import { type Caller } from './caller';
import { changeOwnedReservation } from './owned-reservation';

// How the cancel transaction ended (an ended hold is expired and answered by
// changeOwnedReservation).
type CancelOutcome =
  | { readonly kind: 'cancelled'; readonly reservation: Reservation; readonly releasedSeatIds: string[] }
  | { readonly kind: 'unchanged'; readonly reservation: Reservation };

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
  const outcome = await changeOwnedReservation(
    deps,
    em,
    caller,
    reservationId,
    deadline,
    async (tx, events, { reservation, databaseNow }): Promise<CancelOutcome> => {
      if (reservation.status === ReservationStatus.CANCELLED) {
        return { kind: 'unchanged', reservation };
      }
      if (reservation.status === ReservationStatus.CONFIRMED) {
        throw invalidState('A confirmed reservation cannot be cancelled.', reservationId);
      }
      const released = await repositoriesOf(tx).seats.releaseHeldBy([reservation.id]);
      reservation.status = ReservationStatus.CANCELLED;
      reservation.updatedAt = databaseNow;
      // A running hold's seats are all live and RESERVED: the released seats are all its seats.
      const releasedSeatIds = released.map((seat) => seat.id).sort();
      events.record('reservation.cancelled', reservationChanged(reservation, releasedSeatIds, databaseNow));
      const change = seatStatusChanged(reservation.session.id, reservation.id, released, databaseNow);
      if (change) {
        events.recordSeatChange(change);
      }
      return { kind: 'cancelled', reservation, releasedSeatIds };
    },
  );
  if (outcome.kind === 'cancelled') {
    const { reservation, releasedSeatIds } = outcome;
    if (reservation.lockToken && releasedSeatIds.length > 0) {
      await deps.seatLocks.release(reservation.session.id, releasedSeatIds, reservation.lockToken);
    }
  }
  return outcome.reservation;
}
