import { EntityRepository, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { ReservationStatus } from '../entities/enums';
import { holdEndedSql, holdRunningSql } from '../entities/hold-rules';
import { ReservationSeat } from '../entities/reservation-seat.entity';
import { Reservation } from '../entities/reservation.entity';
import { CLOCK_NOW_SQL, type Clock, DATABASE_CLOCK } from '../infra/clock';
import { constraintOf } from '../infra/database-errors';
import { asDate } from '../infra/sql';
import { USER_HOLDS_LOCK_SQL } from '../entities/user-holds-lock';

/** A reservation locked for the rest of the transaction, judged by the clock. */
export interface LockedReservation {
  readonly reservation: Reservation;
  /** PENDING with its hold ended: over even if nothing marked it yet. */
  readonly overdue: boolean;
  readonly databaseNow: Date;
}

/** A reservation that {@link ReservationRepository.expireOverdue} just moved to EXPIRED. */
export interface ExpiredReservation {
  readonly id: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly expiresAt: Date;
  readonly totalCents: number;
  readonly seatIds: string[];
  readonly databaseNow: Date;
}

/** A PENDING reservation's hold that has not ended yet. */
export interface RunningHold {
  readonly reservationId: string;
  readonly sessionId: string;
  readonly endsAt: Date;
}

/** What {@link ReservationRepository.extendHold} found or did. */
export type HoldExtension =
  /** The hold now ends at `expiresAt`, and so do its live seats (`seatIds`, sorted). */
  | {
      readonly extended: true;
      readonly expiresAt: Date;
      readonly seatIds: string[];
      readonly databaseNow: Date;
    }
  /** Nothing changed: the new end would be no later than the current one, `expiresAt` (the cap). */
  | { readonly extended: false; readonly expiresAt: Date; readonly databaseNow: Date };

/** Which overdue reservations to expire. */
export type OverdueCriteria =
  | { readonly reservationIds: readonly string[] }
  | { readonly holdingSeatIds: readonly string[] }
  | { readonly limit: number };

/** A new PENDING reservation, as `SeatRepository.holdForNewReservation` writes it. */
export interface NewPendingReservation {
  readonly id: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly seatIds: readonly string[];
  readonly expiresAt: Date;
  /** Also its `updatedAt`. */
  readonly createdAt: Date;
  readonly totalCents: number;
  readonly idempotencyKey: string | null;
  readonly lockToken: string | null;
}

/**
 * A unique index refused a new reservation. The transaction is aborted by then, so this is
 * thrown (to roll it back), and the caller answers after the rollback.
 */
export class ReservationConflict extends Error {
  constructor(
    /** `idempotency-key`: the user already used the key; `seat-taken`: a seat is live elsewhere. */
    readonly kind: 'idempotency-key' | 'seat-taken',
  ) {
    super(`The new reservation conflicts with another one (${kind}).`);
    this.name = 'ReservationConflict';
  }
}

// The unique indexes a new reservation can hit, by name (migrations name them).
const CONFLICTS_BY_CONSTRAINT: Readonly<Record<string, ReservationConflict['kind']>> = {
  reservation_user_idempotency_key_unique: 'idempotency-key',
  reservation_seat_live_seat_unique: 'seat-taken',
};

/**
 * The {@link ReservationConflict} a failed insert of a reservation (or of its seat links) stands
 * for, when a unique index of a new reservation refused it; undefined for any other error.
 */
export function reservationConflictOf(error: unknown): ReservationConflict | undefined {
  const kind =
    error instanceof UniqueConstraintViolationException
      ? CONFLICTS_BY_CONSTRAINT[constraintOf(error) ?? '']
      : undefined;
  return kind ? new ReservationConflict(kind) : undefined;
}

/** Reservation queries, bound to one entity manager (`em.getRepository(Reservation)`). */
export class ReservationRepository extends EntityRepository<Reservation> {
  /** Reads and row-locks one reservation (`FOR UPDATE`); null when it does not exist. */
  async lockForUpdate(
    reservationId: string,
    clock: Clock = DATABASE_CLOCK,
  ): Promise<LockedReservation | null> {
    const em = this.getEntityManager();
    const rows: (Record<string, unknown> & { overdue: boolean; database_now: Date | string })[] =
      await em.execute(
        `with clock as materialized (select ${CLOCK_NOW_SQL} as now)
       select r.*, ${holdEndedSql('r.expires_at', 'clock.now')} as hold_ended,
              (r.status = 'PENDING' and ${holdEndedSql('r.expires_at', 'clock.now')}) as overdue,
              clock.now as database_now
         from reservation r, clock where r.id = ? for update of r`,
        [clock.fixedNow, reservationId],
      );
    if (rows.length === 0) {
      return null;
    }
    const { overdue, database_now: databaseNow, ...columns } = rows[0];
    const reservation = em.map(Reservation, columns);
    return { reservation, overdue, databaseNow: asDate(databaseNow) };
  }

  /**
   * Takes a transaction-scoped lock on the user, so that concurrent reserves of one user are
   * counted against the pending-holds limit one after the other. A separate statement on
   * purpose: under READ COMMITTED a statement sees the snapshot taken when it started, so a
   * count in the locking statement would miss what the previous lock holder committed while
   * this one waited.
   *
   * The same statement tells whether a session starting at `sessionStartsAt` has started by
   * `clock`: the check needs the database clock, and this statement runs anyway.
   */
  async lockUserHolds(
    userId: string,
    sessionStartsAt: Date,
    clock: Clock = DATABASE_CLOCK,
  ): Promise<{ sessionStarted: boolean }> {
    const [row]: { session_started: boolean }[] = await this.getEntityManager().execute(
      `select ${USER_HOLDS_LOCK_SQL} as locked,
              (?::timestamptz <= ${CLOCK_NOW_SQL}) as session_started`,
      [userId, sessionStartsAt, clock.fixedNow],
    );
    return { sessionStarted: row.session_started };
  }

  /**
   * The managed entity of a PENDING reservation the hold statement has just inserted
   * (`SeatRepository.holdForNewReservation`): no read back, the values are the ones written.
   */
  managedPending(pending: NewPendingReservation): Reservation {
    return this.getEntityManager().map(Reservation, {
      id: pending.id,
      user_id: pending.userId,
      session_id: pending.sessionId,
      status: ReservationStatus.PENDING,
      expires_at: pending.expiresAt,
      created_at: pending.createdAt,
      updated_at: pending.createdAt,
      total_cents: pending.totalCents,
      idempotency_key: pending.idempotencyKey,
      lock_token: pending.lockToken,
      hold_ended: false,
    });
  }

  /**
   * Moves the end of a running PENDING hold, and of its live seats, to
   * `min(now + holdSeconds, createdAt + holdMaxSeconds)` by `clock` (to the millisecond, so the
   * end read back into JavaScript is exactly the stored one), if that is later than its current
   * end; otherwise changes nothing. The seats' status and version stay as they are.
   *
   * Only the seats are written here: the caller holds the reservation row locked
   * (`lockForUpdate`) and writes its new `expiresAt` through the unit of work. Seats are locked
   * in id order, after the reservation row, like every seat write.
   *
   * @returns null when the reservation is not a running PENDING hold by `clock`.
   */
  async extendHold(
    reservationId: string,
    limits: { readonly holdSeconds: number; readonly holdMaxSeconds: number },
    clock: Clock = DATABASE_CLOCK,
  ): Promise<HoldExtension | null> {
    const rows: {
      new_end: Date | string;
      current_end: Date | string;
      extended: boolean;
      seat_ids: string[];
      database_now: Date | string;
    }[] = await this.getEntityManager().execute(
      `with clock as materialized (
         select ${CLOCK_NOW_SQL} as now
       ), hold as materialized (
         select r.id, r.expires_at as current_end,
                date_trunc('milliseconds', least(clock.now + make_interval(secs => ?),
                                                 r.created_at + make_interval(secs => ?))) as new_end
           from reservation r, clock
          where r.id = ? and r.status = 'PENDING' and ${holdRunningSql('r.expires_at', 'clock.now')}
       ), target as materialized (
         select s.id from seat s
           join reservation_seat rs on rs.seat_id = s.id
           join hold on hold.id = rs.reservation_id
          where rs.live and hold.new_end > hold.current_end
          order by s.id
            for update of s
       ), moved as (
         update seat s set hold_expires_at = hold.new_end
           from target, hold
          where s.id = target.id and s.status = 'RESERVED'
         returning s.id
       )
       select hold.new_end, hold.current_end, hold.new_end > hold.current_end as extended,
              array(select id from moved order by id) as seat_ids, clock.now as database_now
         from hold, clock`,
      [clock.fixedNow, limits.holdSeconds, limits.holdMaxSeconds, reservationId],
    );
    if (rows.length === 0) {
      return null;
    }
    const [row] = rows;
    const databaseNow = asDate(row.database_now);
    return row.extended
      ? { extended: true, expiresAt: asDate(row.new_end), seatIds: row.seat_ids, databaseNow }
      : { extended: false, expiresAt: asDate(row.current_end), databaseNow };
  }

  /** Moves overdue PENDING reservations to EXPIRED (seats are released separately). */
  async expireOverdue(
    criteria: OverdueCriteria,
    clock: Clock = DATABASE_CLOCK,
  ): Promise<ExpiredReservation[]> {
    let filter: string;
    let parameters: unknown[];
    if ('reservationIds' in criteria) {
      if (criteria.reservationIds.length === 0) {
        return [];
      }
      filter = 'r.id = any(array[?]::uuid[])';
      parameters = [criteria.reservationIds];
    } else if ('holdingSeatIds' in criteria) {
      filter = `r.id in (select reservation_id from reservation_seat
                          where seat_id = any(array[?]::uuid[]) and live)`;
      parameters = [criteria.holdingSeatIds];
    } else {
      // Oldest first, skipping rows another expirer has locked: sweepers never queue up.
      filter = `r.id in (select id from reservation, clock
                          where status = 'PENDING' and ${holdEndedSql('expires_at', 'clock.now')}
                          order by expires_at limit ? for update of reservation skip locked)`;
      parameters = [criteria.limit];
    }
    const rows: {
      id: string;
      user_id: string;
      session_id: string;
      expires_at: Date | string;
      total_cents: number;
      seat_ids: string[];
      database_now: Date | string;
    }[] = await this.getEntityManager().execute(
      `with clock as materialized (select ${CLOCK_NOW_SQL} as now)
       update reservation r set status = 'EXPIRED', updated_at = clock.now
         from clock
        where r.status = 'PENDING' and ${holdEndedSql('r.expires_at', 'clock.now')} and ${filter}
       returning r.id, r.user_id, r.session_id, r.expires_at, r.total_cents, clock.now as database_now,
                 array(select seat_id from reservation_seat where reservation_id = r.id order by seat_id) as seat_ids`,
      [clock.fixedNow, ...parameters],
    );
    return rows.map((row) => ({
      id: row.id,
      userId: row.user_id,
      sessionId: row.session_id,
      expiresAt: asDate(row.expires_at),
      totalCents: row.total_cents,
      seatIds: row.seat_ids,
      databaseNow: asDate(row.database_now),
    }));
  }

  /** Every PENDING reservation whose hold is still running, by the database clock. */
  async findRunningHolds(): Promise<RunningHold[]> {
    const rows: { id: string; session_id: string; expires_at: Date | string }[] =
      await this.getEntityManager().execute(
        `select id, session_id, expires_at from reservation
          where status = 'PENDING' and ${holdRunningSql('expires_at', 'now()')}`,
      );
    return rows.map((row) => ({
      reservationId: row.id,
      sessionId: row.session_id,
      endsAt: asDate(row.expires_at),
    }));
  }

  /** Time left on a PENDING reservation's hold by `clock`; null if it is not PENDING. */
  async remainingHoldMilliseconds(
    reservationId: string,
    clock: Clock = DATABASE_CLOCK,
  ): Promise<number | null> {
    const rows: { remaining: number }[] = await this.getEntityManager().execute(
      `select ceil(extract(epoch from (expires_at - ${CLOCK_NOW_SQL})) * 1000)::float8 as remaining
         from reservation where id = ? and status = 'PENDING'`,
      [clock.fixedNow, reservationId],
    );
    return rows.length === 0 ? null : rows[0].remaining;
  }

  async findByIdempotencyKey(userId: string, idempotencyKey: string): Promise<Reservation | null> {
    return this.findOne({ userId, idempotencyKey });
  }

  async findById(reservationId: string): Promise<Reservation | null> {
    return this.findOne({ id: reservationId });
  }

  async findByIds(reservationIds: readonly string[]): Promise<Reservation[]> {
    return this.find({ id: { $in: [...reservationIds] } });
  }

  /** Seat ids of each reservation (every seat it ever held, live or not), sorted. */
  async seatIdsByReservations(reservationIds: readonly string[]): Promise<Map<string, string[]>> {
    const links = await this.getEntityManager().find(
      ReservationSeat,
      { reservation: { $in: [...reservationIds] } },
      { orderBy: { seat: 'asc' } },
    );
    const byReservation = new Map<string, string[]>();
    for (const link of links) {
      const seatIds = byReservation.get(link.reservation.id) ?? [];
      seatIds.push(link.seat.id);
      byReservation.set(link.reservation.id, seatIds);
    }
    return byReservation;
  }
}
