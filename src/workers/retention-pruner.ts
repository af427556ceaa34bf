import { type MikroORM } from '@mikro-orm/postgresql';
import { type Logger } from '../infra/logger';
import { SEAT_CHANGES_KEPT_PER_SESSION, SeatChangeLog } from '../repositories/seat-change-log';

export interface RetentionPrunerOptions {
  /** Published outbox rows are kept this long after `published_at` (`OUTBOX_RETENTION_HOURS`). */
  readonly outboxHours: number;
  /** Inbox rows are kept this long after `consumed_at` (`INBOX_RETENTION_HOURS`). */
  readonly inboxHours: number;
  /** Seat changes are kept this long after `changed_at` (`SEAT_CHANGE_RETENTION_HOURS`)… */
  readonly seatChangeHours: number;
  /** …except the newest this many of each session, whatever their age (tests lower it). */
  readonly seatChangesKeptPerSession?: number;
  /** Rows deleted per statement. */
  readonly batchSize?: number;
  /** Statements per table and prune at most; what is left waits for the next prune. */
  readonly maxBatchesPerTable?: number;
  /** Pause between two statements, so that a large backlog never monopolises the database. */
  readonly pauseMilliseconds?: number;
  /** Time between two prunes. */
  readonly periodMilliseconds?: number;
  /** Told what each prune deleted (metrics). */
  readonly onPruned?: (outcome: PruneOutcome) => void;
}

/** What one {@link RetentionPruner.prune} deleted. */
export interface PruneOutcome {
  readonly outboxRows: number;
  readonly inboxRows: number;
  readonly seatChangeRows: number;
  /** Delete statements run, over all tables. */
  readonly batches: number;
}

// Each statement deletes at most `limit` rows found through an index on the timestamp; rows
// another pruner is deleting are skipped rather than waited for. Ages are by the database
// clock, which wrote the timestamps.
const DELETE_PUBLISHED_OUTBOX_ROWS = `delete from outbox_event where id in (
  select id from outbox_event
   where published_at is not null and published_at < now() - make_interval(hours => ?)
   order by published_at
   limit ?
   for update skip locked)`;
const DELETE_INBOX_ROWS = `delete from consumed_message where (consumer, message_id) in (
  select consumer, message_id from consumed_message
   where consumed_at < now() - make_interval(hours => ?)
   order by consumed_at
   limit ?
   for update skip locked)`;

/**
 * Deletes what the outbox, the inbox and the seat change log no longer need, every
 * `periodMilliseconds` (one minute by default) in worker roles: published outbox rows older
 * than `outboxHours`, inbox rows (`consumed_message`) older than `inboxHours`, and seat changes
 * older than `seatChangeHours` except the newest `seatChangesKeptPerSession` of each session
 * ({@link SeatChangeLog.pruneOlderThan}). Unpublished outbox rows are never touched. Deletes
 * run in bounded batches with a pause between them; a table is done when a batch comes back
 * short or after `maxBatchesPerTable` batches. Several pruners (one per worker) skip each
 * other's outbox and inbox rows, and wait for each other's seat changes.
 */
export class RetentionPruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PruneOutcome> | null = null;
  private stopping = false;
  private readonly batchSize: number;
  private readonly maxBatchesPerTable: number;
  private readonly seatChangesKeptPerSession: number;
  private readonly pauseMilliseconds: number;
  private readonly periodMilliseconds: number;

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
    private readonly options: RetentionPrunerOptions,
  ) {
    this.batchSize = options.batchSize ?? 1_000;
    this.maxBatchesPerTable = options.maxBatchesPerTable ?? 1_000;
    this.seatChangesKeptPerSession = options.seatChangesKeptPerSession ?? SEAT_CHANGES_KEPT_PER_SESSION;
    this.pauseMilliseconds = options.pauseMilliseconds ?? 100;
    this.periodMilliseconds = options.periodMilliseconds ?? 60_000;
  }

  start(): void {
    this.stopping = false;
    this.timer ??= setInterval(() => void this.prune(), this.periodMilliseconds);
    this.timer.unref();
  }

  /** Stops the timer and waits for a prune under way, which ends after its current batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await this.running;
  }

  /**
   * Prunes the three tables now. A call while a prune is under way waits for that one and returns
   * its outcome. Failures are logged, not thrown: the next period tries again.
   */
  async prune(): Promise<PruneOutcome> {
    this.running ??= this.pruneAll().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pruneAll(): Promise<PruneOutcome> {
    const deleted = { outboxRows: 0, inboxRows: 0, seatChangeRows: 0, batches: 0 };
    const deleteInBatches = async (
      deleteBatch: (limit: number) => Promise<number>,
      counter: 'outboxRows' | 'inboxRows' | 'seatChangeRows',
    ): Promise<void> => {
      for (let batch = 0; batch < this.maxBatchesPerTable && !this.stopping; batch += 1) {
        if (deleted.batches > 0) {
          await new Promise((resolve) => setTimeout(resolve, this.pauseMilliseconds));
        }
        const affectedRows = await deleteBatch(this.batchSize);
        deleted.batches += 1;
        deleted[counter] += affectedRows;
        if (affectedRows < this.batchSize) {
          return;
        }
      }
    };
    const run = (statement: string, hours: number) => async (limit: number) => {
      const { affectedRows } = await this.orm.em
        .fork()
        .execute<{ affectedRows: number }>(statement, [hours, limit], 'run');
      return affectedRows;
    };
    try {
      await deleteInBatches(run(DELETE_PUBLISHED_OUTBOX_ROWS, this.options.outboxHours), 'outboxRows');
      await deleteInBatches(run(DELETE_INBOX_ROWS, this.options.inboxHours), 'inboxRows');
      await deleteInBatches(
        (limit) =>
          new SeatChangeLog(this.orm.em.fork()).pruneOlderThan(
            this.options.seatChangeHours,
            this.seatChangesKeptPerSession,
            limit,
          ),
        'seatChangeRows',
      );
    } catch (error) {
      this.logger.warn({ err: error, ...deleted }, 'Retention pruning failed; will retry');
      return deleted;
    }
    if (deleted.outboxRows + deleted.inboxRows + deleted.seatChangeRows > 0) {
      this.logger.info(deleted, 'Pruned old outbox, inbox and seat change rows');
    }
    this.options.onPruned?.(deleted);
    return deleted;
  }
}
