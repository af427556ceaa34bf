import { type EntityManager } from '@mikro-orm/postgresql';
import { holdRunningSql } from '../entities/hold-rules';
import { LIMIT_TIMEOUTS_SQL } from '../infra/sql';
import { MAX_DURATION_MINUTES } from '../seating/schedule';

/**
 * Which sessions the occupancy gauge reports, so that its series stay bounded: those not yet
 * ended that start within {@link OCCUPANCY_WINDOW_HOURS} (on sale now, or playing), soonest
 * first, at most {@link OCCUPANCY_MAX_SESSIONS} of them.
 */
export const OCCUPANCY_WINDOW_HOURS = 24;
export const OCCUPANCY_MAX_SESSIONS = 50;

/** How full one session is, as readers see it now (ended holds count as free). */
export interface SessionOccupancy {
  readonly sessionId: string;
  readonly capacity: number;
  readonly sold: number;
  /** Seats in holds still running. */
  readonly held: number;
}

/** The occupancy of the sessions in the window, and how many sessions the window holds in all. */
export interface OccupancyReading {
  readonly sessions: readonly SessionOccupancy[];
  /** Sessions in the window before the cap: more than `sessions.length` when the cap cut some. */
  readonly sessionsInWindow: number;
}

/**
 * One statement, bounded by the window and the cap (it scans only the chosen sessions' seats),
 * run with statement and lock timeouts of at most `timeoutMilliseconds` (lower ones configured for
 * the connection stay) so a slow database cannot pile up scrapes. The window's lower bound on
 * `starts_at` follows from the longest session the model allows (`MAX_DURATION_MINUTES`, also a
 * check constraint): a session that started earlier has ended, so the `starts_at` index range
 * stays that of the sessions around now instead of every past one.
 */
export async function readSessionOccupancy(
  em: EntityManager,
  timeoutMilliseconds: number,
  window = { hours: OCCUPANCY_WINDOW_HOURS, maxSessions: OCCUPANCY_MAX_SESSIONS },
): Promise<OccupancyReading> {
  const rows = await em.transactional(async (tx) => {
    await tx.execute(LIMIT_TIMEOUTS_SQL, [timeoutMilliseconds]);
    return tx.execute<
      { session_id: string; capacity: number; sold: number; held: number; in_window: number }[]
    >(
      `with in_window as (
         select id, starts_at from session
          where starts_at > now() - make_interval(mins => ?)
            and starts_at < now() + make_interval(hours => ?)
            and ends_at > now()
       ), chosen as (
         select id from in_window order by starts_at, id limit ?
       )
       select chosen.id as session_id,
              count(*)::int as capacity,
              (count(*) filter (where seat.status = 'SOLD'))::int as sold,
              (count(*) filter (where seat.status = 'RESERVED'
                                  and ${holdRunningSql('seat.hold_expires_at', 'now()')}))::int as held,
              (select count(*) from in_window)::int as in_window
         from chosen join seat on seat.session_id = chosen.id
        group by chosen.id`,
      [MAX_DURATION_MINUTES, window.hours, window.maxSessions],
    );
  });
  return {
    sessions: rows.map((row) => ({
      sessionId: row.session_id,
      capacity: row.capacity,
      sold: row.sold,
      held: row.held,
    })),
    sessionsInWindow: rows[0]?.in_window ?? 0,
  };
}
