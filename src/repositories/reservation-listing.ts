import { type EntityManager } from '@mikro-orm/postgresql';
import { ReservationStatus } from '../entities/enums';
import { holdEndedSql, holdRunningSql, seatStatusAsReadSql } from '../entities/hold-rules';
import { asDate } from '../infra/sql';
import { type SeatReadModel } from './seat-read-model';

/** Most reservations `myReservations` lists (newest first). */
export const MAX_LISTED_RESERVATIONS = 200;

/** A seat of a listed reservation, as read with it (status as read, no hold end). */
export type ListedSeat = Omit<SeatReadModel, 'holdEndsAt'>;

/**
 * One reservation as `myReservations` shows it: its own columns, the database's verdict on its
 * hold and every seat it ever held (live or not), read in the same statement, so the reservation's
 * status and its seats' statuses are judged at one instant of the database clock.
 */
export interface ReservationListing {
  readonly id: string;
  readonly userId: string;
  readonly sessionId: string;
  /** The stored status; a PENDING one with `holdEnded` reads as EXPIRED (`reservationStatusAsRead`). */
  readonly status: ReservationStatus;
  readonly holdEnded: boolean;
  readonly expiresAt: Date;
  readonly createdAt: Date;
  readonly totalCents: number;
  /** Ordered by row, then number. */
  readonly seats: readonly ListedSeat[];
}

interface ListingRow {
  id: string;
  user_id: string;
  session_id: string;
  status: ReservationStatus;
  hold_ended: boolean;
  expires_at: Date | string;
  created_at: Date | string;
  total_cents: number;
  seats: ListedSeat[];
}

/** The status filter of a listing, as read by the database clock (`now()` of the statement). */
function statusFilter(status: ReservationStatus | undefined): { sql: string; parameters: unknown[] } {
  switch (status) {
    case undefined:
      return { sql: '', parameters: [] };
    case ReservationStatus.PENDING:
      return {
        sql: `and r.status = 'PENDING' and ${holdRunningSql('r.expires_at', 'now()')}`,
        parameters: [],
      };
    case ReservationStatus.EXPIRED:
      return {
        sql: `and (r.status = 'EXPIRED' or (r.status = 'PENDING' and ${holdEndedSql('r.expires_at', 'now()')}))`,
        parameters: [],
      };
    default:
      return { sql: 'and r.status = ?', parameters: [status] };
  }
}

/**
 * The read model of a user's reservation list (one screen, one statement): no entity is
 * hydrated and no loader runs for the seats. `myReservations` is the hottest per-user read, so
 * it costs one round trip instead of one per relation.
 */
export class ReservationListingQueries {
  constructor(private readonly em: EntityManager) {}

  /**
   * The user's reservations, newest first (at most {@link MAX_LISTED_RESERVATIONS}), with their
   * seats. `status` filters on the status a reader sees: an overdue PENDING reservation counts
   * as EXPIRED.
   */
  async forUser(userId: string, status?: ReservationStatus): Promise<ReservationListing[]> {
    const filter = statusFilter(status);
    // The seats' keys are SeatReadModel's names, so a row's `seats` needs no renaming.
    const rows: ListingRow[] = await this.em.execute(
      `select r.id, r.user_id, r.session_id, r.status, r.expires_at, r.created_at, r.total_cents,
              ${holdEndedSql('r.expires_at', 'now()')} as hold_ended,
              coalesce((
                select json_agg(json_build_object(
                         'id', s.id, 'sessionId', s.session_id, 'rowIndex', s.row_index, 'row', s.row,
                         'number', s.number, 'x', s.x, 'category', s.category, 'kind', s.kind,
                         'priceCents', s.price_cents, 'version', s.version,
                         'status', ${seatStatusAsReadSql('s', 'now()')})
                       order by s.row_index, s.number)
                  from reservation_seat rs join seat s on s.id = rs.seat_id
                 where rs.reservation_id = r.id
              ), '[]'::json) as seats
         from reservation r
        where r.user_id = ? ${filter.sql}
        order by r.id desc
        limit ?`,
      [userId, ...filter.parameters, MAX_LISTED_RESERVATIONS],
    );
    return rows.map((row) => ({
      id: row.id,
      userId: row.user_id,
      sessionId: row.session_id,
      status: row.status,
      holdEnded: row.hold_ended,
      expiresAt: asDate(row.expires_at),
      createdAt: asDate(row.created_at),
      totalCents: row.total_cents,
      seats: typeof row.seats === 'string' ? (JSON.parse(row.seats) as ListedSeat[]) : row.seats,
    }));
  }
}
