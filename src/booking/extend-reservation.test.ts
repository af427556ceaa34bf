import {
  HARNESS_HOLD_MAX_SECONDS,
  HARNESS_HOLD_SECONDS,
  insertSession,
  someUser,
  useBookingHarness,
} from '../../test/support/booking-harness';
import { ReservationStatus, SeatStatus } from '../entities/enums';
import { repositoriesOf } from '../repositories';
import { cancelReservation } from './cancel-reservation';
import { confirmPayment } from './confirm-payment';
import { extendReservation } from './extend-reservation';
import { reserve } from './reserve/reserve';

const SECOND = 1_000;

describe('extend a reservation (use case on PostgreSQL, manual clock)', () => {
  const booking = useBookingHarness();

  async function held(seatCount = 2) {
    const session = await insertSession(booking.orm);
    const user = someUser();
    const seatIds = session.seatIds.slice(0, seatCount);
    const reservation = await reserve(booking.harness.deps, booking.harness.em(), user, {
      sessionId: session.id,
      seatIds,
    });
    return { session, user, seatIds, reservation, createdAt: reservation.createdAt.getTime() };
  }

  const extend = (user: { userId: string; isAdmin: boolean }, reservationId: string) =>
    extendReservation(booking.harness.deps, booking.harness.em(), user, reservationId);

  /** The reservation and its seats as stored, seats as read by the harness's clock. */
  async function stored(reservationId: string, seatIds: readonly string[]) {
    const { reservations, seats } = repositoriesOf(booking.harness.em());
    const reservation = await reservations.findById(reservationId);
    const seatRows = await seats.findByIds(seatIds, booking.harness.clock);
    return {
      status: reservation?.status,
      expiresAt: reservation?.expiresAt.getTime(),
      seats: seatRows.map((seat) => ({
        status: seat.status,
        version: seat.version,
        holdEndsAt: seat.holdEndsAt?.getTime() ?? null,
      })),
    };
  }

  it('moves the end to now + HOLD_SECONDS each time, the last time clipped to createdAt + HOLD_MAX_SECONDS', async () => {
    const { session, user, seatIds, reservation, createdAt } = await held();
    const { clock, locks, events } = booking.harness;
    // Expected ends, from createdAt: 30 + 60 = 90, 70 + 60 = 130, then 110 + 60 = 170 clipped to 150.
    const steps = [
      { advance: 30, end: 90 },
      { advance: 40, end: 130 },
      { advance: 40, end: HARNESS_HOLD_MAX_SECONDS },
    ];
    for (const step of steps) {
      clock.advance(step.advance * SECOND);
      const extended = await extend(user, reservation.id);
      expect(extended.status).toBe(ReservationStatus.PENDING);
      expect(extended.expiresAt.getTime()).toBe(createdAt + step.end * SECOND);
      expect(await stored(reservation.id, seatIds)).toEqual({
        status: ReservationStatus.PENDING,
        expiresAt: createdAt + step.end * SECOND,
        // Still RESERVED, and the same versions: an extension is no status change.
        seats: seatIds.map(() => ({
          status: SeatStatus.RESERVED,
          version: 2,
          holdEndsAt: createdAt + step.end * SECOND,
        })),
      });
      // The locks of the hold's token now live until the new end.
      const remaining = createdAt + step.end * SECOND - clock.fixedNow.getTime();
      for (const seatId of seatIds) {
        expect(locks.extendedTtls.get(`${session.id}:${seatId}`)).toBe(remaining);
      }
      expect(events.at(-1)).toEqual({
        topic: 'reservation.extended',
        payload: expect.objectContaining({
          reservationId: reservation.id,
          status: ReservationStatus.PENDING,
          seatIds,
          expiresAt: new Date(createdAt + step.end * SECOND).toISOString(),
          changedAt: clock.fixedNow.toISOString(),
        }),
      });
    }
    // No seat changed status: no seat event since the reserve.
    expect(events.map((event) => event.topic)).toEqual([
      'reservation.created',
      'seat.status-changed',
      'reservation.extended',
      'reservation.extended',
      'reservation.extended',
    ]);
  });

  it('answers LIMIT_EXCEEDED at the cap and changes nothing', async () => {
    const { user, seatIds, reservation, createdAt } = await held();
    const { clock, events } = booking.harness;
    // At 30 s, 70 s, then 90 s: there now + HOLD_SECONDS is exactly the cap (150 s).
    for (const advance of [30, 40, HARNESS_HOLD_MAX_SECONDS - HARNESS_HOLD_SECONDS - 70]) {
      clock.advance(advance * SECOND);
      await extend(user, reservation.id);
    }
    const before = await stored(reservation.id, seatIds);
    expect(before.expiresAt).toBe(createdAt + HARNESS_HOLD_MAX_SECONDS * SECOND);
    const eventsBefore = events.length;

    clock.advance(5 * SECOND);
    await expect(extend(user, reservation.id)).rejects.toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: {
        reservationId: reservation.id,
        holdMaxSeconds: HARNESS_HOLD_MAX_SECONDS,
        expiresAt: new Date(createdAt + HARNESS_HOLD_MAX_SECONDS * SECOND).toISOString(),
      },
    });
    expect(await stored(reservation.id, seatIds)).toEqual(before);
    expect(events.length).toBe(eventsBefore);
  });

  it('answers LIMIT_EXCEEDED when the hold cannot end any later (the same instant)', async () => {
    const { user, reservation } = await held(1);
    // The clock has not moved since the reserve: now + HOLD_SECONDS is the current end.
    await expect(extend(user, reservation.id)).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
  });

  it('answers RESERVATION_EXPIRED once the hold has ended, freeing its seats like paying would', async () => {
    const { user, seatIds, reservation, createdAt } = await held();
    const { clock, events } = booking.harness;
    clock.advance(30 * SECOND);
    await extend(user, reservation.id);
    // Past the old end, not the new one: still running.
    clock.advance(40 * SECOND);
    expect((await stored(reservation.id, seatIds)).seats.map((seat) => seat.status)).toEqual([
      SeatStatus.RESERVED,
      SeatStatus.RESERVED,
    ]);
    clock.advance(20 * SECOND);
    expect(clock.fixedNow.getTime()).toBe(createdAt + 90 * SECOND);
    await expect(extend(user, reservation.id)).rejects.toMatchObject({
      code: 'RESERVATION_EXPIRED',
      details: { reservationId: reservation.id },
    });
    expect(await stored(reservation.id, seatIds)).toEqual({
      status: ReservationStatus.EXPIRED,
      expiresAt: createdAt + 90 * SECOND,
      seats: seatIds.map(() => ({ status: SeatStatus.AVAILABLE, version: 3, holdEndsAt: null })),
    });
    expect(events.slice(-2).map((event) => event.topic)).toEqual([
      'reservation.expired',
      'seat.status-changed',
    ]);
    // Once EXPIRED, the same answer, and nothing more happens.
    const eventsBefore = events.length;
    await expect(extend(user, reservation.id)).rejects.toMatchObject({ code: 'RESERVATION_EXPIRED' });
    expect(events.length).toBe(eventsBefore);
  });

  it('answers INVALID_STATE for a confirmed or cancelled reservation', async () => {
    const paid = await held(1);
    await confirmPayment(booking.harness.deps, booking.harness.em(), paid.user, paid.reservation.id);
    const cancelled = await held(1);
    await cancelReservation(
      booking.harness.deps,
      booking.harness.em(),
      cancelled.user,
      cancelled.reservation.id,
    );
    const eventsBefore = booking.harness.events.length;
    booking.harness.clock.advance(10 * SECOND);
    for (const { user, reservation, seatIds } of [paid, cancelled]) {
      const before = await stored(reservation.id, seatIds);
      await expect(extend(user, reservation.id)).rejects.toMatchObject({
        code: 'INVALID_STATE',
        details: { reservationId: reservation.id },
      });
      expect(await stored(reservation.id, seatIds)).toEqual(before);
    }
    expect(booking.harness.events.length).toBe(eventsBefore);
  });

  it("refuses another user's reservation (admins too: owner only) and an unknown one", async () => {
    const { reservation, seatIds } = await held(1);
    booking.harness.clock.advance(10 * SECOND);
    const before = await stored(reservation.id, seatIds);
    await expect(extend(someUser(), reservation.id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(extend({ userId: 'admin-1', isAdmin: true }, reservation.id)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await stored(reservation.id, seatIds)).toEqual(before);
    await expect(extend(someUser(), '01890000-0000-7000-8000-000000000000')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('extends a hold made while Redis was down (no locks to follow), and one whose locks cannot be reached', async () => {
    const { locks, warnings } = booking.harness;
    locks.down = true;
    const tokenless = await held(1);
    expect(
      (await repositoriesOf(booking.harness.em()).reservations.findById(tokenless.reservation.id))?.lockToken,
    ).toBeNull();
    locks.down = false;
    booking.harness.clock.advance(10 * SECOND);
    const extended = await extend(tokenless.user, tokenless.reservation.id);
    expect(extended.expiresAt.getTime()).toBe(tokenless.createdAt + 70 * SECOND);
    expect(locks.extendedTtls.size).toBe(0);

    const locked = await held(1);
    booking.harness.clock.advance(10 * SECOND);
    locks.down = true;
    // PostgreSQL decided; the locks then end at the old time, which only sends contenders to it.
    const again = await extend(locked.user, locked.reservation.id);
    expect(again.expiresAt.getTime()).toBe(locked.createdAt + 70 * SECOND);
    expect(warnings).toContain('Could not extend seat locks');
  });
});
