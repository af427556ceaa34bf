import { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { type MikroORM } from '@mikro-orm/postgresql';
import { type BookingEvent } from '../booking/booking-events';
import { type Scheduler, SYSTEM_SCHEDULER } from '../infra/clock';
import { type Logger } from '../infra/logger';
import { detached, injectTraceContext, inSpan, SpanKind, storedParent } from '../infra/tracing';
import { encodeEvent } from './event-message';
import { type TopologyNames } from './topology';

export interface OutboxRelayOptions {
  /** Rows published per batch. */
  readonly batchSize?: number;
  /** Polling period: the backstop for rows committed by processes that died before relaying. */
  readonly pollMilliseconds?: number;
  /** Wait after a wake-up before publishing, so that a burst of commits is published together. */
  readonly lingerMilliseconds?: number;
  /**
   * Longest wait for the broker to confirm a batch (`OUTBOX_CONFIRM_TIMEOUT_MS`); past it the
   * batch is left unpublished, the channel is replaced and the rows are published again.
   */
  readonly confirmTimeoutMilliseconds?: number;
  /**
   * Arms the confirm timeout (`setTimeout` by default), so that a test can say when the broker
   * is given up on instead of waiting for it. The linger and polling timers do not use it.
   */
  readonly schedule?: Scheduler;
}

/** Thrown when the broker has not confirmed a batch in time (e.g. a memory or disk alarm). */
export class ConfirmTimeoutError extends Error {
  constructor(milliseconds: number) {
    super(`the broker did not confirm the batch within ${milliseconds} ms`);
    this.name = 'ConfirmTimeoutError';
  }
}

/**
 * Ends a confirm wait when the relay is stopped: the batch is given back as after a
 * {@link ConfirmTimeoutError}, for this or another relay to publish later.
 */
export class RelayStoppedError extends Error {
  constructor() {
    super('the relay stopped before the broker confirmed the batch');
    this.name = 'RelayStoppedError';
  }
}

type OutboxRow = {
  id: string;
  topic: BookingEvent['topic'];
  payload: BookingEvent['payload'];
  /** The W3C trace context of the transaction that wrote the row (null when not traced). */
  trace_context: Record<string, string> | null;
};

/**
 * Publishes committed outbox rows to the events exchange, in id order within a batch, with
 * publisher confirms. A batch is first claimed with a short lease (`claimed_until`, database
 * clock, twice the confirm timeout) in a statement of its own, so no transaction stays open
 * while the broker is waited for; relays in other processes skip claimed rows. A row is marked
 * published only after the broker confirmed it. Delivery is at-least-once: a crash between the
 * confirm and the mark, or a confirm that comes later than `confirmTimeoutMilliseconds`,
 * publishes a row again, and consumers are idempotent.
 */
export class OutboxRelay {
  private connection: ChannelModel | null = null;
  private channel: ConfirmChannel | null = null;
  private reopening: Promise<void> | null = null;
  private draining = false;
  private wakeAgain = false;
  private timer: NodeJS.Timeout | null = null;
  /** Settles when the drain last started by {@link wake} has finished. */
  private drained: Promise<void> = Promise.resolve();
  /** Set by {@link stop}: nothing wakes the relay again, so the caller may close what it uses. */
  private stopped = false;
  /** Ends each confirm wait in flight early, so that {@link stop} need not outlast it. */
  private readonly confirmWaits = new Set<() => void>();
  private readonly batchSize: number;
  private readonly pollMilliseconds: number;
  private readonly lingerMilliseconds: number;
  private readonly confirmTimeoutMilliseconds: number;
  private readonly schedule: Scheduler;

  constructor(
    private readonly orm: MikroORM,
    private readonly names: TopologyNames,
    private readonly logger: Logger,
    options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.pollMilliseconds = options.pollMilliseconds ?? 1_000;
    this.lingerMilliseconds = options.lingerMilliseconds ?? 5;
    this.confirmTimeoutMilliseconds = options.confirmTimeoutMilliseconds ?? 5_000;
    this.schedule = options.schedule ?? SYSTEM_SCHEDULER;
  }

  /** Connection setup: a confirm channel for publishing, then a drain of the backlog. */
  readonly attach = async (connection: ChannelModel): Promise<void> => {
    if (this.stopped) {
      return;
    }
    this.connection = connection;
    await this.openChannel(connection);
    this.wake();
  };

  /** Starts the polling backstop. */
  start(): void {
    this.timer ??= setInterval(() => this.wake(), this.pollMilliseconds);
    this.timer.unref();
  }

  /**
   * Stops the relay for good: no commit, poll or reconnection wakes it again, and the confirm
   * waits in flight end at once, their batches given back (as after a confirm timeout) for the
   * next relay to publish. Resolves once the drain in progress has finished, so that the caller
   * may then close the broker connection and the database.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    for (const cancel of this.confirmWaits) {
      cancel();
    }
    await this.reopening;
    await this.drained;
  }

  /** Publishes what is waiting, now. Cheap to call after every commit: calls coalesce. */
  wake(): void {
    if (this.stopped) {
      return;
    }
    if (this.draining) {
      this.wakeAgain = true;
      return;
    }
    this.draining = true;
    this.drained = new Promise<void>((settled) => {
      // A short linger lets the commits of a burst share one relay batch.
      setTimeout(() => {
        // A drain serves the rows of many operations: it belongs to none of their traces.
        void detached(() =>
          this.drain().finally(() => {
            this.draining = false;
            settled();
          }),
        );
      }, this.lingerMilliseconds);
    });
  }

  /** For callers that hold events: the relay does not need them, the outbox has them. */
  readonly onCommitted = (_events: readonly BookingEvent[]): void => {
    this.wake();
  };

  private async openChannel(connection: ChannelModel): Promise<void> {
    const channel = await connection.createConfirmChannel();
    if (this.connection !== connection) {
      // A reconnection happened while this channel was being opened: it belongs to the past.
      await channel.close().catch(() => undefined);
      return;
    }
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
  }

  /**
   * Drops a channel whose confirms are overdue and opens another: amqplib's
   * `waitForConfirms` waits for every message ever published on a channel, and a late nack of
   * an abandoned batch would fail the next one, so that channel cannot be used again. A relay
   * being stopped (`reopen` false) only drops it: the process is leaving, and a new channel
   * would start publishing again while the caller shuts the broker and database down.
   */
  private replaceChannel(stale: ConfirmChannel, reopen: boolean): void {
    if (this.channel === stale) {
      this.channel = null;
    }
    // Not awaited: a blocked broker may not answer the close either.
    void stale.close().catch(() => undefined);
    const connection = this.connection;
    if (!connection || this.reopening || !reopen || this.stopped) {
      return;
    }
    this.reopening = this.openChannel(connection)
      .then(() => this.wake())
      .catch((error: unknown) => {
        // The connection is going away; its replacement's `attach` opens a channel.
        this.logger.warn({ err: error }, 'Outbox relay could not reopen its channel');
      })
      .finally(() => {
        this.reopening = null;
      });
  }

  private async drain(): Promise<void> {
    do {
      this.wakeAgain = false;
      try {
        while ((await this.publishBatch()) === this.batchSize) {
          // full batch: there may be more
        }
      } catch (error) {
        if (error instanceof RelayStoppedError) {
          // Asked for, not a failure: the batch was given back for a later publish.
          this.logger.info('Outbox relay stopped while the broker had not yet confirmed a batch');
        } else {
          this.logger.warn({ err: error }, 'Outbox relay could not publish; will retry');
        }
        return;
      }
    } while (this.wakeAgain);
  }

  private async publishBatch(): Promise<number> {
    const channel = this.channel;
    if (!channel) {
      return 0;
    }
    const em = this.orm.em.fork();
    const leaseSeconds = (2 * this.confirmTimeoutMilliseconds) / 1_000;
    // One statement, so one short transaction: the lease replaces a row lock held while waiting.
    const rows: OutboxRow[] = await em.execute(
      `with claimed as (
         update outbox_event set claimed_until = now() + make_interval(secs => ?)
          where id in (select id from outbox_event
                        where published_at is null and (claimed_until is null or claimed_until < now())
                        order by id
                        limit ?
                        for update skip locked)
         returning id, topic, payload, trace_context)
       select id, topic, payload, trace_context from claimed order by id`,
      [leaseSeconds, this.batchSize],
    );
    if (rows.length === 0) {
      return 0;
    }
    const ids = rows.map((row) => row.id);
    // Each traced row's publish span lasts until the broker confirmed (or refused) the batch.
    let confirmed: Promise<void> | null = null;
    let settleConfirms: (error?: unknown) => void = () => undefined;
    try {
      for (const row of rows) {
        const event = { topic: row.topic, payload: row.payload } as BookingEvent;
        if (row.trace_context === null) {
          const { content, options } = encodeEvent(row.id, event);
          channel.publish(this.names.events, row.topic, content, options);
          continue;
        }
        if (!confirmed) {
          confirmed = new Promise<void>((resolve, reject) => {
            settleConfirms = (error) => (error === undefined ? resolve() : reject(error));
          });
          // Observed here, at birth: if `channel.publish` throws inside the first row's span
          // (a channel closed during the claim), no span ever waits on it, and its rejection by
          // the catch below would otherwise be unhandled and end the process.
          confirmed.catch(() => undefined);
        }
        const batchConfirmed = confirmed;
        // The row's trace continues here and, through the headers, in every consumer.
        void inSpan(
          `${row.topic} publish`,
          () => {
            const headers: Record<string, string> = {};
            injectTraceContext(headers);
            const { content, options } = encodeEvent(row.id, event, headers);
            channel.publish(this.names.events, row.topic, content, options);
            return batchConfirmed;
          },
          {
            kind: SpanKind.PRODUCER,
            parent: storedParent(row.trace_context),
            attributes: {
              'messaging.system': 'rabbitmq',
              'messaging.operation.type': 'send',
              'messaging.destination.name': this.names.events,
              'messaging.rabbitmq.destination.routing_key': row.topic,
              'messaging.message.id': row.id,
            },
          },
        ).catch(() => undefined);
      }
      await this.waitForConfirms(channel);
      settleConfirms();
    } catch (error) {
      settleConfirms(error);
      // Give the rows back at once (not when the lease ends), so the next attempt publishes
      // them before anything newer. If this fails too, the lease runs out on its own.
      await em
        .execute(
          'update outbox_event set claimed_until = null where id = any(array[?]::uuid[]) and published_at is null',
          [ids],
        )
        .catch(() => undefined);
      throw error;
    }
    await em.execute(
      'update outbox_event set published_at = now(), claimed_until = null where id = any(array[?]::uuid[])',
      [ids],
    );
    return rows.length;
  }

  private async waitForConfirms(channel: ConfirmChannel): Promise<void> {
    const confirmed = channel.waitForConfirms();
    // Settles after the timeout too (the stale channel is closed): nobody is listening then.
    confirmed.catch(() => undefined);
    let cancelTimer: () => void = () => undefined;
    let cancel: () => void = () => undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      cancelTimer = this.schedule(this.confirmTimeoutMilliseconds, () =>
        reject(new ConfirmTimeoutError(this.confirmTimeoutMilliseconds)),
      );
      // `stop()` ends the wait before the timeout would, and the batch goes the same way.
      cancel = () => reject(new RelayStoppedError());
    });
    this.confirmWaits.add(cancel);
    try {
      await Promise.race([confirmed, timeout]);
    } catch (error) {
      this.replaceChannel(channel, !(error instanceof RelayStoppedError));
      throw error;
    } finally {
      cancelTimer();
      this.confirmWaits.delete(cancel);
    }
  }
}
