import { EntityRepository } from '@mikro-orm/postgresql';
import { holdEndedSql, seatAvailableSql } from '../entities/hold-rules';
import { type Seat } from '../entities/seat.entity';
import { CLOCK_NOW_SQL, type Clock, DATABASE_CLOCK } from '../infra/clock';
import { executePrepared, preparedStatement } from '../infra/prepared-statements';
import { asDate } from '../infra/sql';
import { uuidv7 } from '../infra/uuid';
import { type NewPendingReservation, reservationConflictOf } from './reservation.repository';
import { type LayoutSeat } from '../seating/auditorium-layout';
import {
  changedSeatColumns,
  type SeatReadModel,
  type SeatReadRow,
  seatReadColumns,
  toSeatReadModel,
} from './seat-read-model';
import { runningHoldsAfterUserLockSql } from '../entities/user-holds-lock';

/** A session's seats with the map version they are at (one snapshot). */
export interface SeatMapSnapshot {
  readonly mapVersion: number;
  readonly seats: SeatReadModel[];
}

/** A seat of a layout with its price in the session being created. */
export type PricedSeat = LayoutSeat & { readonly priceCents: number };

/** A seat a release freed, with the reservation that held it. */
export type ReleasedSeat = SeatReadModel & { readonly reservationId: string };

/** Why a requested seat could not be held (see {@link SeatRepository.describe}). */
export interface SeatDiagnosis {
  readonly id: string;
  readonly sessionId: string;
  /** RESERVED by a hold that has ended: the hold can be expired and the seat taken. */
  readonly staleHold: boolean;
}

/** What {@link SeatRepository.holdForNewReservation} did. */
export interface HoldOutcome {
  /** The reservation was inserted (only when every wanted seat was held). */
  readonly reservationInserted: boolean;
  /** The session has started (by the clock): nothing was held. */
  readonly sessionStarted: boolean;
  /** The user's running holds, as counted before this one. */
  readonly activeHolds: number;
  /** The seats it moved to RESERVED (fewer than asked: some could not be held). */
  readonly held: SeatReadModel[];
  /** End of the new hold; null when nothing was held. */
  readonly holdExpiresAt: Date | null;
  /** The clock's `now` for this transaction. */
  readonly databaseNow: Date;
}

/** How many seats of a session can be reserved now (ended holds count as available). */
export interface SessionAvailability {
  readonly available: number;
}

// Returned by every write: the changed seats as readers now see them (a fresh hold runs, so
// the stored status is the status as read).
const CHANGED_SEAT = changedSeatColumns('s');

// The statement of SeatRepository.holdForNewReservation. The reservation and its links are
// written by the same statement as the hold (one round trip fewer on the hottest write), and
// only when every wanted seat was held (`having`), so a partial hold inserts nothing. Whether a
// seat is free is read from the row as locked (`target.free`), not by the update's own filter:
// under READ COMMITTED that filter sees the statement's snapshot, so a seat freed by a
// transaction that committed while this one waited for its row would be refused. Its times
// are to the millisecond, as JavaScript reads them back (the entity is built from those). A
// prepared statement with bind parameters: it is planned once per connection.
const HOLD_FOR_NEW_RESERVATION = preparedStatement(
  'hold_for_new_reservation',
  `with clock as materialized (
    select ${CLOCK_NOW_SQL} as now
  ), started as materialized (
    select (?::timestamptz <= clock.now) as session_started from clock
  ), active as materialized (
    select ${runningHoldsAfterUserLockSql('clock.now')} as holds from clock
  ), target as materialized (
    select id, status = 'AVAILABLE' as free from seat
     where id = any(?::uuid[]) and session_id = ?
       and not (select session_started from started)
       and (select holds from active) < ?
     order by id
       for update
  ), held as (
    update seat s
       set status = 'RESERVED', version = s.version + 1,
           hold_expires_at = (select now from clock) + make_interval(secs => ?)
      from target
     where s.id = target.id and target.free
    returning ${CHANGED_SEAT}
  ), created as (
    insert into reservation (id, user_id, session_id, status, expires_at, created_at, updated_at,
                             total_cents, idempotency_key, lock_token)
    select ?::uuid, ?, ?::uuid, 'PENDING', date_trunc('milliseconds', min(held.hold_ends_at)),
           date_trunc('milliseconds', clock.now), date_trunc('milliseconds', clock.now),
           sum(held.price_cents), ?, ?
      from held cross join clock
     group by clock.now
    having count(*) = ?
    returning id
  ), linked as (
    insert into reservation_seat (reservation_id, seat_id, live)
    select created.id, seat_id, true from created, unnest(?::uuid[]) as seat_id
  )
  select started.session_started, active.holds as active_holds, clock.now as database_now,
         (select count(*) from created) > 0 as reservation_inserted, held.*
    from started cross join active cross join clock left join held on true`,
);

