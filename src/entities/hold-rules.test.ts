import { ReservationStatus } from './enums';
import { reservationStatusAsRead } from './hold-rules';

describe('hold rule', () => {
  it('reads a PENDING reservation whose hold ended (by the database) as EXPIRED', () => {
    expect(reservationStatusAsRead({ status: ReservationStatus.PENDING, holdEnded: true })).toBe(
      ReservationStatus.EXPIRED,
    );
  });

  it('leaves a running hold, and every other status, as stored', () => {
    expect(reservationStatusAsRead({ status: ReservationStatus.PENDING, holdEnded: false })).toBe(
      ReservationStatus.PENDING,
    );
    // Just inserted: not read back by the database yet, and running by construction.
    expect(reservationStatusAsRead({ status: ReservationStatus.PENDING })).toBe(ReservationStatus.PENDING);
    for (const status of [
      ReservationStatus.CONFIRMED,
      ReservationStatus.CANCELLED,
      ReservationStatus.EXPIRED,
    ]) {
      expect(reservationStatusAsRead({ status, holdEnded: true })).toBe(status);
    }
  });
});
