import { DomainError, ErrorCode } from '../errors/domain-error';

/** SEAT_UNAVAILABLE for `seatIds`: already held or sold (the client may pick others). */
export const seatUnavailable = (seatIds: readonly string[]): DomainError =>
  new DomainError(ErrorCode.SeatUnavailable, 'Some seats are already held or sold.', {
    seatIds: [...seatIds],
  });

/** RESERVATION_EXPIRED: the hold ended; its seats were released. */
export const reservationExpired = (reservationId: string): DomainError =>
  new DomainError(ErrorCode.ReservationExpired, 'The reservation has expired; its seats were released.', {
    reservationId,
  });

/** INVALID_STATE for a reservation that cannot take this step. */
export const invalidState = (message: string, reservationId: string): DomainError =>
  new DomainError(ErrorCode.InvalidState, message, { reservationId });
