import { type ChannelModel, type ConsumeMessage } from 'amqplib';
import { backoffMilliseconds } from '../infra/amqp';
import { type Logger } from '../infra/logger';
import { type Metrics } from '../infra/metrics';
import { inSpan, remoteParent, SpanKind } from '../infra/tracing';

import { ATTEMPTS_HEADER, FAILED_QUEUE_HEADER, FAILURE_REASON_HEADER } from '../events/delivery-headers';

// Callers that already import the consumer keep finding the header names here.
export { ATTEMPTS_HEADER, FAILED_QUEUE_HEADER, FAILURE_REASON_HEADER };

export interface ConsumerDefinition {
  /** Name for logs and for the inbox of idempotent consumers. */
  readonly name: string;
  readonly queue: string;
  /** Unacknowledged messages this consumer holds at once. */
  readonly prefetch: number;
  readonly deadLetterExchange: string;
  /** Attempts before a failing message is dead-lettered. */
  readonly maxAttempts: number;
  /** Handles one message; a throw means "try again later". Must be idempotent. */
  handle(message: ConsumeMessage): Promise<void>;
  /** Testing only: wait this long between handling and acking (simulates a crash window). */
  readonly ackDelayMilliseconds?: number;
}

/** A running consumer; {@link stop} cancels it and waits for messages in hand. */
export interface RunningConsumer {
  stop(): Promise<void>;
}

/**
 * Consumes `queue` with manual acks: a message is acked only after `handle` resolved (its
 * transaction committed), so a process that dies mid-message has it redelivered. A failure is
 * retried with backoff by republishing the message with an attempt count; after
 * `maxAttempts` it goes to the dead-letter exchange with the reason in its headers. Republish
 * and dead-letter wait for publisher confirms before the original is acked.
 */
export async function startConsumer(
  connection: ChannelModel,
  definition: ConsumerDefinition,
  logger: Logger,
  metrics?: Metrics,
): Promise<RunningConsumer> {
  const count = (outcome: string) => metrics?.consumedMessages.inc({ consumer: definition.name, outcome });
  const channel = await connection.createConfirmChannel();
  channel.on('error', () => undefined);
  await channel.prefetch(definition.prefetch);
  const inFlight = new Set<Promise<void>>();

  const fail = async (message: ConsumeMessage, error: unknown): Promise<void> => {
    const headers = message.properties.headers ?? {};
    const attempts = Number(headers[ATTEMPTS_HEADER] ?? 1);
    const reason = error instanceof Error ? error.message : String(error);
    const properties = { ...message.properties, headers: { ...headers } };
    if (attempts >= definition.maxAttempts) {
      logger.error({ consumer: definition.name, attempts, reason }, 'Message dead-lettered');
      properties.headers[FAILURE_REASON_HEADER] = reason;
      properties.headers[FAILED_QUEUE_HEADER] = definition.queue;
      properties.headers[ATTEMPTS_HEADER] = attempts;
      channel.publish(definition.deadLetterExchange, '', message.content, properties);
      count('dead-lettered');
    } else {
      logger.warn({ consumer: definition.name, attempts, reason }, 'Message failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, backoffMilliseconds(attempts)));
      properties.headers[ATTEMPTS_HEADER] = attempts + 1;
      channel.sendToQueue(definition.queue, message.content, properties);
      count('retried');
    }
    await channel.waitForConfirms();
  };

  const handleDelivery = async (message: ConsumeMessage): Promise<void> => {
    if (message.fields.redelivered) {
      logger.info(
        { consumer: definition.name, messageId: message.properties.messageId },
        'Redelivered message',
      );
    }
    const published = message.properties.timestamp;
    if (typeof published === 'number') {
      metrics?.consumedMessageAge.observe(
        { consumer: definition.name },
        Math.max(0, Date.now() / 1_000 - published),
      );
    }
    try {
      // A child of the operation that wrote the event (its outbox row's trace, in the headers).
      await inSpan(`${definition.name} process`, () => definition.handle(message), {
        kind: SpanKind.CONSUMER,
        parent: remoteParent(message.properties.headers),
        attributes: {
          'messaging.system': 'rabbitmq',
          'messaging.operation.type': 'process',
          'messaging.destination.name': definition.queue,
          'messaging.rabbitmq.destination.routing_key': message.fields.routingKey,
          'messaging.message.id': message.properties.messageId as string | undefined,
        },
      });
      count('ok');
      if (definition.ackDelayMilliseconds) {
        await new Promise((resolve) => setTimeout(resolve, definition.ackDelayMilliseconds));
      }
    } catch (error) {
      await fail(message, error);
    }
    channel.ack(message);
  };

  const { consumerTag } = await channel.consume(definition.queue, (message) => {
    if (!message) {
      return;
    }
    const work = handleDelivery(message)
      .catch((error: unknown) => {
        // The channel went away: the broker redelivers the unacked message elsewhere.
        logger.warn({ consumer: definition.name, err: error }, 'Message left unacked');
      })
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  });

  return {
    stop: async () => {
      await channel.cancel(consumerTag).catch(() => undefined);
      await Promise.allSettled([...inFlight]);
      await channel.close().catch(() => undefined);
    },
  };
}
