import { randomUUID } from 'node:crypto';
import { type MikroORM } from '@mikro-orm/postgresql';
import { createLogger, type Logger } from '../../src/infra/logger';
import { uuidv7 } from '../../src/infra/uuid';
import { type PruneOutcome, RetentionPruner } from '../../src/workers/retention-pruner';
import { connectMigratedTestDatabase } from '../support/test-app';

const OUTBOX_HOURS = 24;
const INBOX_HOURS = 168;

/** The retention pruner on a real, migrated database (no application around it). */
describe('retention pruning of the outbox and the inbox', () => {
  let orm: MikroORM;

  beforeAll(async () => {
    orm = await connectMigratedTestDatabase();
  });

  afterAll(async () => {
    await orm.close();
  });

  beforeEach(async () => {
    await orm.em.fork().execute('truncate outbox_event, consumed_message');
  });

  /** Outbox rows published (or not, with null) `publishedHoursAgo` hours ago by the database clock. */
  async function insertOutboxRows(count: number, publishedHoursAgo: number | null): Promise<string[]> {
    const ids = Array.from({ length: count }, () => uuidv7());
    await orm.em.fork().execute(
      `insert into outbox_event (id, topic, payload, created_at, published_at)
       select id, 'seat.status-changed', '{}'::jsonb,
              now() - make_interval(hours => coalesce(?::int, 0) + 1),
              now() - make_interval(hours => ?::int)
         from unnest(array[?]::uuid[]) as id`,
      [publishedHoursAgo, publishedHoursAgo, ids],
    );
    return ids;
  }

  async function insertInboxRows(count: number, consumedHoursAgo: number): Promise<string[]> {
    const messageIds = Array.from({ length: count }, () => randomUUID());
    await orm.em.fork().execute(
      `insert into consumed_message (consumer, message_id, consumed_at)
       select 'receipts', message_id, now() - make_interval(hours => ?::int)
         from unnest(array[?]::text[]) as message_id`,
      [consumedHoursAgo, messageIds],
    );
    return messageIds;
  }

  const remainingOutboxIds = async () =>
    (await orm.em.fork().execute<{ id: string }[]>('select id from outbox_event order by id')).map(
      (row) => row.id,
    );
  const remainingInboxIds = async () =>
    (
      await orm.em
        .fork()
        .execute<{ message_id: string }[]>('select message_id from consumed_message order by message_id')
    ).map((row) => row.message_id);

  it('deletes rows past their retention in bounded batches and keeps newer and unpublished ones', async () => {
    await insertOutboxRows(25, OUTBOX_HOURS + 1);
    const recent = await insertOutboxRows(3, OUTBOX_HOURS - 1);
    // Unpublished rows are never pruned, however old (a long broker outage).
    const unpublished = await insertOutboxRows(2, null);
    await orm.em
      .fork()
      .execute(
        `update outbox_event set created_at = now() - interval '30 days' where id = any(array[?]::uuid[])`,
        [unpublished],
      );
    await insertInboxRows(23, INBOX_HOURS + 1);
    const fresh = await insertInboxRows(2, INBOX_HOURS - 1);

    const reported: PruneOutcome[] = [];
    const pruner = new RetentionPruner(orm, createLogger('silent'), {
      outboxHours: OUTBOX_HOURS,
      inboxHours: INBOX_HOURS,
      seatChangeHours: 24,
      batchSize: 10,
      pauseMilliseconds: 1,
      onPruned: (outcome) => reported.push(outcome),
    });
    // 25 outbox rows: 10 + 10 + 5; 23 inbox rows: 10 + 10 + 3; no seat change: 0.
    const outcome = { outboxRows: 25, inboxRows: 23, seatChangeRows: 0, batches: 7 };
    expect(await pruner.prune()).toEqual(outcome);
    expect(reported).toEqual([outcome]);
    expect(await remainingOutboxIds()).toEqual([...recent, ...unpublished].sort());
    expect(await remainingInboxIds()).toEqual([...fresh].sort());
    // Nothing left to do: one short batch per table.
    expect(await pruner.prune()).toEqual({ outboxRows: 0, inboxRows: 0, seatChangeRows: 0, batches: 3 });
  });

  it('finds old rows through indexes rather than by scanning the tables', async () => {
    const plan = async (sql: string): Promise<string> =>
      orm.em.fork().transactional(async (tx) => {
        await tx.execute('set local enable_seqscan = off');
        const rows = await tx.execute<{ 'QUERY PLAN': string }[]>(`explain ${sql}`);
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      });
    expect(
      await plan(`select id from outbox_event where published_at is not null
                   and published_at < now() - interval '24 hours' order by published_at limit 1000`),
    ).toContain('outbox_event_published_at_index');
    expect(
      await plan(`select consumer, message_id from consumed_message
                   where consumed_at < now() - interval '168 hours' order by consumed_at limit 1000`),
    ).toContain('consumed_message_consumed_at_index');
  });

  it('prunes on its own every period once started, until stopped', async () => {
    await insertOutboxRows(3, OUTBOX_HOURS + 5);
    let pruned!: (details: unknown) => void;
    const firstPrune = new Promise((resolve) => (pruned = resolve));
    const logger = {
      info: (details: unknown) => pruned(details),
      warn: () => undefined,
      debug: () => undefined,
      error: () => undefined,
    } as unknown as Logger;
    const pruner = new RetentionPruner(orm, logger, {
      outboxHours: OUTBOX_HOURS,
      inboxHours: INBOX_HOURS,
      seatChangeHours: 24,
      periodMilliseconds: 50,
    });
    pruner.start();
    try {
      expect(await firstPrune).toEqual({ outboxRows: 3, inboxRows: 0, seatChangeRows: 0, batches: 3 });
    } finally {
      await pruner.stop();
    }
    expect(await remainingOutboxIds()).toEqual([]);
  });
});
