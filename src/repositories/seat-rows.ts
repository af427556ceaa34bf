import { type EntityManager } from '@mikro-orm/postgresql';
import { SeatKind } from '../entities/enums';
import { seatAvailableSql } from '../entities/hold-rules';
import { CLOCK_NOW_SQL, type Clock, DATABASE_CLOCK } from '../infra/clock';

/** What {@link SeatRowQueries.findBestBlocks} looks for. */
export interface BlockQuery {
  readonly sessionId: string;
  /** Seats side by side in one row (consecutive `x`, no gap between them). */
  readonly quantity: number;
  /** Only seats of this category; null: any. */
  readonly category: string | null;
  /** Exactly one WHEELCHAIR space, the others COMPANION or STANDARD; otherwise STANDARD only. */
  readonly accessible: boolean;
  /** Skip blocks that would leave a single free seat beside them. */
  readonly noSingleSeat: boolean;
  /** The ideal row (`y`) and column (`x`, may be a half) the best block is nearest to. */
  readonly idealY: number;
  readonly idealX: number;
  /** Seats to count as taken whatever their status (e.g. just lost to a concurrent reserve). */
  readonly takenSeatIds: readonly string[];
  /** Most blocks to return. */
  readonly limit: number;
}

// Advisory locks of seat rows live in their own key space: (namespace, hash of session and row).
const SEAT_ROW_LOCK_NAMESPACE = 7_206;

/**
 * Queries over the seats of one row at a time (neighbours by `x`), for choosing blocks and for
 * the gap rule. A neighbour is the seat at `x ± 1`; a gap or the row's end counts as taken. Raw
 * SQL with window functions: a row is read once, in `x` order, however large the session.
 */
export class SeatRowQueries {
  constructor(private readonly em: EntityManager) {}

  /**
   * The free blocks nearest the ideal spot, best first: distance = |Δy| + |Δx of the block's
   * centre| / 4, ties by smaller `y`, then smaller `x`. Each block is its seat ids, left to right.
   * Read now (by `clock`); PostgreSQL decides again when a block is held.
   */
  async findBestBlocks(query: BlockQuery, clock: Clock = DATABASE_CLOCK): Promise<string[][]> {
    const eligibleKind = query.accessible
      ? `kind in ('${SeatKind.STANDARD}', '${SeatKind.COMPANION}', '${SeatKind.WHEELCHAIR}')`
      : `kind = '${SeatKind.STANDARD}'`;
    const rows: { ids: string[] }[] = await this.em.execute(
      `with clock as materialized (
         select ${CLOCK_NOW_SQL} as now
       ), row_seats as (
         select seat.id, seat.row_index as y, seat.x, seat.kind, seat.category,
                ${seatAvailableSql('seat', 'clock.now')} and seat.id <> all(?::uuid[]) as available
           from seat, clock where seat.session_id = ?
       ), neighbours as (
         select *,
                coalesce(lag(x) over w = x - 1 and lag(available) over w, false) as left_free,
                coalesce(lag(x, 2) over w = x - 2 and lag(available, 2) over w, false) as left_free_2,
                coalesce(lead(x) over w = x + 1 and lead(available) over w, false) as right_free,
                coalesce(lead(x, 2) over w = x + 2 and lead(available, 2) over w, false) as right_free_2,
                (available and ${eligibleKind} and (?::text is null or category = ?::text)) as eligible
           from row_seats window w as (partition by y order by x)
       ), blocks as (
         select y, x, left_free, left_free_2,
                lead(x, ?::int - 1) over w as last_x,
                lead(right_free, ?::int - 1) over w as last_right_free,
                lead(right_free_2, ?::int - 1) over w as last_right_free_2,
                count(*) filter (where eligible) over block as eligible_seats,
                count(*) filter (where kind = '${SeatKind.WHEELCHAIR}') over block as wheelchairs,
                array_agg(id) over block as ids
           from neighbours
         window w as (partition by y order by x),
                block as (w rows between current row and ?::int - 1 following)
       )
       select ids from blocks
        where last_x = x + ?::int - 1 and eligible_seats = ?::int and wheelchairs = ?::int
          and (not ?::boolean or (not (left_free and not left_free_2)
                                  and not (last_right_free and not last_right_free_2)))
        order by abs(y - ?::numeric) + abs(x + (?::int - 1) / 2.0 - ?::numeric) / 4, y, x
        limit ?`,
      [
        clock.fixedNow,
        `{${query.takenSeatIds.join(',')}}`,
        query.sessionId,
        query.category,
        query.category,
        query.quantity,
        query.quantity,
        query.quantity,
        query.quantity,
        query.quantity,
        query.quantity,
        query.accessible ? 1 : 0,
        query.noSingleSeat,
        query.idealY,
        query.quantity,
        query.idealX,
        query.limit,
      ],
    );
    return rows.map((row) => row.ids);
  }

  /**
   * Locks, until the transaction ends, the rows of `sessionId` that `seatIds` are in (advisory
   * locks in one global order), so that the gap rule's check sees every concurrent change to
   * those rows: run before the statement that changes them.
   */
  async lockRowsOf(sessionId: string, seatIds: readonly string[]): Promise<void> {
    await this.em.execute(
      `select count(pg_advisory_xact_lock(?, row_key))
         from (select distinct hashtext(session_id::text || ':' || row_index) as row_key
                 from seat where session_id = ? and id = any(array[?]::uuid[])
                order by row_key) as seat_rows`,
      [SEAT_ROW_LOCK_NAMESPACE, sessionId, seatIds],
    );
  }

  /**
   * The available seats (read by `clock`) left alone — no available neighbour on either side —
   * next to one of `takenSeatIds`: the seats whose isolation taking those caused. Run in the
   * transaction that took them, after taking them.
   */
  async findIsolatedBy(
    sessionId: string,
    takenSeatIds: readonly string[],
    clock: Clock = DATABASE_CLOCK,
  ): Promise<string[]> {
    const rows: { id: string }[] = await this.em.execute(
      `with clock as materialized (
         select ${CLOCK_NOW_SQL} as now
       ), taken as materialized (
         select id, row_index from seat where session_id = ? and id = any(array[?]::uuid[])
       ), row_seats as (
         select seat.id, seat.row_index, seat.x, ${seatAvailableSql('seat', 'clock.now')} as available,
                seat.id in (select id from taken) as taken
           from seat, clock
          where seat.session_id = ? and seat.row_index in (select row_index from taken)
       ), neighbours as (
         select id, available,
                coalesce(lag(x) over w = x - 1 and lag(available) over w, false) as left_free,
                coalesce(lead(x) over w = x + 1 and lead(available) over w, false) as right_free,
                coalesce(lag(x) over w = x - 1 and lag(taken) over w, false) as left_taken,
                coalesce(lead(x) over w = x + 1 and lead(taken) over w, false) as right_taken
           from row_seats window w as (partition by row_index order by x)
       )
       select id from neighbours
        where available and not left_free and not right_free and (left_taken or right_taken)
        order by id`,
      [clock.fixedNow, sessionId, takenSeatIds, sessionId],
    );
    return rows.map((row) => row.id);
  }
}
