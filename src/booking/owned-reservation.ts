import { type EntityManager } from '@mikro-orm/postgresql';
import { ReservationStatus } from '../entities/enums';
import { forbidden, notFound } from '../errors/domain-error';
import { type Clock } from '../infra/clock';
import { type RequestDeadline } from '../infra/request-deadline';
import { repositoriesOf } from '../repositories';
import { type LockedReservation } from '../repositories/reservation.repository';
import { type BookingDependencies } from './booking-dependencies';
import { reservationExpired } from './booking-errors';
import { type EventRecorder } from './booking-transaction';
import { type Caller } from './caller';
import { expireInTransaction } from './expire-overdue';

/**
 * Row-locks the caller's reservation for the rest of the transaction (confirm and cancel).
 *
 * @throws DomainError NOT_FOUND, FORBIDDEN (not the owner: only owners change reservations).
 */
export async function lockOwnedReservation(
  tx: EntityManager,
  caller: Caller,
  reservationId: string,
  clock: Clock,
): Promise<LockedReservation> {
  const locked = await repositoriesOf(tx).reservations.lockForUpdate(reservationId, clock);
  if (!locked) {
    throw notFound('Reservation', reservationId);
  }
  if (locked.reservation.userId !== caller.userId) {
    throw forbidden('Only the owner of a reservation can change it.');
  }
  return locked;
}

/** A change of the caller's reservation, inside its transaction, the reservation row-locked. */
export type OwnedReservationChange<Outcome> = (
  tx: EntityManager,
  events: EventRecorder,
  locked: LockedReservation,
) => Promise<Outcome>;

// The transaction found the hold ended and expired it: that must commit before the answer.
const HOLD_ENDED = Symbol('hold ended');

/**
 * Runs `change` in one transaction on the caller's row-locked reservation (confirm and cancel),
 * unless its hold is over: an EXPIRED reservation is answered so at once, and a PENDING one
 * whose hold has ended by the clock is expired in that transaction (its seats freed, with
 * events), committed, and then answered RESERVATION_EXPIRED.
 *
 * @param deadline the HTTP request's: the change commits before it or not at all.
 * @throws DomainError NOT_FOUND, FORBIDDEN, RESERVATION_EXPIRED, TIMEOUT, and what `change` throws.
 */
export async function changeOwnedReservation<Outcome>(
  deps: BookingDependencies,
  em: EntityManager,
  caller: Caller,
  reservationId: string,
  deadline: RequestDeadline | undefined,
  change: OwnedReservationChange<Outcome>,
): Promise<Outcome> {
  const outcome = await deps.transactions.run(
    em,
    deadline,
    async (tx, events): Promise<Outcome | typeof HOLD_ENDED> => {
      const locked = await lockOwnedReservation(tx, caller, reservationId, deps.clock);
      if (locked.reservation.status === ReservationStatus.EXPIRED) {
        throw reservationExpired(reservationId);
      }
      if (locked.overdue) {
        await expireInTransaction(tx, events, { reservationIds: [locked.reservation.id] }, deps.clock);
        return HOLD_ENDED;
      }
      return change(tx, events, locked);
    },
  );
  if (outcome === HOLD_ENDED) {
    throw reservationExpired(reservationId);
  }
  return outcome;
}
