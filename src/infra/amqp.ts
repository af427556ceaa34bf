import { type ChannelModel, connect } from 'amqplib';

/** Logs connection changes; the broker being away is expected and survivable. */
export interface AmqpLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
}

/**
 * A RabbitMQ connection that keeps itself alive: it connects in the background, and after a
 * drop reconnects with capped exponential backoff. Nothing waits on it: while the broker is
 * away, committed events wait in the outbox.
 */
export class AmqpConnection {
  private connection: ChannelModel | null = null;
  private closing = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly url: string,
    private readonly logger: AmqpLogger,
  ) {}

  /** Starts connecting; resolves after the first attempt, successful or not. */
  async start(): Promise<void> {
    await this.connectOnce();
  }

  /** True while a connection to the broker is open. */
  get isConnected(): boolean {
    return this.connection !== null;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
    }
    const connection = this.connection;
    this.connection = null;
    await connection?.close().catch(() => undefined);
  }

  private async connectOnce(): Promise<void> {
    if (this.closing) {
      return;
    }
    try {
      const connection = await connect(this.url, { timeout: 3_000 });
      connection.on('error', () => undefined);
      connection.on('close', () => {
        this.connection = null;
        if (!this.closing) {
          this.logger.warn('RabbitMQ connection closed; reconnecting');
          this.scheduleReconnect();
        }
      });
      this.connection = connection;
      this.attempt = 0;
      this.logger.info('Connected to RabbitMQ');
    } catch (error) {
      this.logger.warn('Cannot reach RabbitMQ; retrying', { error: String(error) });
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    this.attempt += 1;
    this.retryTimer = setTimeout(() => void this.connectOnce(), backoffMilliseconds(this.attempt));
    this.retryTimer.unref();
  }
}

/** Reconnection delay: doubles from 100 ms, capped at 5 s. */
export function backoffMilliseconds(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(attempt - 1, 0), 5_000);
}