/**
 * Seat queries, bound to one entity manager (`em.getRepository(Seat)`). Raw SQL on purpose:
 * seat maps and the reserve path are the hottest reads and writes, and hydrating hundreds of
 * managed entities per request (identity map, change-tracking snapshots) costs more than the
 * query itself. Every statement that changes seats first locks them in id order (a
 * materialised `FOR UPDATE` CTE), so concurrent transactions over overlapping seats queue
 * instead of deadlocking. Lock order across tables: reservation rows, then seat rows.
 */
export class SeatRepository extends EntityRepository<Seat> {
  /** Seats of the given sessions as read now, ordered by session, row, then number. */
  async findBySessions(
    sessionIds: readonly string[],
    clock: Clock = DATABASE_CLOCK,
  ): Promise<SeatReadModel[]> {
    const rows: SeatReadRow[] = await this.getEntityManager().execute(
      `with clock as materialized (select ${CLOCK_NOW_SQL} as now)
       select ${seatReadColumns('seat', 'clock.now')}
         from seat, clock where session_id = any(array[?]::uuid[])
        order by session_id, row_index, number`,
      [clock.fixedNow, sessionIds],
    );
    return rows.map(toSeatReadModel);
  }

  /**
   * The seat maps of the given sessions as read now, each with the map version it is at: one
   * statement, so each map and its version are one consistent snapshot. Unknown sessions are
   * missing.
   */
  async findSeatMaps(
    sessionIds: readonly string[],
    clock: Clock = DATABASE_CLOCK,
  ): Promise<Map<string, SeatMapSnapshot>> {
    const rows: (Partial<SeatReadRow> & { map_session_id: string; map_version: number })[] =
      await this.getEntityManager().execute(
        `with clock as materialized (select ${CLOCK_NOW_SQL} as now)
         select maps.id as map_session_id, maps.map_version, ${seatReadColumns('seat', 'clock.now')}
           from session maps cross join clock
           left join seat on seat.session_id = maps.id
          where maps.id = any(array[?]::uuid[])
          order by maps.id, seat.row_index, seat.number`,
        [clock.fixedNow, sessionIds],
      );
    const maps = new Map<string, SeatMapSnapshot>();
    for (const row of rows) {
      let map = maps.get(row.map_session_id);
      if (!map) {
        map = { mapVersion: row.map_version, seats: [] };
        maps.set(row.map_session_id, map);
      }
      if (row.id !== null && row.id !== undefined) {
        map.seats.push(toSeatReadModel(row as SeatReadRow));
      }
    }
    return maps;
  }

  /** Seats by id as read now, ordered by row then number; unknown ids are simply missing. */
  async findByIds(seatIds: readonly string[], clock: Clock = DATABASE_CLOCK): Promise<SeatReadModel[]> {
    const rows: SeatReadRow[] = await this.getEntityManager().execute(
      `with clock as materialized (select ${CLOCK_NOW_SQL} as now)
       select ${seatReadColumns('seat', 'clock.now')}
         from seat, clock where id = any(array[?]::uuid[]) order by row_index, number`,
      [clock.fixedNow, seatIds],
    );
    return rows.map(toSeatReadModel);
  }

