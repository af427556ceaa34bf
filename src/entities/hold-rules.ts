import { ReservationStatus, SeatStatus } from './enums';

/**
 * The one rule of holds: a hold is over once its end is reached by the clock, even before
 * anything marks it (the expiry worker or sweeper catches up later). Readers therefore see a
 * RESERVED seat whose hold ended as AVAILABLE, and a PENDING reservation whose hold ended as
 * EXPIRED; writers may expire such a hold and take its seats.
 *
 * The rule is judged in SQL only, by the database clock (see `infra/clock.ts`): the SQL
 * fragments below are the one place it is written. JavaScript never compares dates with its own
 * clock; it only maps the database's verdict (`holdEnded`) to a status.
 *
 * Lives beside the entities (not in `booking/`) because every layer needs it: repositories
 * write it into their statements, the Reservation entity reads it as a formula, resolvers map it.
 */

/** SQL: the hold ending at `holdEnd` has ended at `now` (both SQL expressions). */
export function holdEndedSql(holdEnd: string, now: string): string {
  return `(${holdEnd} <= ${now})`;
}

/** SQL: the hold ending at `holdEnd` is still running at `now`. */
export function holdRunningSql(holdEnd: string, now: string): string {
  return `(${holdEnd} > ${now})`;
}

/** SQL: the status a reader sees of the seat row aliased `seat`, at `now`. */
export function seatStatusAsReadSql(seat: string, now: string): string {
  return `(case when ${seat}.status = 'RESERVED' and ${holdEndedSql(`${seat}.hold_expires_at`, now)}
                then 'AVAILABLE' else ${seat}.status end)`;
}

/** SQL: the seat row aliased `seat` counts as available at `now` (ended holds included). */
export function seatAvailableSql(seat: string, now: string): string {
  return `(${seatStatusAsReadSql(seat, now)} = '${SeatStatus.AVAILABLE}')`;
}

/**
 * The status a reader sees of a reservation, given the database's verdict on its hold: a
 * PENDING reservation whose hold has ended is EXPIRED.
 */
export function reservationStatusAsRead(reservation: {
  readonly status: ReservationStatus;
  readonly holdEnded?: boolean | null;
}): ReservationStatus {
  return reservation.status === ReservationStatus.PENDING && reservation.holdEnded === true
    ? ReservationStatus.EXPIRED
    : reservation.status;
}
