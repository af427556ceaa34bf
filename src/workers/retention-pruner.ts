import { type MikroORM } from '@mikro-orm/postgresql';
import { type Logger } from '../infra/logger';

export interface RetentionPrunerOptions {
  /** Published outbox rows are kept this long after `published_at` (`OUTBOX_RETENTION_HOURS`). */
  readonly outboxHours: number;
  /** Inbox rows are kept this long after `consumed_at` (`INBOX_RETENTION_HOURS`). */
  readonly inboxHours: number;
  /** Rows deleted per statement. */
  readonly batchSize?: number;
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
  /** Delete statements run, over both tables. */
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
 * Deletes what the outbox and the inbox no longer need, every `periodMilliseconds` (one
 * minute by default) in worker roles: published outbox rows older than `outboxHours` and
 * inbox rows (`consumed_message`) older than `inboxHours`. Unpublished outbox rows are never
 * touched. Deletes run in bounded batches with a pause between them, and a table is done when
 * a batch comes back short; several pruners (one per worker) skip each other's rows.
 */
export class RetentionPruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PruneOutcome> | null = null;
  private stopping = false;
  private readonly batchSize: number;
  private readonly pauseMilliseconds: number;
  private readonly periodMilliseconds: number;

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
    private readonly options: RetentionPrunerOptions,
  ) {
    this.batchSize = options.batchSize ?? 1_000;
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
   * Prunes both tables now. A call while a prune is under way waits for that one and returns
   * its outcome. Failures are logged, not thrown: the next period tries again.
   */
  async prune(): Promise<PruneOutcome> {
    this.running ??= this.pruneBoth().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pruneBoth(): Promise<PruneOutcome> {
    const deleted = { outboxRows: 0, inboxRows: 0, batches: 0 };
    const deleteInBatches = async (
      statement: string,
      hours: number,
      counter: 'outboxRows' | 'inboxRows',
    ): Promise<void> => {
      while (!this.stopping) {
        if (deleted.batches > 0) {
          await new Promise((resolve) => setTimeout(resolve, this.pauseMilliseconds));
        }
        const { affectedRows } = await this.orm.em
          .fork()
          .execute<{ affectedRows: number }>(statement, [hours, this.batchSize], 'run');
        deleted.batches += 1;
        deleted[counter] += affectedRows;
        if (affectedRows < this.batchSize) {
          return;
        }
      }
    };
    try {
      await deleteInBatches(DELETE_PUBLISHED_OUTBOX_ROWS, this.options.outboxHours, 'outboxRows');
      await deleteInBatches(DELETE_INBOX_ROWS, this.options.inboxHours, 'inboxRows');
    } catch (error) {
      this.logger.warn({ err: error, ...deleted }, 'Retention pruning failed; will retry');
      return deleted;
    }
    if (deleted.outboxRows + deleted.inboxRows > 0) {
      this.logger.info(deleted, 'Pruned old outbox and inbox rows');
    }
    this.options.onPruned?.(deleted);
    return deleted;
  }
}
