import { type Options } from 'amqplib';
import { type BookingEvent, type BookingEventMap, type BookingTopic } from '../booking/booking-events';

/** Topics this version knows; anything else on the wire is refused as malformed. */
const TOPICS: readonly BookingTopic[] = [
  'reservation.created',
  'reservation.confirmed',
  'reservation.cancelled',
  'reservation.expired',
  'reservation.extended',
  'seat.status-changed',
  'sale.refunded',
];

/** A booking event as it travels through RabbitMQ. */
export interface EventMessage {
  readonly id: string;
  readonly event: BookingEvent;
}

/**
 * Body and properties of an outbox row's message; `messageId` is the outbox id. `traceHeaders`
 * (W3C `traceparent` / `tracestate`) become the message's headers, where consumers find the
 * trace to continue.
 */
export function encodeEvent(
  id: string,
  event: BookingEvent,
  traceHeaders?: Record<string, string>,
): { content: Buffer; options: Options.Publish } {
  return {
    content: Buffer.from(JSON.stringify(event.payload)),
    options: {
      messageId: id,
      type: event.topic,
      contentType: 'application/json',
      persistent: true,
      mandatory: true,
      timestamp: Math.floor(Date.now() / 1_000),
      ...(traceHeaders ? { headers: { ...traceHeaders } } : {}),
    },
  };
}

/** Thrown for a message that can never be handled; like any failure it is retried, then dead-lettered. */
export class MalformedMessageError extends Error {}

/** Reads a message written by {@link encodeEvent}. */
export function decodeEvent(message: {
  content: Buffer;
  properties: { messageId?: string; type?: string };
  fields: { routingKey: string };
}): EventMessage {
  const topic = (message.properties.type ?? message.fields.routingKey) as BookingTopic;
  if (!TOPICS.includes(topic)) {
    throw new MalformedMessageError(`unknown event type "${String(topic)}"`);
  }
  if (!message.properties.messageId) {
    throw new MalformedMessageError('message has no messageId');
  }
  let payload: unknown;
  try {
    payload = JSON.parse(message.content.toString('utf8'));
  } catch {
    throw new MalformedMessageError('message body is not JSON');
  }
  if (typeof payload !== 'object' || payload === null) {
    throw new MalformedMessageError('message body is not an object');
  }
  return {
    id: message.properties.messageId,
    event: { topic, payload: payload as BookingEventMap[typeof topic] } as BookingEvent,
  };
}
