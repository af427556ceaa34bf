import { SeatLocks } from '../../src/infra/seat-locks';
import { type TestApp } from './test-app';

/** A session, and the seats whose Redis locks go when time passes. */
export interface HeldSession {
  readonly sessionId: string;
  readonly seatIds: readonly string[];
}

/**
 * Time passes by `seconds` for a session's holds in a process on PostgreSQL's own clock, which
 * no test moves: what the clock is compared with moves back instead (a process started with a
 * `ManualClock`, see `startTestApp`, moves that clock instead). The session's PENDING
 * reservations (their start and end) and their seats' hold ends move `seconds` earlier, the
 * process's read cache forgets the session's results (they were kept until ends that have moved),
 * and the seats' Redis locks are dropped (their TTLs ran with the holds).
 */
export async function passTime(testApp: TestApp, held: HeldSession, seconds: number): Promise<void> {
  const em = testApp.app.orm.em.fork();
  const shift = `interval '${seconds} seconds'`;
  // One statement, the seats found through the holds it moves: a reserve or an extension
  // committing meanwhile moves with both or with neither, so holds and seats stay in step.
  await em.execute(
    `with moved as (
       update reservation set created_at = created_at - ${shift}, expires_at = expires_at - ${shift}
        where session_id = ? and status = 'PENDING'
       returning id
     )
     update seat s set hold_expires_at = s.hold_expires_at - ${shift}
       from reservation_seat rs join moved on moved.id = rs.reservation_id
      where rs.live and s.id = rs.seat_id and s.status = 'RESERVED'`,
    [held.sessionId],
  );
  // The clock moved under the process's feet: results it keeps until a hold ends are now wrong.
  testApp.app.sessionCache.invalidate([
    {
      topic: 'seat.status-changed',
      payload: {
        mapVersion: 0,
        sessionId: held.sessionId,
        reservationId: null,
        seats: [],
        changedAt: new Date().toISOString(),
      },
    },
  ]);
  await dropSeatLocks(testApp, held);
}

/** Drops the Redis locks of the session's seats, as a flush (or their TTLs running out) would. */
export async function dropSeatLocks(testApp: TestApp, held: HeldSession): Promise<void> {
  await testApp.app.redis.del(...held.seatIds.map((seatId) => SeatLocks.key(held.sessionId, seatId)));
}
