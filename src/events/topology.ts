import { type Channel } from 'amqplib';

/** A delivery is tried this many times before it is dead-lettered. */
export const MAX_DELIVERY_ATTEMPTS = 5;

/** Names of every exchange and queue, all under `AMQP_PREFIX`. */
export interface TopologyNames {
  /** Durable topic exchange of domain events; routing key = event topic. */
  readonly events: string;
  /** Classic queue whose queue-level TTL is the hold: `reservation.created` and `.extended` wait here. */
  readonly expiryDelay: string;
  /** Exchange the delay queue dead-letters into when a message's time is up. */
  readonly expiryDue: string;
  /** Quorum queue the expiry consumer reads: holds whose time is up. */
  readonly expiryQueue: string;
  /** Quorum queue of `reservation.confirmed` and `sale.refunded` for the receipts consumer. */
  readonly receiptsQueue: string;
  /** Fanout exchange and quorum queue where messages land after too many failed attempts. */
  readonly deadLetterExchange: string;
  readonly deadLetterQueue: string;
}

export function topologyNames(prefix: string, holdSeconds: number): TopologyNames {
  return {
    events: `${prefix}.events`,
    // The TTL is in the name: a queue's arguments cannot change, so another hold length
    // (a new HOLD_SECONDS) gets a queue of its own instead of a declaration error.
    expiryDelay: `${prefix}.expiry.delay.${holdSeconds}s`,
    expiryDue: `${prefix}.expiry.due`,
    expiryQueue: `${prefix}.expiry`,
    receiptsQueue: `${prefix}.receipts`,
    deadLetterExchange: `${prefix}.dead-letter`,
    deadLetterQueue: `${prefix}.dead-letter`,
  };
}

/**
 * Declares the whole topology. Idempotent: every process runs it on every connection.
 *
 * Expiry path: `reservation.created` and `reservation.extended` -> delay queue (TTL = hold, no
 * per-message TTLs, so messages expire in order at the head) -> dead-lettered to `expiry.due`
 * -> expiry queue.
 */
export async function declareTopology(
  channel: Channel,
  names: TopologyNames,
  holdSeconds: number,
): Promise<void> {
  await channel.assertExchange(names.events, 'topic', { durable: true });
  await channel.assertExchange(names.expiryDue, 'fanout', { durable: true });
  await channel.assertExchange(names.deadLetterExchange, 'fanout', { durable: true });

  await channel.assertQueue(names.expiryDelay, {
    durable: true,
    arguments: {
      'x-queue-type': 'classic',
      'x-message-ttl': holdSeconds * 1_000,
      'x-dead-letter-exchange': names.expiryDue,
    },
  });
  await channel.bindQueue(names.expiryDelay, names.events, 'reservation.created');
  // An extended hold ends HOLD_SECONDS after its extension (or earlier, at its cap): a message
  // of its own comes out at that moment; the earlier one arrives early and changes nothing.
  await channel.bindQueue(names.expiryDelay, names.events, 'reservation.extended');

  for (const queue of [names.expiryQueue, names.receiptsQueue, names.deadLetterQueue]) {
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  }
  await channel.bindQueue(names.expiryQueue, names.expiryDue, '');
  await channel.bindQueue(names.receiptsQueue, names.events, 'reservation.confirmed');
  await channel.bindQueue(names.receiptsQueue, names.events, 'sale.refunded');
  await channel.bindQueue(names.deadLetterQueue, names.deadLetterExchange, '');
}

/** Removes everything {@link declareTopology} made (test clean-up; never in production). */
export async function deleteTopology(channel: Channel, names: TopologyNames): Promise<void> {
  for (const queue of [names.expiryDelay, names.expiryQueue, names.receiptsQueue, names.deadLetterQueue]) {
    await channel.deleteQueue(queue);
  }
  for (const exchange of [names.events, names.expiryDue, names.deadLetterExchange]) {
    await channel.deleteExchange(exchange);
  }
}
