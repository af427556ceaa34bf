import { badUserInput } from '../../errors/domain-error';
import { parseIds } from '../../infra/uuid';
import { MAX_SEATS_PER_RESERVATION } from '../booking-limits';

/**
 * Step 1 of reserve: the seat selection as one canonical list (lower-case, sorted), so that a
 * replay compares like with like and locks are taken in one order.
 *
 * @throws DomainError BAD_USER_INPUT (field `seatIds`): empty, too many, malformed, repeated.
 */
export function validateSeatSelection(seatIds: readonly string[]): string[] {
  if (seatIds.length === 0) {
    throw badUserInput('seatIds', 'Choose at least one seat.');
  }
  if (seatIds.length > MAX_SEATS_PER_RESERVATION) {
    throw badUserInput('seatIds', `A reservation holds at most ${MAX_SEATS_PER_RESERVATION} seats.`);
  }
  const normalised = parseIds('seatIds', seatIds, 'Seat ids must be UUIDs.');
  if (new Set(normalised).size !== normalised.length) {
    throw badUserInput('seatIds', 'Each seat may appear only once.');
  }
  return normalised.sort();
}
