import {
  HARNESS_HOLD_SECONDS,
  insertSession,
  someUser,
  useBookingHarness,
} from '../../test/support/booking-harness';
import { SeatStatus } from '../entities/enums';
import { repositoriesOf } from '../repositories';
import { expireOverdue } from './expire-overdue';
import { reserve } from './reserve/reserve';

describe('expire overdue (use case on PostgreSQL, manual clock)', () => {
  const booking = useBookingHarness();

  it('expires only the holds that ended by the clock, once, freeing their seats with events', async () => {
    const session = await insertSession(booking.orm);
    const user = someUser();
    const first = await reserve(booking.harness.deps, booking.harness.em(), user, {
      sessionId: session.id,
      seatIds: [session.seatIds[0]],
    });
    expect(
      await expireOverdue(booking.harness.deps, booking.harness.em(), { reservationIds: [first.id] }),
    ).toEqual([]);

    booking.harness.clock.advance(HARNESS_HOLD_SECONDS * 1_000);
    const expired = await expireOverdue(booking.harness.deps, booking.harness.em(), {
      reservationIds: [first.id],
    });
    expect(expired.map((reservation) => reservation.id)).toEqual([first.id]);
    expect(expired[0]).toMatchObject({
      seatIds: [session.seatIds[0]],
      databaseNow: booking.harness.clock.fixedNow,
    });
    expect(
      await expireOverdue(booking.harness.deps, booking.harness.em(), { reservationIds: [first.id] }),
    ).toEqual([]);

    const [seat] = await repositoriesOf(booking.harness.em()).seats.findByIds(
      [session.seatIds[0]],
      booking.harness.clock,
    );
    expect(seat).toMatchObject({ status: SeatStatus.AVAILABLE, holdEndsAt: null, version: 3 });
    expect(booking.harness.events.slice(-2)).toEqual([
      expect.objectContaining({ topic: 'reservation.expired' }),
      expect.objectContaining({
        topic: 'seat.status-changed',
        payload: expect.objectContaining({
          seats: [expect.objectContaining({ status: SeatStatus.AVAILABLE })],
        }),
      }),
    ]);
  });

  it('reads a seat whose hold ended as AVAILABLE before anything expires it', async () => {
    const session = await insertSession(booking.orm);
    await reserve(booking.harness.deps, booking.harness.em(), someUser(), {
      sessionId: session.id,
      seatIds: [session.seatIds[1]],
    });
    const { seats } = repositoriesOf(booking.harness.em());
    expect((await seats.findByIds([session.seatIds[1]], booking.harness.clock))[0].status).toBe(
      SeatStatus.RESERVED,
    );
    expect(
      (await seats.availabilityBySessions([session.id], booking.harness.clock)).get(session.id)?.available,
    ).toBe(3);
    booking.harness.clock.advance(HARNESS_HOLD_SECONDS * 1_000);
    expect((await seats.findByIds([session.seatIds[1]], booking.harness.clock))[0]).toMatchObject({
      status: SeatStatus.AVAILABLE,
      holdEndsAt: null,
    });
    expect(await seats.availabilityBySessions([session.id], booking.harness.clock)).toEqual(
      new Map([[session.id, { available: 4 }]]),
    );
  });
});
