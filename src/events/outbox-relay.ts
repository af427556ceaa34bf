import { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { type MikroORM } from '@mikro-orm/postgresql';
import { type BookingEvent } from '../booking/booking-events';
import { type Logger } from '../infra/logger';
import { encodeEvent } from './event-message';
import { type TopologyNames } from './topology';

export interface OutboxRelayOptions {
  /** Rows published per transaction. */
  readonly batchSize?: number;
  /** Polling period: the backstop for rows committed by processes that died before relaying. */
  readonly pollMilliseconds?: number;
  /** Wait after a wake-up before publishing, so that a burst of commits is published together. */
  readonly lingerMilliseconds?: number;
}

/**
 * Publishes committed outbox rows to the events exchange, in id order, with publisher
 * confirms: a row is marked published only after the broker confirmed it, in the same
 * transaction that locked it (`FOR UPDATE SKIP LOCKED`, so relays in several processes never
 * publish the same row in the normal case). Delivery is at-least-once: a crash between the
 * confirm and the commit publishes a row again, and consumers are idempotent.
 */
export class OutboxRelay {
  private channel: ConfirmChannel | null = null;
  private draining = false;
  private wakeAgain = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly batchSize: number;
  private readonly pollMilliseconds: number;
  private readonly lingerMilliseconds: number;

  constructor(
    private readonly orm: MikroORM,
    private readonly names: TopologyNames,
    private readonly logger: Logger,
    options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.pollMilliseconds = options.pollMilliseconds ?? 1_000;
    this.lingerMilliseconds = options.lingerMilliseconds ?? 5;
  }

  /** Connection setup: a confirm channel for publishing, then a drain of the backlog. */
  readonly attach = async (connection: ChannelModel): Promise<void> => {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => {
      if (this.channel === channel) {
        this.channel = null;
      }
    });
    // `mandatory`: the broker hands back events no queue wanted. Not an error (e.g. no API
    // process is subscribed to seat changes right now), but worth knowing.
    channel.on(
      'return',
      (message: { fields: { routingKey: string }; properties: { messageId?: string } }) => {
        this.logger.debug(
          { topic: message.fields.routingKey, messageId: message.properties.messageId },
          'Unroutable event',
        );
      },
    );
    this.channel = channel;
    this.wake();
  };

  /** Starts the polling backstop. */
  start(): void {
    this.timer ??= setInterval(() => this.wake(), this.pollMilliseconds);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Publishes what is waiting, now. Cheap to call after every commit: calls coalesce. */
  wake(): void {
    if (this.draining) {
      this.wakeAgain = true;
      return;
    }
    this.draining = true;
    // A short linger lets the commits of a burst share one relay transaction.
    setTimeout(() => {
      void this.drain().finally(() => {
        this.draining = false;
      });
    }, this.lingerMilliseconds);
  }

  /** For callers that hold events: the relay does not need them, the outbox has them. */
  readonly onCommitted = (_events: readonly BookingEvent[]): void => {
    this.wake();
  };

  private async drain(): Promise<void> {
    do {
      this.wakeAgain = false;
      try {
        while ((await this.publishBatch()) === this.batchSize) {
          // full batch: there may be more
        }
      } catch (error) {
        this.logger.warn({ err: error }, 'Outbox relay could not publish; will retry');
        return;
      }
    } while (this.wakeAgain);
  }

  private async publishBatch(): Promise<number> {
    const channel = this.channel;
    if (!channel) {
      return 0;
    }
    return this.orm.em.fork().transactional(async (tx) => {
      const rows: { id: string; topic: BookingEvent['topic']; payload: BookingEvent['payload'] }[] =
        await tx.execute(
          `select id, topic, payload from outbox_event
          where published_at is null
          order by id
          limit ?
          for update skip locked`,
          [this.batchSize],
        );
      if (rows.length === 0) {
        return 0;
      }
      for (const row of rows) {
        const { content, options } = encodeEvent(row.id, {
          topic: row.topic,
          payload: row.payload,
        } as BookingEvent);
        channel.publish(this.names.events, row.topic, content, options);
      }
      await channel.waitForConfirms();
      await tx.execute('update outbox_event set published_at = now() where id = any(array[?]::uuid[])', [
        rows.map((row) => row.id),
      ]);
      return rows.length;
    });
  }
}
