import { type EntityManager } from '@mikro-orm/postgresql';
import { ReservationStatus } from '../entities/enums';
import { type Reservation } from '../entities/reservation.entity';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { type RequestDeadline } from '../infra/request-deadline';
import { repositoriesOf } from '../repositories';
import { type BookingDependencies } from './booking-dependencies';
import { invalidState } from './booking-errors';
import { reservationChanged } from './booking-events';
import { type Caller } from './caller';
import { changeOwnedReservation } from './owned-reservation';

/** LIMIT_EXCEEDED: the hold already ends at its cap, `createdAt + holdMaxSeconds`. */
const holdAtCap = (reservationId: string, holdMaxSeconds: number, expiresAt: Date): DomainError =>
  new DomainError(
    ErrorCode.LimitExceeded,
    `The hold already ends at its limit: a reservation is held at most ${holdMaxSeconds} seconds in all.`,
    { reservationId, holdMaxSeconds, expiresAt: expiresAt.toISOString() },
  );

// What the extension transaction did (an ended hold is expired and answered by
// changeOwnedReservation).
interface ExtendOutcome {
  readonly reservation: Reservation;
  /** The hold's live seats, whose locks follow. */
  readonly seatIds: string[];
  /** The new end's distance from the transaction's `now`. */
  readonly remainingMilliseconds: number;
}

/**
 * Extends the caller's running hold: its end, and its seats' holds, move to
 * `min(now + holdSeconds, createdAt + holdMaxSeconds)` by the clock, in one transaction with a
 * `reservation.extended` event (which schedules the expiry at the new end and tells
 * `reservationUpdated` subscribers). The seats stay RESERVED with their versions: their status
 * did not change. After commit, the Redis locks still owned by the hold's token live until the
 * new end (a hold made while Redis was down has no token, and no locks to extend).
 *
 * Owner only, like paying and cancelling (admins too are refused).
 *
 * @param deadline the HTTP request's: the extension commits before it or not at all.
 * @throws DomainError NOT_FOUND, FORBIDDEN (not the owner), RESERVATION_EXPIRED (the hold
 *   ended: its seats are released), INVALID_STATE (confirmed or cancelled), LIMIT_EXCEEDED
 *   (already at `createdAt + holdMaxSeconds`: nothing changes), TIMEOUT.
 */
export async function extendReservation(
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
    async (tx, events, { reservation }): Promise<ExtendOutcome> => {
      if (reservation.status !== ReservationStatus.PENDING) {
        throw invalidState(`A ${reservation.status} reservation cannot be extended.`, reservationId);
      }
      const extension = await repositoriesOf(tx).reservations.extendHold(
        reservation.id,
        { holdSeconds: deps.holdSeconds, holdMaxSeconds: deps.holdMaxSeconds },
        deps.clock,
      );
      if (!extension) {
        // The row is locked and was judged running by this transaction's clock.
        throw new Error(`reservation ${reservationId} was running, then not, in one transaction`);
      }
      if (!extension.extended) {
        throw holdAtCap(reservationId, deps.holdMaxSeconds, extension.expiresAt);
      }
      const { expiresAt, seatIds, databaseNow } = extension;
      reservation.expiresAt = expiresAt;
      reservation.updatedAt = databaseNow;
      events.record('reservation.extended', reservationChanged(reservation, seatIds, databaseNow));
      return {
        reservation,
        seatIds,
        remainingMilliseconds: expiresAt.getTime() - databaseNow.getTime(),
      };
    },
  );
  const { reservation, seatIds, remainingMilliseconds } = outcome;
  if (reservation.lockToken) {
    await deps.seatLocks.extend(
      reservation.session.id,
      seatIds,
      reservation.lockToken,
      remainingMilliseconds,
    );
  }
  return reservation;
}
