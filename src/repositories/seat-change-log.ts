import { type EntityManager } from '@mikro-orm/postgresql';
import { uuidv7 } from '../infra/uuid';

/** A seat change to number and store: its session, event payload and commit time. */
export interface SeatChangeEntry {
  readonly sessionId: string;
  /** The `seat.status-changed` payload, without its `mapVersion` (this log assigns it). */
  readonly payload: object;
  readonly changedAt: Date;
}

/** What a session's log can replay: everything after `oldestKept - 1`, up to `current`. */
export interface ReplayWindow {
  /** The session's map version now (0: never changed). */
  readonly current: number;
  /** The oldest version still kept; null when none is (nothing changed, or all pruned). */
  readonly oldestKept: number | null;
}

/**
 * The seat-map change log (`seat_change`) and the sessions' map versions, bound to one entity
 * manager. Raw SQL: appending is on every seat-changing transaction.
 */
export class SeatChangeLog {
  constructor(private readonly em: EntityManager) {}

  /**
   * Numbers a seat change with its session's next map version, stores it in the log and
   * writes its outbox row, in one statement; returns the version. Takes the session row's lock
   * until the transaction ends, so commits of one session's seat changes are serialised: run it
   * last in the transaction, and for several sessions in the order of their ids.
   */
  async append(entry: SeatChangeEntry): Promise<number> {
    const [row]: { map_version: number }[] = await this.em.execute(
      `with version as (
         update session set map_version = map_version + 1 where id = ? returning map_version
       ), numbered as (
         select jsonb_set(?::jsonb, '{mapVersion}', to_jsonb(map_version)) as payload, map_version
           from version
       ), logged as (
         insert into seat_change (session_id, map_version, payload, changed_at)
         select ?, map_version, payload, ? from numbered
       )
       insert into outbox_event (id, topic, payload, created_at)
       select ?, 'seat.status-changed', payload, now() from numbered
       returning (payload->>'mapVersion')::int as map_version`,
      [entry.sessionId, JSON.stringify(entry.payload), entry.sessionId, entry.changedAt, uuidv7()],
    );
    return row.map_version;
  }

  /** The stored changes of a session after `afterVersion`, in order, at most `limit`. */
  async findAfter(sessionId: string, afterVersion: number, limit: number): Promise<object[]> {
    const rows: { payload: object }[] = await this.em.execute(
      `select payload from seat_change where session_id = ? and map_version > ?
        order by map_version limit ?`,
      [sessionId, afterVersion, limit],
    );
    return rows.map((row) => row.payload);
  }

  /** What a session's log can replay now; null when the session does not exist. */
  async replayWindow(sessionId: string): Promise<ReplayWindow | null> {
    const rows: { current: number; oldest_kept: number | null }[] = await this.em.execute(
      `select s.map_version as current,
              (select min(map_version) from seat_change where session_id = s.id) as oldest_kept
         from session s where s.id = ?`,
      [sessionId],
    );
    return rows.length === 0 ? null : { current: rows[0].current, oldestKept: rows[0].oldest_kept };
  }

  /** The map version of each of the given sessions now. */
  async currentVersions(sessionIds: readonly string[]): Promise<Map<string, number>> {
    const rows: { id: string; map_version: number }[] = await this.em.execute(
      'select id, map_version from session where id = any(array[?]::uuid[])',
      [sessionIds],
    );
    return new Map(rows.map((row) => [row.id, row.map_version]));
  }
}
