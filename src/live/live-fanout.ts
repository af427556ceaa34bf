import { type ChannelModel } from 'amqplib';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { type Logger } from '../infra/logger';
import { inSpan, remoteParent, SpanKind } from '../infra/tracing';
import { type BookingEvent } from '../booking/booking-events';
import { decodeEvent } from '../events/event-message';
import { type TopologyNames } from '../events/topology';

// An unused fan-out queue (its process died) disappears after this long.
const QUEUE_EXPIRES_MILLISECONDS = 60_000;

/**
 * Each API process's own queue of seat, reservation and sale events, handed to `deliver` (its
 * GraphQL subscriptions and read cache). The queue is named per process and outlives a dropped
 * connection (it expires only when unused for a minute), so events published while this
 * process was reconnecting still reach its subscribers.
 */
export class LiveFanout {
  readonly queue: string;

  constructor(
    private readonly names: TopologyNames,
    private readonly deliver: (events: readonly BookingEvent[]) => void,
    private readonly logger: Logger,
    prefix: string,
  ) {
    this.queue = `${prefix}.live.${hostname()}.${process.pid}.${randomUUID().slice(0, 8)}`;
  }

  /** Connection setup: declare and bind the queue, then consume it. */
  readonly attach = async (connection: ChannelModel): Promise<void> => {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await channel.assertQueue(this.queue, {
      durable: true,
      arguments: { 'x-queue-type': 'classic', 'x-expires': QUEUE_EXPIRES_MILLISECONDS },
    });
    await channel.bindQueue(this.queue, this.names.events, 'seat.#');
    await channel.bindQueue(this.queue, this.names.events, 'reservation.#');
    // A refund changes the reservation's sale: its reservationUpdated subscribers hear of it.
    await channel.bindQueue(this.queue, this.names.events, 'sale.#');
    await channel.prefetch(1_000);
    await channel.consume(this.queue, (message) => {
      if (!message) {
        return;
      }
      try {
        const { event } = decodeEvent(message);
        // A child of the operation that wrote the event; the seat-map feed hands this context on
        // to the subscriber delivery.
        inSpan(`live fan-out ${event.topic}`, () => this.deliver([event]), {
          kind: SpanKind.CONSUMER,
          parent: remoteParent(message.properties.headers),
          attributes: {
            'messaging.system': 'rabbitmq',
            'messaging.operation.type': 'process',
            'messaging.destination.name': this.queue,
            'messaging.message.id': message.properties.messageId as string | undefined,
          },
        });
      } catch (error) {
        this.logger.warn({ err: error }, 'Dropped a malformed live event');
      }
      channel.ack(message);
    });
  };
}