  /** Per session: the seats counted as available now (ended holds count). Sessions without seats are missing. */
  async availabilityBySessions(
    sessionIds: readonly string[],
    clock: Clock = DATABASE_CLOCK,
  ): Promise<Map<string, SessionAvailability>> {
    const rows: { session_id: string; available: number }[] = await this.getEntityManager().execute(
      `with clock as materialized (select ${CLOCK_NOW_SQL} as now)
         select session_id,
                count(*) filter (where ${seatAvailableSql('seat', 'clock.now')})::int as available
           from seat, clock
          where session_id = any(array[?]::uuid[])
          group by session_id`,
      [clock.fixedNow, sessionIds],
    );
    return new Map(rows.map((row) => [row.session_id, { available: row.available }]));
  }

  /**
   * The hold of a new reservation, in one statement: takes the per-user lock (as
   * `ReservationRepository.lockUserHolds` does, so the count below includes what the lock's
   * previous holder committed); unless the session has started or the user already has
   * `maxActiveHolds` PENDING reservations still running, moves the AVAILABLE seats among
   * `seatIds` of `sessionId` to RESERVED until now + `holdSeconds` (by `clock`); and when it
   * moved every one of them, inserts the PENDING reservation `reservation.id` (total: the sum
   * of their prices; end: the hold's) with its live links to them. Returns the user's running
   * holds as counted, and only the seats it moved: fewer than asked means some were
   * unavailable, unknown, or of another session (none are moved when the limit is reached),
   * and no reservation was inserted; the caller rolls the partial hold back.
   *
   * Only inside a transaction (it throws otherwise): a partial hold is undone by the caller's
   * rollback; alone, it would leave seats RESERVED with no reservation to end their hold.
   *
   * @throws ReservationConflict when a unique index refuses the reservation (the transaction
   *   is aborted).
   */
  async holdForNewReservation(
    hold: {
      readonly userId: string;
      readonly maxActiveHolds: number;
      readonly sessionId: string;
      readonly sessionStartsAt: Date;
      /** Canonical: lower-case, sorted, no duplicates. */
      readonly seatIds: readonly string[];
      readonly holdSeconds: number;
      readonly reservation: Pick<NewPendingReservation, 'id' | 'idempotencyKey' | 'lockToken'>;
    },
    clock: Clock = DATABASE_CLOCK,
  ): Promise<HoldOutcome> {
    let rows: (Partial<SeatReadRow> & {
      reservation_inserted: boolean;
      session_started: boolean;
      active_holds: number;
      database_now: Date | string;
    })[];
    try {
      rows = await executePrepared(this.getEntityManager(), HOLD_FOR_NEW_RESERVATION, [
        clock.fixedNow,
        hold.sessionStartsAt,
        hold.userId,
        hold.seatIds,
        hold.sessionId,
        hold.maxActiveHolds,
        hold.holdSeconds,
        hold.reservation.id,
        hold.userId,
        hold.sessionId,
        hold.reservation.idempotencyKey,
        hold.reservation.lockToken,
        hold.seatIds.length,
        hold.seatIds,
      ]);
    } catch (error) {
      throw reservationConflictOf(error) ?? error;
    }
    const held = rows.filter(
      (row): row is (typeof rows)[number] & SeatReadRow => row.id !== null && row.id !== undefined,
    );
    return {
      reservationInserted: rows[0].reservation_inserted,
      sessionStarted: rows[0].session_started,
      activeHolds: rows[0].active_holds,
      held: held.map(toSeatReadModel),
      holdExpiresAt: held.length > 0 && held[0].hold_ends_at !== null ? asDate(held[0].hold_ends_at) : null,
      databaseNow: asDate(rows[0].database_now),
    };
  }

