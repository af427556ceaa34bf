import { type BookingEvent } from '../booking/booking-events';
import { ReservationStatus } from '../entities/enums';
import { HoldEndIndex } from './hold-ends';
import { ALL_SESSIONS } from './session-reads';

function reservationEvent(
  topic: 'reservation.created' | 'reservation.cancelled' | 'reservation.confirmed',
  sessionId: string,
  reservationId: string,
  expiresAt: number,
): BookingEvent {
  return {
    topic,
    payload: {
      reservationId,
      userId: 'u',
      sessionId,
      status: topic === 'reservation.created' ? ReservationStatus.PENDING : ReservationStatus.CANCELLED,
      seatIds: [],
      totalCents: 0,
      expiresAt: new Date(expiresAt).toISOString(),
      changedAt: new Date(0).toISOString(),
    },
  } as BookingEvent;
}

describe('HoldEndIndex', () => {
  let now = 1_000_000;
  const LINGER = 1_000;
  const index = () => new HoldEndIndex(LINGER, () => now);

  beforeEach(() => {
    now = 1_000_000;
  });

  it("answers the earliest hold still ahead among a query's sessions, every session for a list", async () => {
    const holds = index();
    holds.record([
      reservationEvent('reservation.created', 's1', 'r1', 1_000_500),
      reservationEvent('reservation.created', 's1', 'r2', 1_000_300),
      reservationEvent('reservation.created', 's2', 'r3', 1_000_100),
    ]);
    expect(await holds.nextHoldEnd(['s1'])).toEqual(new Date(1_000_300));
    expect(await holds.nextHoldEnd(['s3'])).toBeNull();
    expect(await holds.nextHoldEnd([ALL_SESSIONS])).toEqual(new Date(1_000_100));
  });

  it('forgets a hold when its reservation moves on, or a linger after the clock passes its end', async () => {
    const holds = index();
    holds.load([{ reservationId: 'r1', sessionId: 'S1', endsAt: new Date(1_000_300) }]);
    holds.record([reservationEvent('reservation.created', 's1', 'r2', 1_000_500)]);
    expect(await holds.nextHoldEnd(['s1'])).toEqual(new Date(1_000_300));
    holds.record([reservationEvent('reservation.cancelled', 's1', 'r1', 1_000_300)]);
    expect(await holds.nextHoldEnd(['s1'])).toEqual(new Date(1_000_500));
    // Ended by this process's clock, which may run ahead of the database's: still reported (a
    // result read now is not stored), until the linger has passed too.
    now = 1_000_500;
    expect(await holds.nextHoldEnd(['s1'])).toEqual(new Date(1_000_500));
    now = 1_000_500 + LINGER;
    expect(await holds.nextHoldEnd(['s1'])).toBeNull();
    expect(holds.size).toEqual({ sessions: 0, holds: 0 });
  });

  it('ignores holds that ended more than a linger ago when they become known', async () => {
    const holds = index();
    holds.record([reservationEvent('reservation.created', 's1', 'r1', 1_000_000 - LINGER)]);
    expect(await holds.nextHoldEnd(['s1'])).toBeNull();
    expect(holds.size.holds).toBe(0);
  });

  it('sweeps holds whose terminal event never came, without being asked for their session', () => {
    const holds = index();
    holds.record([reservationEvent('reservation.created', 's1', 'r1', 1_000_100)]);
    expect(holds.size.holds).toBe(1);
    now = 1_000_100 + LINGER;
    holds.record([reservationEvent('reservation.created', 's2', 'r2', now + 5_000)]);
    expect(holds.size).toEqual({ sessions: 1, holds: 1 });
  });
});
