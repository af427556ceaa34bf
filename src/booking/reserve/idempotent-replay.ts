import { type EntityManager } from '@mikro-orm/postgresql';
import { type Reservation } from '../../entities/reservation.entity';
import { badUserInput } from '../../errors/domain-error';
import { repositoriesOf } from '../../repositories';
import { type Caller } from '../caller';

/** The caller's reservation made with `idempotencyKey` before, if any (none without a key). */
export async function previousReservation(
  em: EntityManager,
  caller: Caller,
  idempotencyKey: string | null,
): Promise<Reservation | null> {
  return idempotencyKey === null
    ? null
    : repositoriesOf(em).reservations.findByIdempotencyKey(caller.userId, idempotencyKey);
}

/**
 * Step 2 of reserve: the first answer for an idempotency key, provided the request is the same
 * kind: same session, and seats that `sameSeats` accepts (reserve: the same seats;
 * reserveBestAvailable: as many).
 *
 * @throws DomainError BAD_USER_INPUT (field `idempotencyKey`) when the key was used for a
 *   different reservation.
 */
export async function replayReservation(
  em: EntityManager,
  previous: Reservation,
  sessionId: string,
  sameSeats: (previousSeatIds: readonly string[]) => boolean,
): Promise<Reservation> {
  const byReservation = await repositoriesOf(em).reservations.seatIdsByReservations([previous.id]);
  if (previous.session.id !== sessionId || !sameSeats(byReservation.get(previous.id) ?? [])) {
    throw badUserInput('idempotencyKey', 'This idempotencyKey was already used for a different reservation.');
  }
  return previous;
}
