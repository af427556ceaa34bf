import { type SeatStatus } from '../entities/enums';
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
  readonly status: SeatStatus;
  /** Grows by one on every status change: orders the changes of one seat. */
  readonly version: number;
}

/** The columns of a {@link SeatReadModel} as SQL returns them. */
export interface SeatReadRow {
  id: string;
  session_id: string;
  row_index: number;
  row: string;
  number: number;
  status: SeatStatus;
  version: number;
}

/** The SQL select list of a {@link SeatReadRow} from the seat row aliased `seat`, stored status. */
export function seatReadColumns(seat: string): string {
  return `${seat}.id, ${seat}.session_id, ${seat}.row_index, ${seat}.row, ${seat}.number, ${seat}.status, ${seat}.version`;
}

export function toSeatReadModel(row: SeatReadRow): SeatReadModel {
  return {
    id: row.id,
    sessionId: row.session_id,
    rowIndex: row.row_index,
    row: row.row,
    number: row.number,
    status: row.status,
    version: row.version,
  };
}

/** `now()` of the statement that returned it, read from a `database_now` column. */
export function databaseNowOf(rows: readonly { database_now: Date | string }[]): Date | null {
  return rows.length === 0 ? null : asDate(rows[0].database_now);
}
