import {
  HARNESS_HOLD_SECONDS,
  insertSession,
  someUser,
  useBookingHarness,
} from '../../../test/support/booking-harness';
import { ReservationStatus, SeatStatus } from '../../entities/enums';
import { reservationStatusAsRead } from '../../entities/hold-rules';
import { repositoriesOf } from '../../repositories';
import { reserve } from './reserve';

describe('reserve (use case on PostgreSQL, in-memory locks, manual clock)', () => {
  const booking = useBookingHarness();

  it('holds the seats until now + the hold by the clock, with its events and locks', async () => {
    const session = await insertSession(booking.orm);
    const seatIds = session.seatIds.slice(0, 2);
    const reservation = await reserve(booking.harness.deps, booking.harness.em(), someUser(), {
      sessionId: session.id.toUpperCase(),
      seatIds: seatIds.map((id) => id.toUpperCase()),
    });
    expect(reservation.status).toBe(ReservationStatus.PENDING);
    expect(reservation.createdAt).toEqual(booking.harness.clock.fixedNow);
    expect(reservation.expiresAt.getTime()).toBe(
      booking.harness.clock.fixedNow!.getTime() + HARNESS_HOLD_SECONDS * 1_000,
    );
    expect(reservation.totalCents).toBe(2_000);
    expect(booking.harness.events.map((event) => event.topic)).toEqual([
      'reservation.created',
      'seat.status-changed',
    ]);
    expect(booking.harness.locks.tokens.size).toBe(2);
    const seats = await repositoriesOf(booking.harness.em()).seats.findByIds(seatIds, booking.harness.clock);
    expect(seats.map((seat) => seat.status)).toEqual([SeatStatus.RESERVED, SeatStatus.RESERVED]);
    expect(seats[0].holdEndsAt).toEqual(reservation.expiresAt);
  });

  it('answers a replayed idempotency key with the first reservation, and refuses it for other seats', async () => {
    const session = await insertSession(booking.orm);
    const user = someUser();
    const command = { sessionId: session.id, seatIds: [session.seatIds[0]], idempotencyKey: 'key-1' };
    const first = await reserve(booking.harness.deps, booking.harness.em(), user, command);
    const again = await reserve(booking.harness.deps, booking.harness.em(), user, command);
    expect(again.id).toBe(first.id);
    await expect(
      reserve(booking.harness.deps, booking.harness.em(), user, {
        ...command,
        seatIds: [session.seatIds[1]],
      }),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'idempotencyKey' } });
  });

  it('reserves through PostgreSQL alone when Redis is down, and says so in the log', async () => {
    const session = await insertSession(booking.orm);
    booking.harness.locks.down = true;
    const reservation = await reserve(booking.harness.deps, booking.harness.em(), someUser(), {
      sessionId: session.id,
      seatIds: [session.seatIds[0]],
    });
    expect(reservation.lockToken).toBeNull();
    expect(booking.harness.warnings).toEqual(['Redis unavailable: reserving through PostgreSQL alone']);
    await expect(
      reserve(booking.harness.deps, booking.harness.em(), someUser(), {
        sessionId: session.id,
        seatIds: [session.seatIds[0]],
      }),
    ).rejects.toMatchObject({ code: 'SEAT_UNAVAILABLE' });
  });

  it('turns a locked seat away before PostgreSQL, counting the conflict, and leaves nothing behind', async () => {
    const session = await insertSession(booking.orm);
    await reserve(booking.harness.deps, booking.harness.em(), someUser(), {
      sessionId: session.id,
      seatIds: [session.seatIds[0]],
    });
    await expect(
      reserve(booking.harness.deps, booking.harness.em(), someUser(), {
        sessionId: session.id,
        seatIds: session.seatIds.slice(0, 2),
      }),
    ).rejects.toMatchObject({ code: 'SEAT_UNAVAILABLE', details: { seatIds: [session.seatIds[0]] } });
    expect(booking.harness.lockConflicts()).toBe(1);
    expect(booking.harness.locks.tokens.size).toBe(1);
  });

  it('with an idempotency key, lets PostgreSQL judge a locked seat (it may be the same request)', async () => {
    const session = await insertSession(booking.orm);
    const seatIds = [session.seatIds[0]];
    await reserve(booking.harness.deps, booking.harness.em(), someUser(), { sessionId: session.id, seatIds });
    await expect(
      reserve(booking.harness.deps, booking.harness.em(), someUser(), {
        sessionId: session.id,
        seatIds,
        idempotencyKey: 'k',
      }),
    ).rejects.toMatchObject({ code: 'SEAT_UNAVAILABLE', details: { seatIds } });
    expect(booking.harness.lockConflicts()).toBe(0);
  });

  it('expires a hold that ended by the clock and holds its seats again', async () => {
    const session = await insertSession(booking.orm);
    const seatIds = [session.seatIds[0]];
    const stale = await reserve(booking.harness.deps, booking.harness.em(), someUser(), {
      sessionId: session.id,
      seatIds,
    });
    booking.harness.clock.advance(HARNESS_HOLD_SECONDS * 1_000 + 1);
    booking.harness.locks.tokens.clear(); // Redis would have ended the lock by its TTL.
    const fresh = await reserve(booking.harness.deps, booking.harness.em(), someUser(), {
      sessionId: session.id,
      seatIds,
    });
    const { reservations } = repositoriesOf(booking.harness.em());
    expect((await reservations.findById(stale.id))?.status).toBe(ReservationStatus.EXPIRED);
    expect(reservationStatusAsRead(fresh)).toBe(ReservationStatus.PENDING);
    expect(booking.harness.events.map((event) => event.topic)).toEqual([
      'reservation.created',
      'seat.status-changed',
      'reservation.expired',
      'seat.status-changed',
      'reservation.created',
      'seat.status-changed',
    ]);
  });

  it('refuses a session that has started by the clock, leaving no lock', async () => {
    // Relative to the test's clock, not the wall clock: the test may start late on a busy machine.
    const startsAt = new Date(booking.harness.clock.fixedNow.getTime() + 30_000);
    const session = await insertSession(booking.orm, { startsAt });
    booking.harness.clock.advance(60_000);
    await expect(
      reserve(booking.harness.deps, booking.harness.em(), someUser(), {
        sessionId: session.id,
        seatIds: [session.seatIds[0]],
      }),
    ).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    expect(booking.harness.locks.tokens.size).toBe(0);
    expect(booking.harness.events).toEqual([]);
  });
});
