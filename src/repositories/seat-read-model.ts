import { type SeatKind, type SeatStatus } from '../entities/enums';
import { holdRunningSql, seatStatusAsReadSql } from '../entities/hold-rules';
import { asDate } from '../infra/sql';

/**
 * A seat as a reader sees it: the one seat shape outside the entity, filled by SQL (the
 * read-model pattern: plain data, no identity map, no change tracking). `status` is already
 * the status as read, judged by the database clock (a RESERVED seat whose hold ended is
 * AVAILABLE, see `entities/hold-rules.ts`). Seat maps, the seats of a reservation, the seats a
 * write changed and the snapshots in events are all this shape, or a part of it.
 */
export interface SeatReadModel {
  readonly id: string;
  readonly sessionId: string;
  /** 0-based position of the row, for ordering (row labels do not sort as strings). */
  readonly rowIndex: number;
  readonly row: string;
  readonly number: number;
  /** Column of the layout, gaps included (0-based); the row's is `rowIndex`. */
  readonly x: number;
  readonly category: string;
  readonly kind: SeatKind;
  /** Its price in its session, in cents. */
  readonly priceCents: number;
  readonly status: SeatStatus;
  /** Grows by one on every status change: orders the changes of one seat. */
  readonly version: number;
  /**
   * When the seat's running hold ends, and with it what readers see of the seat (by the clock
   * alone, before any event); null when no hold is running.
   */
  readonly holdEndsAt: Date | null;
}

/** The columns of a {@link SeatReadModel} as SQL returns them. */
export interface SeatReadRow {
  id: string;
  session_id: string;
  row_index: number;
  row: string;
  number: number;
  x: number;
  category: string;
  kind: SeatKind;
  price_cents: number;
  status: SeatStatus;
  version: number;
  hold_ends_at: Date | string | null;
}

/** The SQL select list of a {@link SeatReadRow} from the seat row aliased `seat`, as read at `now`. */
export function seatReadColumns(seat: string, now: string): string {
  return `${seat}.id, ${seat}.session_id, ${seat}.row_index, ${seat}.row, ${seat}.number, ${seat}.version,
          ${seat}.x, ${seat}.category, ${seat}.kind, ${seat}.price_cents,
          ${seatStatusAsReadSql(seat, now)} as status,
          (case when ${seat}.status = 'RESERVED' and ${holdRunningSql(`${seat}.hold_expires_at`, now)}
                then ${seat}.hold_expires_at end) as hold_ends_at`;
}

/**
 * The SQL `returning` list of a {@link SeatReadRow} from a seat row aliased `seat` that the
 * statement has just changed: its new stored status is the status as read (a new hold runs).
 */
export function changedSeatColumns(seat: string): string {
  return `${seat}.id, ${seat}.session_id, ${seat}.row_index, ${seat}.row, ${seat}.number, ${seat}.version,
          ${seat}.x, ${seat}.category, ${seat}.kind, ${seat}.price_cents,
          ${seat}.status, ${seat}.hold_expires_at as hold_ends_at`;
}

/** The read model of a row selected with {@link seatReadColumns} or {@link changedSeatColumns}. */
export function toSeatReadModel(row: SeatReadRow): SeatReadModel {
  return {
    id: row.id,
    sessionId: row.session_id,
    rowIndex: row.row_index,
    row: row.row,
    number: row.number,
    x: row.x,
    category: row.category,
    kind: row.kind,
    priceCents: row.price_cents,
    status: row.status,
    version: row.version,
    holdEndsAt: row.hold_ends_at === null ? null : asDate(row.hold_ends_at),
  };
}