  /**
   * Why seats could not be held: each requested seat that exists, with its session and
   * whether it is held by a reservation that has ended (by `clock`).
   */
  async describe(seatIds: readonly string[], clock: Clock = DATABASE_CLOCK): Promise<SeatDiagnosis[]> {
    const rows: { id: string; session_id: string; stale_hold: boolean }[] =
      await this.getEntityManager().execute(
        `select id, session_id,
              (status = 'RESERVED' and ${holdEndedSql('hold_expires_at', CLOCK_NOW_SQL)}) as stale_hold
         from seat where id = any(array[?]::uuid[])`,
        [clock.fixedNow, seatIds],
      );
    return rows.map((row) => ({ id: row.id, sessionId: row.session_id, staleHold: row.stale_hold }));
  }

  /** Moves the seats held by `reservationId` to SOLD. */
  async sellHeldBy(reservationId: string): Promise<SeatReadModel[]> {
    const rows: SeatReadRow[] = await this.getEntityManager().execute(
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
       returning ${CHANGED_SEAT}`,
      [reservationId],
    );
    return rows.map(toSeatReadModel);
  }

  /**
   * Frees the seats held by the given reservations (cancelled or expired): seats go back to
   * AVAILABLE and the reservation-seat links stop being live.
   */
  async releaseHeldBy(reservationIds: readonly string[]): Promise<ReleasedSeat[]> {
    if (reservationIds.length === 0) {
      return [];
    }
    const rows: (SeatReadRow & { reservation_id: string })[] = await this.getEntityManager().execute(
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
       returning ${CHANGED_SEAT}, target.reservation_id`,
      [reservationIds, reservationIds],
    );
    return rows.map((row) => ({ ...toSeatReadModel(row), reservationId: row.reservation_id }));
  }

  /**
   * Creates the AVAILABLE seats of a new session, in one statement (a 100 x 100 room is
   * 10,000 rows: one round trip, no unit of work). The seats travel as one JSON parameter:
   * one bind parameter per value would pass PostgreSQL's limit of 65,535.
   */
  async insertSeats(sessionId: string, seats: readonly PricedSeat[]): Promise<void> {
    const rows = seats.map((seat) => ({
      id: uuidv7(),
      row_index: seat.y,
      row: seat.row,
      number: seat.number,
      x: seat.x,
      category: seat.category,
      kind: seat.kind,
      price_cents: seat.priceCents,
    }));
    await this.getEntityManager().execute(
      `insert into seat (id, session_id, row_index, row, number, x, category, kind, price_cents)
       select id, ?, row_index, row, number, x, category, kind, price_cents
         from json_to_recordset(?::json)
           as seat(id uuid, row_index int, row text, number int, x int, category text, kind text,
                   price_cents int)`,
      [sessionId, JSON.stringify(rows)],
    );
  }

  /**
   * Puts the SOLD seats of a refunded reservation back on sale: they go back to AVAILABLE (new
   * versions) and the reservation's seat links stop being live, so the seats can be reserved
   * again. Returns the seats it changed.
   */
  async releaseSoldBy(reservationId: string): Promise<SeatReadModel[]> {
    const rows: SeatReadRow[] = await this.getEntityManager().execute(
      `with target as materialized (
         select s.id from seat s
           join reservation_seat rs on rs.seat_id = s.id
          where rs.reservation_id = ? and rs.live
          order by s.id
            for update of s
       ), unlinked as (
         update reservation_seat set live = false
          where reservation_id = ? and live
       )
       update seat s
          set status = 'AVAILABLE', version = s.version + 1, hold_expires_at = null
         from target
        where s.id = target.id and s.status = 'SOLD'
       returning ${CHANGED_SEAT}`,
      [reservationId, reservationId],
    );
    return rows.map(toSeatReadModel);
  }
}
