import { type EntityManager } from '@mikro-orm/postgresql';
import { forbidden, notFound } from '../errors/domain-error';
import { type Clock } from '../infra/clock';
import { repositoriesOf } from '../repositories';
import { type LockedReservation } from '../repositories/reservation.repository';
import { type Caller } from './caller';

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
