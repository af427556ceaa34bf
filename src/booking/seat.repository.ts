import { type EntityManager } from '@mikro-orm/postgresql';
import { type SeatStatus } from '../entities/enums';
import { asDate } from '../infra/sql';
import { type SeatSnapshot } from './booking-events';

interface SeatChangeRow {
  id: string;
  session_id: string;
  row: string;
  number: number;
  status: SeatStatus;
  version: number;
  reservation_id: string | null;
  hold_expires_at: Date | string | null;
  database_now: Date | string;
}

/** A changed seat as returned by the conditional updates below. */
export interface ChangedSeat extends SeatSnapshot {
  readonly reservationId: string | null;
  readonly holdExpiresAt: Date | null;
  /** `now()` of the transaction that changed it. */
  readonly databaseNow: Date;
}

/** A seat's state for diagnosing a failed hold. */
export interface SeatDescription {
  readonly id: string;
  readonly sessionId: string;
  readonly status: SeatStatus;
  /** RESERVED by a hold whose time is up: the hold can be expired and the seat taken. */
  readonly staleHold: boolean;
}

interface SeatRow {
  id: string;
  session_id: string;
  row_index: number;
  row: string;
  number: number;
  status: SeatStatus;
  version: number;
  hold_expires_at: Date | string | null;
}

const SEAT_COLUMNS = 'id, session_id, row_index, row, number, status, version, hold_expires_at';

function toSeatFields(row: SeatRow): SeatFields {
  return {
    id: row.id,
    sessionId: row.session_id,
    rowIndex: row.row_index,
    row: row.row,
    number: row.number,
    status: row.status,
    version: row.version,
    holdExpiresAt: row.hold_expires_at === null ? null : asDate(row.hold_expires_at),
  };
}

function toChangedSeat(row: SeatChangeRow): ChangedSeat {
  return {
    id: row.id,
    sessionId: row.session_id,
    row: row.row,
    number: row.number,
    status: row.status,
    version: row.version,
    reservationId: row.reservation_id,
    holdExpiresAt: row.hold_expires_at === null ? null : asDate(row.hold_expires_at),
    databaseNow: asDate(row.database_now),
  };
}

/**
 * Seat queries. Every statement that changes seats first locks them in id order (a
 * materialised `FOR UPDATE` CTE), so concurrent transactions over overlapping seats queue
 * instead of deadlocking. Lock order across tables: reservation rows, then seat rows.
 */
export class SeatRepository {
  /**
   * Seats of the given sessions, ordered by row then number, as plain data: seat maps are the
   * hottest read, and hydrating hundreds of managed entities per request (identity map,
   * change-tracking snapshots) costs more than the query itself.
   */
  async findBySessions(em: EntityManager, sessionIds: readonly string[]): Promise<SeatFields[]> {
    const rows: SeatRow[] = await em.execute(
      `select ${SEAT_COLUMNS} from seat where session_id = any(array[?]::uuid[])
        order by session_id, row_index, number`,
      [sessionIds],
    );
    return rows.map(toSeatFields);
  }

  /** Seats by id, ordered by row then number; unknown ids are simply missing. */
  async findByIds(em: EntityManager, seatIds: readonly string[]): Promise<SeatFields[]> {
    const rows: SeatRow[] = await em.execute(
      `select ${SEAT_COLUMNS} from seat where id = any(array[?]::uuid[]) order by row_index, number`,
      [seatIds],
    );
    return rows.map(toSeatFields);
  }

  /**
   * Per session: the seats counted as available now (ended holds count), and when the next
   * live hold ends (the count grows then by the clock alone). Sessions without seats are missing.
   */
  async availabilityBySessions(
    em: EntityManager,
    sessionIds: readonly string[],
  ): Promise<Map<string, SessionAvailability>> {
    const rows: { session_id: string; available: number; next_hold_end: Date | string | null }[] =
      await em.execute(
        `select session_id,
                count(*) filter (where status = 'AVAILABLE'
                                    or (status = 'RESERVED' and hold_expires_at <= now()))::int as available,
                min(hold_expires_at) filter (where status = 'RESERVED' and hold_expires_at > now())
                  as next_hold_end
           from seat
          where session_id = any(array[?]::uuid[])
          group by session_id`,
        [sessionIds],
      );
    return new Map(
      rows.map((row) => [
        row.session_id,
        {
          available: row.available,
          nextHoldEnd: row.next_hold_end === null ? null : asDate(row.next_hold_end),
        },
      ]),
    );
  }

