import { type EntityManager } from '@mikro-orm/postgresql';
import { captureTraceContext } from '../infra/tracing';
import { executePrepared, preparedStatement } from '../infra/prepared-statements';
import { uuidv7 } from '../infra/uuid';
import { INSERT_OUTBOX_ROWS_SQL, type OutboxRow, outboxRowsParameter } from './outbox-writer';

/** A seat change to number and store: its session, event payload and commit time. */
export interface SeatChangeEntry {
  readonly sessionId: string;
  /** The `seat.status-changed` payload, without its `mapVersion` (this log assigns it). */
  readonly payload: object;
  readonly changedAt: Date;
}

/**
 * The newest changes of each session the log always keeps, whatever their age: a client that
 * fell that many versions behind can still resume (`SEAT_CHANGE_RETENTION_HOURS` bounds the
 * rest).
 */
export const SEAT_CHANGES_KEPT_PER_SESSION = 10_000;

/** What a session's log can replay: everything after `oldestKept - 1`, up to `current`. */
export interface ReplayWindow {
  /** The session's map version now (0: never changed). */
  readonly current: number;
  /** The oldest version still kept; null when none is (nothing changed, or all pruned). */
  readonly oldestKept: number | null;
}

// Only sessions beyond `keepPerSession` versions can have anything to delete (a filter on the
// session table, one row per screening). For each, through the primary key: its oldest version,
// then at most `limit` versions from there (kept versions have no gap, so that range holds the
// `limit` oldest) that are not among the newest `keepPerSession`, up to the first recent one.
// Every read is bounded by `limit`, whatever the length of the session's log. No
// `skip locked`: skipping a row another pruner is deleting could delete the versions after it
// while that pruner rolls back, leaving a hole; concurrent pruners wait, and what they find
// deleted they leave.
const PRUNE_SEAT_CHANGES = `delete from seat_change where (session_id, map_version) in (
  select s.id, prunable.map_version
    from session s
   cross join lateral (select min(map_version) as version from seat_change where session_id = s.id) oldest
   cross join lateral (
     select first_rows.map_version
       from (select map_version,
                    bool_and(changed_at < now() - make_interval(hours => ?))
                      over (order by map_version) as old_so_far
               from seat_change
              where session_id = s.id
                and map_version between oldest.version
                                    and least(oldest.version + ? - 1, s.map_version - ?)) first_rows
      where first_rows.old_so_far) prunable
   where s.map_version > ?
   limit ?)`;

// The statement of SeatChangeLog.append, run by every seat-changing transaction just before it
// commits: prepared once per connection with bind parameters (a JSON payload formatted into the
// SQL text cost the one thread the escaping and PostgreSQL a parse and plan per transaction).
const APPEND_SEAT_CHANGE = preparedStatement(
  'append_seat_change',
  `with recorded as (
     ${INSERT_OUTBOX_ROWS_SQL}
   ), version as (
     update session set map_version = map_version + 1 where id = ?::uuid returning map_version
   ), numbered as (
     select jsonb_set(?::jsonb, '{mapVersion}', to_jsonb(map_version)) as payload, map_version
       from version
   ), logged as (
     insert into seat_change (session_id, map_version, payload, changed_at)
     select ?::uuid, map_version, payload, ?::timestamptz from numbered
   )
   insert into outbox_event (id, topic, payload, created_at, trace_context)
   select ?::uuid, 'seat.status-changed', payload, now(), ?::jsonb from numbered
   returning (payload->>'mapVersion')::int as map_version`,
);

/**
 * The seat-map change log (`seat_change`) and the sessions' map versions, bound to one entity
 * manager. Raw SQL: appending is on every seat-changing transaction.
 */
export class SeatChangeLog {
  constructor(private readonly em: EntityManager) {}

  /**
   * Numbers a seat change with its session's next map version, stores it in the log and
   * writes its outbox row (with the active trace context), in one statement; returns the
   * version. The same statement writes the outbox rows `alsoRecorded` (the transaction's other
   * events, which saves their own round trip). Takes the session row's lock until the
   * transaction ends, so commits of one session's seat changes are serialised: run it last in
   * the transaction, and for several sessions in the order of their ids. Runs only inside a
   * transaction (a prepared statement, see `executePrepared`).
   */
  async append(entry: SeatChangeEntry, alsoRecorded: readonly OutboxRow[] = []): Promise<number> {
    const traceContext = captureTraceContext();
    const [row] = await executePrepared<{ map_version: number }>(this.em, APPEND_SEAT_CHANGE, [
      outboxRowsParameter(alsoRecorded),
      entry.sessionId,
      JSON.stringify(entry.payload),
      entry.sessionId,
      entry.changedAt,
      uuidv7(),
      traceContext === null ? null : JSON.stringify(traceContext),
    ]);
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

  /**
   * Deletes, in one statement, at most `limit` changes older than `retentionHours` (by the
   * database clock, which wrote `changed_at`) that are not among the `keepPerSession` newest of
   * their session; returns how many it deleted (fewer than `limit`: nothing more to delete now).
   *
   * Only the oldest versions of a session are ever deleted, so what remains of a session is
   * always one unbroken run of versions up to its current one (what `afterMapVersion` replays
   * need): a session's versions go up to its first one that is still recent, however old the
   * later ones.
   */
  async pruneOlderThan(retentionHours: number, keepPerSession: number, limit: number): Promise<number> {
    const { affectedRows } = await this.em.execute<{ affectedRows: number }>(
      PRUNE_SEAT_CHANGES,
      [retentionHours, limit, keepPerSession, keepPerSession, limit],
      'run',
    );
    return affectedRows;
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
