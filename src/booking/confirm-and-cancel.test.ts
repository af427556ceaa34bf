import {
  HARNESS_HOLD_SECONDS,
  insertSession,
  someUser,
  useBookingHarness,
} from '../../test/support/booking-harness';
import { ReservationStatus, SeatStatus } from '../entities/enums';
import { repositoriesOf } from '../repositories';
import { cancelReservation } from './cancel-reservation';
import { confirmPayment } from './confirm-payment';
import { reserve } from './reserve/reserve';

describe('confirm payment and cancel (use cases on PostgreSQL, manual clock)', () => {
  const booking = useBookingHarness();

  async function held(seatCount = 2) {
    const session = await insertSession(booking.orm);
    const user = someUser();
    const seatIds = session.seatIds.slice(0, seatCount);
    const reservation = await reserve(booking.harness.deps, booking.harness.em(), user, {
      sessionId: session.id,
      seatIds,
    });
    return { session, user, seatIds, reservation };
  }

  it('sells the seats, releases exactly their locks, and answers a repeat with the same sale', async () => {
    const { user, seatIds, reservation } = await held();
    const sale = await confirmPayment(booking.harness.deps, booking.harness.em(), user, reservation.id);
    expect(sale.amountCents).toBe(reservation.totalCents);
    expect(booking.harness.locks.tokens.size).toBe(0);
    const seats = await repositoriesOf(booking.harness.em()).seats.findByIds(seatIds);
    expect(seats.map((seat) => seat.status)).toEqual([SeatStatus.SOLD, SeatStatus.SOLD]);
    expect((await confirmPayment(booking.harness.deps, booking.harness.em(), user, reservation.id)).id).toBe(
      sale.id,
    );
  });

  it('answers RESERVATION_EXPIRED once the clock passes the hold, and frees the seats', async () => {
    const { user, seatIds, reservation } = await held();
    booking.harness.clock.advance(HARNESS_HOLD_SECONDS * 1_000);
    await expect(
      confirmPayment(booking.harness.deps, booking.harness.em(), user, reservation.id),
    ).rejects.toMatchObject({
      code: 'RESERVATION_EXPIRED',
      details: { reservationId: reservation.id },
    });
    const { reservations, seats } = repositoriesOf(booking.harness.em());
    expect((await reservations.findById(reservation.id))?.status).toBe(ReservationStatus.EXPIRED);
    const freed = await seats.findByIds(seatIds, booking.harness.clock);
    expect(freed.map((seat) => seat.status)).toEqual([SeatStatus.AVAILABLE, SeatStatus.AVAILABLE]);
    expect(booking.harness.events.slice(-2).map((event) => event.topic)).toEqual([
      'reservation.expired',
      'seat.status-changed',
    ]);
  });

  it('cancels with the freed seats in its event, releasing their locks; cancelling again changes nothing', async () => {
    const { user, seatIds, reservation } = await held();
    const cancelled = await cancelReservation(
      booking.harness.deps,
      booking.harness.em(),
      user,
      reservation.id,
    );
    expect(cancelled.status).toBe(ReservationStatus.CANCELLED);
    expect(booking.harness.locks.tokens.size).toBe(0);
    const event = booking.harness.events.find((recorded) => recorded.topic === 'reservation.cancelled');
    expect(event?.payload).toMatchObject({ seatIds, status: 'CANCELLED' });
    const eventsBefore = booking.harness.events.length;
    expect(
      (await cancelReservation(booking.harness.deps, booking.harness.em(), user, reservation.id)).status,
    ).toBe(ReservationStatus.CANCELLED);
    expect(booking.harness.events.length).toBe(eventsBefore);
  });

  it('lets only the owner change a reservation', async () => {
    const { reservation } = await held(1);
    await expect(
      cancelReservation(booking.harness.deps, booking.harness.em(), someUser(), reservation.id),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      confirmPayment(booking.harness.deps, booking.harness.em(), someUser(), reservation.id),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});
