import { randomUUID } from 'node:crypto';
import { type MikroORM } from '@mikro-orm/postgresql';
import { GapRule } from '../../src/entities/enums';
import { Session } from '../../src/entities/session.entity';
import { createLogger } from '../../src/infra/logger';
import { createLivePubSub } from '../../src/live/live-pubsub';
import { seatChangeStoreOf, SeatMapFeed } from '../../src/live/seat-map-feed';
import { SEAT_CHANGES_KEPT_PER_SESSION, SeatChangeLog } from '../../src/repositories/seat-change-log';
import { STANDARD_CATEGORY } from '../../src/seating/auditorium-layout';
import { sessionSpan } from '../../src/seating/schedule';
import { RetentionPruner, type RetentionPrunerOptions } from '../../src/workers/retention-pruner';
import { connectMigratedTestDatabase } from '../support/test-app';

const RETENTION_HOURS = 24;
const OLD = RETENTION_HOURS + 6;
const RECENT = RETENTION_HOURS - 6;
// The newest three of each session are kept whatever their age (10,000 in production).
const KEPT = 3;

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

/** The seat change log's pruning on a real, migrated database (no application around it). */
describe('retention pruning of the seat change log', () => {
  let orm: MikroORM;

  beforeAll(async () => {
    orm = await connectMigratedTestDatabase();
  });

  afterAll(async () => {
    await orm.close();
  });

  beforeEach(async () => {
    await orm.em.fork().execute('truncate seat_change, outbox_event, consumed_message');
  });

  /**
   * A session whose changes 1, 2, 3, … (numbered by the log, as the booking path does) were
   * made `ages[version - 1]` hours ago by the database clock.
   */
  async function sessionWithChanges(ages: number[]): Promise<string> {
    const em = orm.em.fork();
    const startsAt = new Date(Date.now() + 86_400_000);
    const session = em.create(Session, {
      movie: 'Pruned',
      room: `Room ${randomUUID().slice(0, 8)}`,
      startsAt,
      durationMinutes: 120,
      ...sessionSpan(startsAt, 120, 0),
      priceCents: 900,
      prices: [{ category: STANDARD_CATEGORY, priceCents: 900 }],
      gapRule: GapRule.OFF,
      rows: 1,
      seatsPerRow: 2,
    });
    await em.flush();
    // As a booking transaction appends (the statement runs inside one).
    await em.transactional(async (tx) => {
      const log = new SeatChangeLog(tx);
      for (const _age of ages) {
        await log.append({
          sessionId: session.id,
          payload: { sessionId: session.id },
          changedAt: new Date(),
        });
      }
    });
    await em.execute(
      `update seat_change c set changed_at = now() - make_interval(hours => age.hours)
         from unnest(array[?]::int[]) with ordinality as age(hours, version)
        where c.session_id = ? and c.map_version = age.version`,
      [ages, session.id],
    );
    return session.id;
  }

  async function keptVersions(sessionId: string): Promise<number[]> {
    const rows = await orm.em
      .fork()
      .execute<{ map_version: number }[]>(
        'select map_version from seat_change where session_id = ? order by map_version',
        [sessionId],
      );
    return rows.map((row) => row.map_version);
  }

  const pruner = (options: Partial<RetentionPrunerOptions> = {}) =>
    new RetentionPruner(orm, createLogger('silent'), {
      outboxHours: 24,
      inboxHours: 168,
      seatChangeHours: RETENTION_HOURS,
      seatChangesKeptPerSession: KEPT,
      batchSize: 2,
      pauseMilliseconds: 1,
      ...options,
    });

  it('numbers appended changes consecutively with a named prepared statement, each with its outbox row', async () => {
    const sessionId = await sessionWithChanges([1, 1]);
    expect(await keptVersions(sessionId)).toEqual([1, 2]);
    const { version, prepared } = await orm.em.fork().transactional(async (tx) => {
      const appended = await new SeatChangeLog(tx).append({
        sessionId,
        payload: { sessionId },
        changedAt: new Date(),
      });
      // Same connection: the transaction's.
      const statements = await tx.execute<{ name: string }[]>(
        `select name from pg_prepared_statements where name = 'append_seat_change'`,
      );
      return { version: appended, prepared: statements };
    });
    expect(version).toBe(3);
    expect(prepared).toEqual([{ name: 'append_seat_change' }]);
    const rows = await orm.em.fork().execute<{ version: number }[]>(
      `select (payload->>'mapVersion')::int as version from outbox_event
          where topic = 'seat.status-changed' and payload->>'sessionId' = ? order by version`,
      [sessionId],
    );
    expect(rows.map((row) => row.version)).toEqual([1, 2, 3]);
  });

  it('keeps 10,000 changes per session in production', () => {
    expect(SEAT_CHANGES_KEPT_PER_SESSION).toBe(10_000);
  });

  it('deletes old changes beyond the newest of each session, in bounded batches, and keeps the rest', async () => {
    // All old: 1–7 go, the newest three stay although old.
    const allOld = await sessionWithChanges(Array(10).fill(OLD));
    // Old then recent: 1–4 go, the recent ones stay (5 is also beyond the newest three).
    const oldThenRecent = await sessionWithChanges([...Array(4).fill(OLD), ...Array(4).fill(RECENT)]);
    // No more changes than are always kept: all stay, however old.
    const few = await sessionWithChanges(Array(KEPT).fill(OLD));
    const recent = await sessionWithChanges(Array(6).fill(RECENT));

    const reported: unknown[] = [];
    // 11 changes two per statement: 2 + 2 + 2 + 2 + 2 + 1, after one statement each for the
    // (empty) outbox and inbox.
    const outcome = await pruner({ onPruned: (pruned) => reported.push(pruned) }).prune();
    expect(outcome).toEqual({ outboxRows: 0, inboxRows: 0, seatChangeRows: 11, batches: 8 });
    expect(reported).toEqual([outcome]);

    expect(await keptVersions(allOld)).toEqual([8, 9, 10]);
    expect(await keptVersions(oldThenRecent)).toEqual([5, 6, 7, 8]);
    expect(await keptVersions(few)).toEqual([1, 2, 3]);
    expect(await keptVersions(recent)).toEqual(range(1, 6));
    // Nothing left to do: one short statement.
    expect(await pruner().prune()).toEqual({ outboxRows: 0, inboxRows: 0, seatChangeRows: 0, batches: 3 });
  });

  it('deletes only the oldest versions of a session: never one after a version still recent', async () => {
    // Commit order and clock can disagree by a few milliseconds; an old version after a
    // recent one waits, so what is kept stays one unbroken run of versions.
    const sessionId = await sessionWithChanges([OLD, OLD, RECENT, OLD, OLD, OLD, OLD, OLD]);
    const log = new SeatChangeLog(orm.em.fork());
    expect(await log.pruneOlderThan(RETENTION_HOURS, KEPT, 100)).toBe(2);
    expect(await keptVersions(sessionId)).toEqual(range(3, 8));
    expect(await log.replayWindow(sessionId)).toEqual({ current: 8, oldestKept: 3 });
  });

  it('stops after its cap of statements per prune and goes on at the next', async () => {
    const sessionId = await sessionWithChanges(Array(12).fill(OLD));
    const capped = pruner({ maxBatchesPerTable: 2 });
    expect(await capped.prune()).toMatchObject({ seatChangeRows: 4 });
    expect(await keptVersions(sessionId)).toEqual(range(5, 12));
    expect(await capped.prune()).toMatchObject({ seatChangeRows: 4 });
    expect(await capped.prune()).toMatchObject({ seatChangeRows: 1 });
    expect(await keptVersions(sessionId)).toEqual(range(10, 12));
  });

  it('resumes from the oldest version kept after pruning, and answers RESYNC_REQUIRED before it', async () => {
    const sessionId = await sessionWithChanges([...Array(6).fill(OLD), RECENT]);
    await pruner().prune();
    const log = new SeatChangeLog(orm.em.fork());
    // 1–4 go; 5 and 6 are old but among the newest three.
    expect(await log.replayWindow(sessionId)).toEqual({ current: 7, oldestKept: 5 });

    const feed = new SeatMapFeed(
      createLivePubSub(),
      () => seatChangeStoreOf(new SeatChangeLog(orm.em.fork())),
      createLogger('silent'),
    );
    // Version 4 is gone.
    await expect(feed.subscribe(sessionId, 3)).rejects.toMatchObject({
      code: 'RESYNC_REQUIRED',
      details: { afterMapVersion: 3, mapVersion: 7 },
    });
    // At the boundary: everything after 4 is still there.
    const resumed = await feed.subscribe(sessionId, 4);
    const replayed: number[] = [];
    for (const _version of range(5, 7)) {
      replayed.push((await resumed.next()).value.mapVersion);
    }
    expect(replayed).toEqual(range(5, 7));
    await resumed.return(undefined);
  });

  it('finds the changes to delete through the primary key, never by scanning the log', async () => {
    await sessionWithChanges(Array(6).fill(OLD));
    // The statement the pruner sends, as sent.
    const sent: { sql: string; params: readonly unknown[] }[] = [];
    const config = orm.config;
    const previous = config.get('onQuery');
    config.set('onQuery', (sql: string, params: readonly unknown[]) => {
      sent.push({ sql, params });
      return previous(sql, params);
    });
    try {
      expect(await new SeatChangeLog(orm.em.fork()).pruneOlderThan(RETENTION_HOURS, KEPT, 1_000)).toBe(3);
    } finally {
      config.set('onQuery', previous);
    }
    const [prune] = sent.filter(({ sql }) => sql.startsWith('delete from seat_change'));
    const plan = await orm.em.fork().transactional(async (tx) => {
      await tx.execute('set local enable_seqscan = off');
      const rows = await tx.execute<{ 'QUERY PLAN': string }[]>(`explain ${prune.sql}`, [...prune.params]);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('seat_change_pkey');
    expect(plan).not.toMatch(/Seq Scan on seat_change/);
  });
});
