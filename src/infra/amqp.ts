import { type ChannelModel, connect } from 'amqplib';

/** Logs connection changes; the broker being away is expected and survivable. */
export interface AmqpLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
}

/** Runs on every (re)connection: declare topology, open channels, start consumers. */
export type ConnectionSetup = (connection: ChannelModel) => Promise<void>;

/**
 * A RabbitMQ connection that keeps itself alive: it connects in the background and, after a
 * drop, reconnects with capped exponential backoff, then runs every registered
 * {@link ConnectionSetup} again. Nothing on the request path waits for it: while the broker
 * is away, committed events wait in the outbox.
 */
export class AmqpConnection {
  private connection: ChannelModel | null = null;
  private closing = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly setups: ConnectionSetup[] = [];

  constructor(
    private readonly url: string,
    private readonly logger: AmqpLogger,
  ) {}

  /** Registers a setup step; it also runs at once if a connection is open. */
  async onConnected(setup: ConnectionSetup): Promise<void> {
    this.setups.push(setup);
    if (this.connection) {
      await this.runSetup(this.connection, setup);
    }
  }

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
    let connection: ChannelModel;
    try {
      connection = await connect(this.url, { timeout: 3_000 });
    } catch (error) {
      this.logger.warn('Cannot reach RabbitMQ; retrying', {
        error: String(error),
        attempt: this.attempt + 1,
      });
      this.scheduleReconnect();
      return;
    }
    if (this.closing) {
      // close() was called while this attempt was under way.
      await connection.close().catch(() => undefined);
      return;
    }
    connection.on('error', () => undefined);
    connection.on('close', () => {
      if (this.connection === connection) {
        this.connection = null;
      }
      if (!this.closing) {
        this.logger.warn('RabbitMQ connection closed; reconnecting');
        this.scheduleReconnect();
      }
    });
    this.connection = connection;
    this.attempt = 0;
    this.logger.info('Connected to RabbitMQ');
    for (const setup of this.setups) {
      if (!(await this.runSetup(connection, setup))) {
        return;
      }
    }
  }

  private async runSetup(connection: ChannelModel, setup: ConnectionSetup): Promise<boolean> {
    try {
      await setup(connection);
      return true;
    } catch (error) {
      // A half-set-up connection is worse than none: drop it and start over.
      this.logger.warn('RabbitMQ setup failed; reconnecting', { error: String(error) });
      await connection.close().catch(() => undefined);
      return false;
    }
  }

  private scheduleReconnect(): void {
    if (this.closing || this.retryTimer) {
      return;
    }
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connectOnce();
    }, backoffMilliseconds(this.attempt));
    this.retryTimer.unref();
  }
}

/** Reconnection delay: doubles from 100 ms, capped at 5 s. */
export function backoffMilliseconds(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(attempt - 1, 0), 5_000);
}
