import { type MikroORM } from '@mikro-orm/postgresql';
import { type ExpireOverdue } from './expiry.worker';
import { type Logger } from '../infra/logger';
import { detached } from '../infra/tracing';

const BATCH = 100;

/** Extra sweeps waiting at once, at most; further ones are left to the periodic sweep. */
const MAX_EXTRA_SWEEPS = 1_000;
/** Extra sweeps asked for this close together are one (rounded up: never earlier than asked). */
const EXTRA_SWEEP_GRANULARITY_MILLISECONDS = 50;
/** Extra sweeps further ahead are left to the periodic sweep (no hold lasts longer). */
const MAX_EXTRA_SWEEP_DELAY_MILLISECONDS = 2 * 60 * 60 * 1_000;

/**
 * The backstop of the expiry path: every `periodMilliseconds`, expires PENDING reservations past
 * their `expiresAt` that no message expired (broker down when they were made, a lost delay
 * queue, ...). Concurrent sweepers skip each other's rows. It also sweeps at the moments it is
 * asked to ({@link sweepIn}): the ends of extended holds no message marks on time.
 */
export class ExpirySweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** When the extra sweeps are due, epoch milliseconds of this process's clock, ascending. */
  private readonly extraSweeps: number[] = [];
  private extraTimer: NodeJS.Timeout | null = null;
  private extraTimerDue = 0;

  constructor(
    private readonly orm: MikroORM,
    private readonly expireOverdue: ExpireOverdue,
    private readonly logger: Logger,
    private readonly periodMilliseconds = 5_000,
  ) {}

  start(): void {
    // Timers keep the context they were made in: the sweeps belong to no operation's trace.
    this.timer ??= detached(() => setInterval(() => void this.sweep(), this.periodMilliseconds));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    if (this.extraTimer) {
      clearTimeout(this.extraTimer);
      this.extraTimer = null;
    }
    this.extraSweeps.length = 0;
    await this.running;
  }

  /**
   * Sweeps once more `milliseconds` from now, besides the periodic sweeps: the expiry consumer
   * asks for it at the end of a hold extended after its message was sent, whose own message
   * comes late when the hold's cap cut the extension short. Best effort and in memory (the
   * periodic sweep remains the backstop): ignored while stopped, with
   * {@link MAX_EXTRA_SWEEPS} already waiting, or more than two hours ahead.
   */
  sweepIn(milliseconds: number): void {
    if (!this.timer || !(milliseconds >= 0) || milliseconds > MAX_EXTRA_SWEEP_DELAY_MILLISECONDS) {
      return;
    }
    const due =
      Math.ceil((Date.now() + milliseconds) / EXTRA_SWEEP_GRANULARITY_MILLISECONDS) *
      EXTRA_SWEEP_GRANULARITY_MILLISECONDS;
    let index = 0;
    while (index < this.extraSweeps.length && this.extraSweeps[index] < due) {
      index += 1;
    }
    if (this.extraSweeps[index] === due || this.extraSweeps.length >= MAX_EXTRA_SWEEPS) {
      return;
    }
    this.extraSweeps.splice(index, 0, due);
    this.armExtraSweep();
  }

  /** Expires every overdue reservation now; returns how many (0 if a sweep was already running, after it ends). */
  async sweep(): Promise<number> {
    if (this.running) {
      await this.running;
      return 0;
    }
    let total = 0;
    this.running = (async () => {
      try {
        for (;;) {
          const expired = await this.expireOverdue(this.orm.em.fork(), { limit: BATCH });
          total += expired.length;
          if (expired.length < BATCH) {
            break;
          }
        }
        if (total > 0) {
          this.logger.info({ expired: total }, 'Sweeper expired overdue reservations');
        }
      } catch (error) {
        this.logger.warn({ err: error }, 'Expiry sweep failed');
      }
    })();
    await this.running;
    this.running = null;
    return total;
  }

  /** Arms the timer of the earliest extra sweep, unless it is armed already. */
  private armExtraSweep(): void {
    const due = this.extraSweeps[0];
    if (due === undefined || (this.extraTimer !== null && this.extraTimerDue === due)) {
      return;
    }
    if (this.extraTimer) {
      clearTimeout(this.extraTimer);
    }
    this.extraTimerDue = due;
    // Armed from inside the expiry consumer's span: detached, or every sweep it runs (and what
    // that sweep expires) would join the trace of the hold whose consumer asked for it.
    this.extraTimer = detached(() => setTimeout(() => void this.extraSweep(), Math.max(0, due - Date.now())));
    this.extraTimer.unref();
  }

  private async extraSweep(): Promise<void> {
    this.extraTimer = null;
    const now = Date.now();
    while (this.extraSweeps.length > 0 && this.extraSweeps[0] <= now) {
      this.extraSweeps.shift();
    }
    // A sweep already running may have read the clock before the hold ended: sweep after it.
    while (this.running) {
      await this.running;
    }
    if (!this.timer) {
      return;
    }
    await this.sweep();
    if (this.timer) {
      this.armExtraSweep();
    }
  }
}
