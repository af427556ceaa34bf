import { type EntityManager } from '@mikro-orm/postgresql';
import { ReservationStatus } from '../entities/enums';
import { ReservationSeat } from '../entities/reservation-seat.entity';
import { Reservation } from '../entities/reservation.entity';
import { asDate } from '../infra/sql';

/** A reservation locked for the rest of the transaction, judged by the database clock. */
export interface LockedReservation {
  readonly reservation: Reservation;
  /** PENDING with `expiresAt` reached: the hold has ended even if nothing marked it yet. */
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

/** Which overdue reservations to expire. */
export type OverdueCriteria =
  | { readonly reservationIds: readonly string[] }
  | { readonly holdingSeatIds: readonly string[] }
  | { readonly limit: number };

// Per-user advisory locks live in their own key space: (namespace, hash of the user id).
const USER_HOLDS_LOCK_NAMESPACE = 7_204;

/** Reservation queries. */
export class ReservationRepository {
  /** Reads and row-locks one reservation (`FOR UPDATE`); null when it does not exist. */
  async lockForUpdate(em: EntityManager, reservationId: string): Promise<LockedReservation | null> {
    const rows: (Record<string, unknown> & { overdue: boolean; database_now: Date | string })[] =
      await em.execute(
        `select r.*, (r.status = 'PENDING' and r.expires_at <= now()) as overdue, now() as database_now
         from reservation r where r.id = ? for update`,
        [reservationId],
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
   */
  async lockUserHolds(em: EntityManager, userId: string): Promise<void> {
    await em.execute('select pg_advisory_xact_lock(?, hashtext(?))', [USER_HOLDS_LOCK_NAMESPACE, userId]);
  }

  /**
   * Inserts a PENDING reservation and its live links to `seatIds` in one statement (no unit
   * of work: this is the hottest write), and returns it as a managed entity.
   */
  async insertPending(em: EntityManager, pending: NewPendingReservation): Promise<Reservation> {
    const rows: Record<string, unknown>[] = await em.execute(
      `with created as (
         insert into reservation (id, user_id, session_id, status, expires_at, created_at, updated_at,
                                  total_cents, idempotency_key, lock_token)
         values (?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?)
         returning *
       ), linked as (
         insert into reservation_seat (reservation_id, seat_id, live)
         select created.id, seat_id, true from created, unnest(array[?]::uuid[]) as seat_id
       )
       select * from created`,
      [
        pending.id,
        pending.userId,
        pending.sessionId,
        pending.expiresAt,
        pending.createdAt,
        pending.createdAt,
        pending.totalCents,
        pending.idempotencyKey,
        pending.lockToken,
        pending.seatIds,
      ],
    );
    return em.map(Reservation, rows[0]);
  }

  /** Moves overdue PENDING reservations to EXPIRED (seats are released separately). */
  async expireOverdue(em: EntityManager, criteria: OverdueCriteria): Promise<ExpiredReservation[]> {
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
      filter = `r.id in (select id from reservation
                          where status = 'PENDING' and expires_at <= now()
                          order by expires_at limit ? for update skip locked)`;
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
    }[] = await em.execute(
      `update reservation r set status = 'EXPIRED', updated_at = now()
        where r.status = 'PENDING' and r.expires_at <= now() and ${filter}
       returning r.id, r.user_id, r.session_id, r.expires_at, r.total_cents, now() as database_now,
                 array(select seat_id from reservation_seat where reservation_id = r.id order by seat_id) as seat_ids`,
      parameters,
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

  async findByIdempotencyKey(
    em: EntityManager,
    userId: string,
    idempotencyKey: string,
  ): Promise<Reservation | null> {
    return em.findOne(Reservation, { userId, idempotencyKey });
  }

  async findById(em: EntityManager, reservationId: string): Promise<Reservation | null> {
    return em.findOne(Reservation, { id: reservationId });
  }

  async findByIds(em: EntityManager, reservationIds: readonly string[]): Promise<Reservation[]> {
    return em.find(Reservation, { id: { $in: [...reservationIds] } });
  }

  /**
   * The user's reservations, newest first. `status` filters on the status a reader sees:
   * an overdue PENDING reservation counts as EXPIRED.
   */
  async findForUser(em: EntityManager, userId: string, status?: ReservationStatus): Promise<Reservation[]> {
    const now = new Date();
    const where =
      status === undefined
        ? { userId }
        : status === ReservationStatus.PENDING
          ? { userId, status, expiresAt: { $gt: now } }
          : status === ReservationStatus.EXPIRED
            ? {
                userId,
                $or: [
                  { status: ReservationStatus.EXPIRED },
                  { status: ReservationStatus.PENDING, expiresAt: { $lte: now } },
                ],
              }
            : { userId, status };
    return em.find(Reservation, where, { orderBy: { id: 'desc' }, limit: 200 });
  }

  /** Seat ids of each reservation (every seat it ever held, live or not), sorted. */
  async seatIdsByReservations(
    em: EntityManager,
    reservationIds: readonly string[],
  ): Promise<Map<string, string[]>> {
    const links = await em.find(
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

/** What {@link ReservationRepository.insertPending} writes. */
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
