import { type MikroORM } from '@mikro-orm/postgresql';
import {
  bookingHarness,
  type BookingHarness,
  HARNESS_HOLD_SECONDS,
  insertSession,
  someUser,
} from '../../test/support/booking-harness';
import { connectMigratedTestDatabase } from '../../test/support/test-app';
import { SeatStatus } from '../entities/enums';
import { repositoriesOf } from '../repositories';
import { expireOverdue } from './expire-overdue';
import { reserve } from './reserve/reserve';

describe('expire overdue (use case on PostgreSQL, manual clock)', () => {
  let orm: MikroORM;
  let harness: BookingHarness;

  beforeAll(async () => {
    orm = await connectMigratedTestDatabase();
  });
  afterAll(async () => {
    await orm.close();
  });
  beforeEach(() => {
    harness = bookingHarness(orm);
  });

  it('expires only the holds that ended by the clock, once, freeing their seats with events', async () => {
    const session = await insertSession(orm);
    const user = someUser();
    const first = await reserve(harness.deps, harness.em(), user, {
      sessionId: session.id,
      seatIds: [session.seatIds[0]],
    });
    expect(await expireOverdue(harness.deps, harness.em(), { reservationIds: [first.id] })).toEqual([]);

    harness.clock.advance(HARNESS_HOLD_SECONDS * 1_000);
    const expired = await expireOverdue(harness.deps, harness.em(), { reservationIds: [first.id] });
    expect(expired.map((reservation) => reservation.id)).toEqual([first.id]);
    expect(expired[0]).toMatchObject({ seatIds: [session.seatIds[0]], databaseNow: harness.clock.fixedNow });
    expect(await expireOverdue(harness.deps, harness.em(), { reservationIds: [first.id] })).toEqual([]);

    const [seat] = await repositoriesOf(harness.em()).seats.findByIds([session.seatIds[0]], harness.clock);
    expect(seat).toMatchObject({ status: SeatStatus.AVAILABLE, holdEndsAt: null, version: 3 });
    expect(harness.events.slice(-2)).toEqual([
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
    const session = await insertSession(orm);
    await reserve(harness.deps, harness.em(), someUser(), {
      sessionId: session.id,
      seatIds: [session.seatIds[1]],
    });
    const { seats } = repositoriesOf(harness.em());
    expect((await seats.findByIds([session.seatIds[1]], harness.clock))[0].status).toBe(SeatStatus.RESERVED);
    expect((await seats.availabilityBySessions([session.id], harness.clock)).get(session.id)?.available).toBe(
      3,
    );
    harness.clock.advance(HARNESS_HOLD_SECONDS * 1_000);
    expect((await seats.findByIds([session.seatIds[1]], harness.clock))[0]).toMatchObject({
      status: SeatStatus.AVAILABLE,
      holdEndsAt: null,
    });
    expect(await seats.availabilityBySessions([session.id], harness.clock)).toEqual(
      new Map([[session.id, { available: 4, nextHoldEnd: null }]]),
    );
  });
});