  /**
   * Unless the user already has `maxActiveHolds` PENDING reservations still running, moves
   * the AVAILABLE seats among `seatIds` of `sessionId` to RESERVED until now + `holdSeconds`
   * (database clock), in one statement. Returns the user's running holds as counted, and only
   * the seats it moved: fewer than asked means some were unavailable, unknown, or of another
   * session (none are moved when the limit is reached).
   *
   * Run it after the per-user lock ({@link ReservationRepository.lockUserHolds}): its snapshot
   * is then taken after the previous holder of that lock committed, so the count includes
   * that holder's reservation.
   */
  async holdAvailableWithinLimit(
    em: EntityManager,
    hold: {
      readonly userId: string;
      readonly maxActiveHolds: number;
      readonly sessionId: string;
      readonly seatIds: readonly string[];
      readonly holdSeconds: number;
    },
  ): Promise<{ activeHolds: number; held: ChangedSeat[] }> {
    const rows: (Omit<SeatChangeRow, 'id'> & { id: string | null; active_holds: number })[] =
      await em.execute(
        `with active as materialized (
           select count(*)::int as holds from reservation
            where user_id = ? and status = 'PENDING' and expires_at > now()
         ), target as materialized (
           select id from seat
            where id = any(array[?]::uuid[]) and session_id = ?
              and (select holds from active) < ?
            order by id
              for update
         ), held as (
           update seat s
              set status = 'RESERVED', version = s.version + 1,
                  hold_expires_at = now() + make_interval(secs => ?)
             from target
            where s.id = target.id and s.status = 'AVAILABLE'
           returning s.id, s.session_id, s.row, s.number, s.status, s.version, s.hold_expires_at
         )
         select active.holds as active_holds, held.*, null::uuid as reservation_id, now() as database_now
           from active left join held on true`,
        [hold.userId, hold.seatIds, hold.sessionId, hold.maxActiveHolds, hold.holdSeconds],
      );
    return {
      activeHolds: rows[0].active_holds,
      held: rows
        .filter((row): row is SeatChangeRow & { active_holds: number } => row.id !== null)
        .map(toChangedSeat),
    };
  }

  /**
   * Why seats could not be held: each requested seat that exists, with its session and
   * whether it is held by a reservation that has ended (by the database clock).
   */
  async describe(em: EntityManager, seatIds: readonly string[]): Promise<SeatDescription[]> {
    const rows: { id: string; session_id: string; status: SeatStatus; stale_hold: boolean }[] =
      await em.execute(
        `select id, session_id, status, (status = 'RESERVED' and hold_expires_at <= now()) as stale_hold
         from seat where id = any(array[?]::uuid[])`,
        [seatIds],
      );
    return rows.map((row) => ({
      id: row.id,
      sessionId: row.session_id,
      status: row.status,
      staleHold: row.stale_hold,
    }));
  }

  /** Moves the seats held by `reservationId` to SOLD. */
  async sellHeldBy(em: EntityManager, reservationId: string): Promise<ChangedSeat[]> {
    const rows: SeatChangeRow[] = await em.execute(
      `with target as materialized (
         select s.id from seat s
           join reservation_seat rs on rs.seat_id = s.id
          where rs.reservation_id = ? and rs.live
          order by s.id
            for update of s
       )
       update seat s
          set status = 'SOLD', version = s.version + 1, hold_expires_at = null
         from target
        where s.id = target.id and s.status = 'RESERVED'
       returning s.id, s.session_id, s.row, s.number, s.status, s.version, s.hold_expires_at,
                 ?::uuid as reservation_id, now() as database_now`,
      [reservationId, reservationId],
    );
    return rows.map(toChangedSeat);
  }

  /**
   * Frees the seats held by the given reservations (cancelled or expired): seats go back to
   * AVAILABLE and the reservation-seat links stop being live.
   */
  async releaseHeldBy(em: EntityManager, reservationIds: readonly string[]): Promise<ChangedSeat[]> {
    if (reservationIds.length === 0) {
      return [];
    }
    const rows: SeatChangeRow[] = await em.execute(
      `with target as materialized (
         select s.id, rs.reservation_id from seat s
           join reservation_seat rs on rs.seat_id = s.id
          where rs.reservation_id = any(array[?]::uuid[]) and rs.live
          order by s.id
            for update of s
       ), unlinked as (
         update reservation_seat set live = false
          where reservation_id = any(array[?]::uuid[]) and live
       )
       update seat s
          set status = 'AVAILABLE', version = s.version + 1, hold_expires_at = null
         from target
        where s.id = target.id and s.status = 'RESERVED'
       returning s.id, s.session_id, s.row, s.number, s.status, s.version, s.hold_expires_at,
                 target.reservation_id, now() as database_now`,
      [reservationIds, reservationIds],
    );
    return rows.map(toChangedSeat);
  }
}

/** A seat's stored fields, as plain data (read models, GraphQL). */
export interface SeatFields {
  readonly id: string;
  readonly sessionId: string;
  readonly rowIndex: number;
  readonly row: string;
  readonly number: number;
  readonly status: SeatStatus;
  readonly version: number;
  readonly holdExpiresAt: Date | null;
}

/** How many seats of a session can be reserved now, and when that changes by the clock. */
export interface SessionAvailability {
  readonly available: number;
  /** End of the earliest hold still running, if any. */
  readonly nextHoldEnd: Date | null;
}
