import { type EntityManager } from '@mikro-orm/postgresql';
import { DomainError, ErrorCode } from '../../errors/domain-error';
import { type Clock } from '../../infra/clock';
import { repositoriesOf } from '../../repositories';
import { seatUnavailable } from '../booking-errors';

/** Some wanted seats are held by holds that have ended: expire those and try again. */
export interface StaleHoldFound {
  readonly kind: 'stale-hold';
}

/**
 * Step 4 of reserve, when not every seat could be held: the most helpful answer. Throws the
 * client's error, or returns {@link StaleHoldFound} when the seats are only blocked by ended
 * holds (the reserve then expires them in a transaction of their own and runs again).
 *
 * @throws DomainError NOT_FOUND (unknown seats), BAD_USER_INPUT (seats of another session),
 *   SEAT_UNAVAILABLE.
 */
export async function explainUnavailable(
  tx: EntityManager,
  sessionId: string,
  missingSeatIds: readonly string[],
  clock: Clock,
): Promise<StaleHoldFound> {
  const described = await repositoriesOf(tx).seats.describe(missingSeatIds, clock);
  const known = new Set(described.map((seat) => seat.id));
  const unknown = missingSeatIds.filter((seatId) => !known.has(seatId));
  if (unknown.length > 0) {
    throw new DomainError(ErrorCode.NotFound, `Seat ${unknown.join(', ')} does not exist.`, {
      seatIds: unknown,
    });
  }
  const foreign = described.filter((seat) => seat.sessionId !== sessionId).map((seat) => seat.id);
  if (foreign.length > 0) {
    throw new DomainError(ErrorCode.BadUserInput, 'Some seats belong to another session.', {
      field: 'seatIds',
      seatIds: foreign,
    });
  }
  if (described.some((seat) => seat.staleHold)) {
    return { kind: 'stale-hold' };
  }
  throw seatUnavailable(missingSeatIds);
}
