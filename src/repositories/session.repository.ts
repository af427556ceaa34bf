import { EntityRepository, type RequiredEntityData } from '@mikro-orm/postgresql';
import { type GapRule } from '../entities/enums';
import { type CategoryPrice, Session, SESSION_SCHEDULE_CONSTRAINT } from '../entities/session.entity';
import { constraintOf } from '../infra/database-errors';
import { asDate } from '../infra/sql';

/**
 * The schedule's exclusion constraint refused a new session: its span overlaps another of the
 * same auditorium. The transaction is aborted by then, so this is thrown (to roll it back) and
 * the caller reads the sessions in the way after the rollback.
 */
export class ScheduleOverlap extends Error {
  constructor() {
    super('The new session overlaps another session of its auditorium.');
    this.name = 'ScheduleOverlap';
  }
}

/** What the booking path needs of a session; sessions never change once created. */
export interface SessionFacts {
  readonly id: string;
  readonly startsAt: Date;
  readonly priceCents: number;
  readonly gapRule: GapRule;
  /** The price categories of its seats. */
  readonly categories: readonly string[];
  /** Number of rows. */
  readonly rowCount: number;
  /**
   * Characters in the longest row of its layout, gaps included (a one-off room: seats per
   * row): the best seats are centred on its middle.
   */
  readonly layoutWidth: number;
}

// Advisory locks of auditorium schedules: (namespace, hash of the auditorium id).
const AUDITORIUM_SCHEDULE_LOCK_NAMESPACE = 7_207;

/** One page of sessions ordered by (startsAt, id). */
export interface SessionPageQuery {
  readonly first: number;
  readonly after?: { readonly startsAt: Date; readonly id: string };
  readonly from?: Date;
  readonly to?: Date;
}

/** Session queries, bound to one entity manager (`em.getRepository(Session)`). */
export class SessionRepository extends EntityRepository<Session> {
  async findById(sessionId: string): Promise<Session | null> {
    return this.findOne({ id: sessionId });
  }

  async findByIds(sessionIds: readonly string[]): Promise<Session[]> {
    return this.find({ id: { $in: [...sessionIds] } });
  }

  /** The immutable facts of a session (see `caching/session-facts-cache.ts` for the cached read). */
  async findFacts(sessionId: string): Promise<SessionFacts | null> {
    const rows: {
      id: string;
      starts_at: Date | string;
      price_cents: number;
      gap_rule: GapRule;
      prices: CategoryPrice[];
      rows: number;
      layout_width: number;
    }[] = await this.getEntityManager().execute(
      `select s.id, s.starts_at, s.price_cents, s.gap_rule, s.prices, s.rows,
              coalesce((select max(char_length(layout_row))
                          from auditorium a, jsonb_array_elements_text(a.rows) as layout_row
                         where a.id = s.auditorium_id), s.seats_per_row) as layout_width
         from session s where s.id = ?`,
      [sessionId],
    );
    if (rows.length === 0) {
      return null;
    }
    const [row] = rows;
    return {
      id: row.id,
      startsAt: asDate(row.starts_at),
      priceCents: row.price_cents,
      gapRule: row.gap_rule,
      categories: row.prices.map((price) => price.category),
      rowCount: row.rows,
      layoutWidth: row.layout_width,
    };
  }

  /**
   * The ids of up to `first + 1` sessions after the cursor, in page order (so the caller can tell
   * if more exist): one index range scan on (starts_at, id), no entity hydrated; the sessions
   * themselves are immutable and read by id (`caching/session-catalog.ts`).
   */
  async pageIds(query: SessionPageQuery): Promise<string[]> {
    const rows: { id: string }[] = await this.getEntityManager().execute(
      `select id from session
        where starts_at >= coalesce(?::timestamptz, '-infinity')
          and starts_at < coalesce(?::timestamptz, 'infinity')
          and (?::timestamptz is null or (starts_at, id) > (?::timestamptz, ?::uuid))
        order by starts_at, id
        limit ?`,
      [
        query.from ?? null,
        query.to ?? null,
        query.after?.startsAt ?? null,
        query.after?.startsAt ?? null,
        query.after?.id ?? null,
        query.first + 1,
      ],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Takes, until the transaction ends, the lock of an auditorium's schedule: schedulers of one
   * auditorium then insert one after the other. The exclusion constraint alone decides who
   * wins, but two inserts checking each other at the same moment can deadlock inside it
   * (PostgreSQL then kills one with a deadlock error instead of the constraint's).
   */
  async lockSchedule(auditoriumId: string): Promise<void> {
    await this.getEntityManager().execute('select pg_advisory_xact_lock(?, hashtext(?))', [
      AUDITORIUM_SCHEDULE_LOCK_NAMESPACE,
      auditoriumId,
    ]);
  }

  /**
   * Inserts a new session now (its seats reference it).
   *
   * @throws ScheduleOverlap when the schedule's exclusion constraint refuses it.
   */
  async add(data: RequiredEntityData<Session>): Promise<Session> {
    const em = this.getEntityManager();
    const session = em.create(Session, data);
    try {
      await em.flush();
    } catch (error) {
      throw constraintOf(error) === SESSION_SCHEDULE_CONSTRAINT ? new ScheduleOverlap() : error;
    }
    return session;
  }

  /**
   * Ids of the sessions of an auditorium whose busy span (`[startsAt, busyUntil)`) overlaps
   * `[from, until)`, by `startsAt`. The exclusion constraint's index answers it.
   */
  async findOverlapping(auditoriumId: string, from: Date, until: Date): Promise<string[]> {
    const rows: { id: string }[] = await this.getEntityManager().execute(
      `select id from session
        where auditorium_id = ? and tstzrange(starts_at, busy_until, '[)') && tstzrange(?, ?, '[)')
        order by starts_at, id`,
      [auditoriumId, from, until],
    );
    return rows.map((row) => row.id);
  }

  /**
   * The sessions of the given auditoriums starting in `[from, to)` (either end open), by
   * `startsAt`: at most `limit` per auditorium, the earliest.
   */
  async findByAuditoriums(
    auditoriumIds: readonly string[],
    range: { readonly from?: Date; readonly to?: Date; readonly limit: number },
  ): Promise<Session[]> {
    const em = this.getEntityManager();
    const rows: Record<string, unknown>[] = await em.execute(
      `select * from (
         select session.*, row_number() over (partition by auditorium_id order by starts_at, id) as place
           from session
          where auditorium_id = any(array[?]::uuid[])
            and starts_at >= coalesce(?::timestamptz, '-infinity')
            and starts_at < coalesce(?::timestamptz, 'infinity')
       ) ranked where place <= ? order by starts_at, id`,
      [auditoriumIds, range.from ?? null, range.to ?? null, range.limit],
    );
    return rows.map(({ place: _place, ...columns }) => em.map(Session, columns));
  }
}
