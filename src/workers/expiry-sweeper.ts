import { type MikroORM } from '@mikro-orm/postgresql';
import { type ExpireOverdue } from './expiry.worker';
import { type Logger } from '../infra/logger';

const BATCH = 100;

/**
 * The backstop of the expiry path: every `periodMilliseconds`, expires PENDING reservations past
 * their `expiresAt` that no message expired (broker down when they were made, a lost delay
 * queue, ...). Concurrent sweepers skip each other's rows.
 */
export class ExpirySweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly orm: MikroORM,
    private readonly expireOverdue: ExpireOverdue,
    private readonly logger: Logger,
    private readonly periodMilliseconds = 5_000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.sweep(), this.periodMilliseconds);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await this.running;
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
}
