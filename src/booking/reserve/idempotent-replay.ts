import { type EntityManager } from '@mikro-orm/postgresql';
import { type Reservation } from '../../entities/reservation.entity';
import { badUserInput } from '../../errors/domain-error';
import { repositoriesOf } from '../../repositories';

/**
 * Step 2 of reserve: the first answer for an idempotency key, provided the request is the same
 * one (same session, same seats).
 *
 * @throws DomainError BAD_USER_INPUT (field `idempotencyKey`) when the key was used for a
 *   different reservation.
 */
export async function replayReservation(
  em: EntityManager,
  previous: Reservation,
  sessionId: string,
  seatIds: readonly string[],
): Promise<Reservation> {
  const byReservation = await repositoriesOf(em).reservations.seatIdsByReservations([previous.id]);
  const previousSeatIds = (byReservation.get(previous.id) ?? []).join(',');
  if (previous.session.id !== sessionId || previousSeatIds !== seatIds.join(',')) {
    throw badUserInput('idempotencyKey', 'This idempotencyKey was already used for a different reservation.');
  }
  return previous;
}
