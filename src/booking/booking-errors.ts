import { DomainError, ErrorCode } from '../errors/domain-error';
import { HALF_REFUND_BEFORE_START_MILLISECONDS } from './refund-policy';

/**
 * Runs `make` with stack capture off. For refusals so routine that capturing and formatting
 * their stack shows in profiles (every loser of a stampede is one), while no one reads that
 * stack: the caller's own outcome, logged at `debug` without it mattering where it was thrown.
 */
function withoutStack<Made>(make: () => Made): Made {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * SEAT_UNAVAILABLE for `seatIds`: already held or sold (the client may pick others). Built
 * without a stack trace (see {@link withoutStack}): it is what every stampede loser gets.
 */
export const seatUnavailable = (seatIds: readonly string[]): DomainError =>
  withoutStack(
    () =>
      new DomainError(ErrorCode.SeatUnavailable, 'Some seats are already held or sold.', {
        seatIds: [...seatIds],
      }),
  );

/** SESSION_CLOSED: the session has started (by the clock); it takes no more reserves. */
export const sessionClosed = (sessionId: string): DomainError =>
  new DomainError(ErrorCode.SessionClosed, 'The session has already started.', { sessionId });

/** RESERVATION_EXPIRED: the hold ended; its seats were released. */
export const reservationExpired = (reservationId: string): DomainError =>
  new DomainError(ErrorCode.ReservationExpired, 'The reservation has expired; its seats were released.', {
    reservationId,
  });

/** INVALID_STATE for a reservation that cannot take this step. */
export const invalidState = (message: string, reservationId: string): DomainError =>
  new DomainError(ErrorCode.InvalidState, message, { reservationId });

/**
 * REFUND_NOT_ALLOWED: the owner's refund window has passed (the policy gives 0 % from 12 h
 * before the start, and nothing once it has started); only an admin may refund now.
 */
export const refundNotAllowed = (saleId: string): DomainError =>
  new DomainError(
    ErrorCode.RefundNotAllowed,
    `The refund window has passed: ${HALF_REFUND_BEFORE_START_MILLISECONDS / 3_600_000} hours or less remain before the session starts, or it has started.`,
    { saleId },
  );
