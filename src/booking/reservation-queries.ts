import { type EntityManager } from '@mikro-orm/postgresql';
import { type ReservationStatus } from '../entities/enums';
import { type Reservation } from '../entities/reservation.entity';
import { forbidden, notFound } from '../errors/domain-error';
import { repositoriesOf } from '../repositories';
import { type ReservationListing, ReservationListingQueries } from '../repositories/reservation-listing';
import { type Caller } from './caller';

/**
 * True when `caller` may read `reservation`: its owner, or an admin.
 */
export function mayRead(caller: Caller, reservation: Pick<Reservation, 'userId'>): boolean {
  return reservation.userId === caller.userId || caller.isAdmin;
}

/**
 * A reservation the caller may see (owner or admin).
 *
 * @throws DomainError NOT_FOUND, FORBIDDEN.
 */
export async function getReservation(
  em: EntityManager,
  caller: Caller,
  reservationId: string,
): Promise<Reservation> {
  const reservation = await repositoriesOf(em).reservations.findById(reservationId);
  if (!reservation) {
    throw notFound('Reservation', reservationId);
  }
  if (!mayRead(caller, reservation)) {
    throw forbidden('This reservation belongs to another user.');
  }
  return reservation;
}

/**
 * The caller's reservations, newest first (at most 200), optionally in one status as read, each
 * with its seats: one statement, read models instead of entities.
 */
export async function listMyReservations(
  em: EntityManager,
  caller: Caller,
  status?: ReservationStatus,
): Promise<ReservationListing[]> {
  // The listing alone: `repositoriesOf` would build every repository of a fresh fork.
  return new ReservationListingQueries(em).forUser(caller.userId, status);
}
