import { type EntityManager } from '@mikro-orm/postgresql';
import { ReservationStatus } from '../entities/enums';
import { Sale } from '../entities/sale.entity';
import { type RequestDeadline } from '../infra/request-deadline';
import { repositoriesOf } from '../repositories';
import { type BookingDependencies } from './booking-dependencies';
import { invalidState } from './booking-errors';
import { reservationChanged, seatStatusChanged } from './booking-events';
import { type Caller } from './caller';
import { changeOwnedReservation } from './owned-reservation';

// How the payment transaction ended (an ended hold is expired and answered by
// changeOwnedReservation).
type PaymentOutcome =
  | {
      readonly kind: 'sold';
      readonly sale: Sale;
      readonly lockToken: string | null;
      readonly sessionId: string;
      readonly soldSeatIds: string[];
    }
  | { readonly kind: 'already-confirmed'; readonly sale: Sale };

/**
 * Turns the caller's PENDING reservation into a Sale; calling it again returns the same Sale.
 * The Redis locks of the hold are released after commit, for the seats the transaction sold
 * (nothing is read again).
 *
 * @param deadline the HTTP request's: the payment commits before it or not at all.
 * @throws DomainError NOT_FOUND, FORBIDDEN (not the owner), RESERVATION_EXPIRED (the hold
 *   ended: its seats are released), INVALID_STATE (cancelled), TIMEOUT.
 */
export async function confirmPayment(
  deps: BookingDependencies,
  em: EntityManager,
  caller: Caller,
  reservationId: string,
  deadline?: RequestDeadline,
): Promise<Sale> {
  const outcome = await changeOwnedReservation(
    deps,
    em,
    caller,
    reservationId,
    deadline,
    async (tx, events, { reservation, databaseNow }): Promise<PaymentOutcome> => {
      const { seats, sales } = repositoriesOf(tx);
      if (reservation.status === ReservationStatus.CONFIRMED) {
        const [sale] = await sales.findByReservations([reservation.id]);
        return { kind: 'already-confirmed', sale };
      }
      if (reservation.status === ReservationStatus.CANCELLED) {
        throw invalidState('The reservation was cancelled.', reservationId);
      }
      const sold = await seats.sellHeldBy(reservation.id);
      reservation.status = ReservationStatus.CONFIRMED;
      reservation.updatedAt = databaseNow;
      const sale = tx.create(Sale, {
        userId: reservation.userId,
        reservation,
        session: reservation.session,
        amountCents: reservation.totalCents,
        createdAt: databaseNow,
      });
      const soldSeatIds = sold.map((seat) => seat.id).sort();
      events.record('reservation.confirmed', {
        ...reservationChanged(reservation, soldSeatIds, databaseNow),
        saleId: sale.id,
      });
      const change = seatStatusChanged(reservation.session.id, reservation.id, sold, databaseNow);
      if (change) {
        events.recordSeatChange(change);
      }
      return {
        kind: 'sold',
        sale,
        lockToken: reservation.lockToken,
        sessionId: reservation.session.id,
        soldSeatIds,
      };
    },
  );
  if (outcome.kind === 'sold' && outcome.lockToken && outcome.soldSeatIds.length > 0) {
    await deps.seatLocks.release(outcome.sessionId, outcome.soldSeatIds, outcome.lockToken);
  }
  return outcome.sale;
}
