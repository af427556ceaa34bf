import { type BookingEvent } from '../booking/booking-events';
import { ReservationStatus } from '../entities/enums';
import { HoldEndIndex } from './hold-ends';
import { SessionReadCache } from './session-read-cache';
import { ALL_SESSIONS } from './session-reads';

function reservationEvent(
  topic: 'reservation.created' | 'reservation.extended' | 'reservation.cancelled' | 'reservation.confirmed',
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
      status:
        topic === 'reservation.created' || topic === 'reservation.extended'
          ? ReservationStatus.PENDING
          : ReservationStatus.CANCELLED,
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

  it('moves a hold to its new end when it is extended, and keeps the later end whatever the order', async () => {
    const holds = index();
    holds.record([reservationEvent('reservation.created', 's1', 'r1', 1_000_300)]);
    holds.record([reservationEvent('reservation.extended', 's1', 'r1', 1_000_900)]);
    expect(await holds.nextHoldEnd(['s1'])).toEqual(new Date(1_000_900));
    // Past the old end and its linger: the hold is still known, by its new end.
    now = 1_000_300 + LINGER;
    expect(await holds.nextHoldEnd(['s1'])).toEqual(new Date(1_000_900));
    expect(holds.size.holds).toBe(1);

    // Relayed by two processes, the extension may arrive before the creation.
    holds.record([reservationEvent('reservation.extended', 's2', 'r2', 1_002_000)]);
    holds.record([reservationEvent('reservation.created', 's2', 'r2', 1_001_500)]);
    expect(await holds.nextHoldEnd(['s2'])).toEqual(new Date(1_002_000));
  });

  it("keeps a cached seat map past an extended hold's old end, and drops it at the new end", async () => {
    const holds = index();
    const cache = new SessionReadCache(
      { maxAgeMilliseconds: 60_000, maxBytes: 1_024 * 1_024 },
      { nextHoldEnd: holds.nextHoldEnd, clock: () => now },
    );
    const read = async (label: string) => {
      const flight = cache.begin('map', ['s1']);
      await cache.finish('map', flight, { data: { seat: label } });
    };
    // Reserved until 1_000_300, then extended (the process commits it, or its event arrives).
    const created = [reservationEvent('reservation.created', 's1', 'r1', 1_000_300)];
    holds.record(created);
    cache.invalidate(created);
    await read('RESERVED');
    const extended = [reservationEvent('reservation.extended', 's1', 'r1', 1_005_000)];
    holds.record(extended);
    cache.invalidate(extended);
    await read('RESERVED');

    now = 1_000_300 + LINGER;
    expect(cache.lookup('map')).toEqual({ data: { seat: 'RESERVED' } });
    now = 1_005_000 - 1;
    expect(cache.lookup('map')).toEqual({ data: { seat: 'RESERVED' } });
    // The seat reads AVAILABLE from the new end on: the result read while it was held is gone.
    now = 1_005_000;
    expect(cache.lookup('map')).toBeNull();
  });
});
