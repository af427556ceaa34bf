import { type Channel, type Options } from 'amqplib';
import { declareTopology, topologyNames } from './topology';

/** A channel that records what is declared on it (enough of amqplib's surface). */
class RecordingChannel {
  readonly queues = new Map<string, Options.AssertQueue | undefined>();
  readonly exchanges = new Map<string, string>();
  readonly bindings: { queue: string; exchange: string; routingKey: string }[] = [];

  async assertExchange(exchange: string, type: string) {
    this.exchanges.set(exchange, type);
    return { exchange };
  }

  async assertQueue(queue: string, options?: Options.AssertQueue) {
    this.queues.set(queue, options);
    return { queue, messageCount: 0, consumerCount: 0 };
  }

  async bindQueue(queue: string, exchange: string, routingKey: string) {
    this.bindings.push({ queue, exchange, routingKey });
    return {};
  }

  /** The queues bound to `exchange` with exactly `routingKey`. */
  queuesOf(exchange: string, routingKey: string): string[] {
    return this.bindings
      .filter((binding) => binding.exchange === exchange && binding.routingKey === routingKey)
      .map((binding) => binding.queue);
  }
}

/**
 * The expiry path's timing is in the topology, not in a timer: a hold's message waits in the
 * delay queue exactly HOLD_SECONDS (a queue-level TTL), then goes straight on to the expiry
 * queue. Checked on the declarations, so no test needs to wait for a hold to end.
 */
describe('declareTopology', () => {
  const HOLD_SECONDS = 42;

  async function declared() {
    const channel = new RecordingChannel();
    const names = topologyNames('p', HOLD_SECONDS);
    await declareTopology(channel as unknown as Channel, names, HOLD_SECONDS);
    return { channel, names };
  }

  it('makes the delay queue hold each message for exactly the hold, then dead-letter it to expiry.due', async () => {
    const { channel, names } = await declared();
    expect(channel.queues.get(names.expiryDelay)).toEqual({
      durable: true,
      arguments: {
        'x-queue-type': 'classic',
        'x-message-ttl': HOLD_SECONDS * 1_000,
        'x-dead-letter-exchange': names.expiryDue,
      },
    });
    // The TTL is in the name too: another HOLD_SECONDS gets a queue of its own.
    expect(names.expiryDelay).toBe(`p.expiry.delay.${HOLD_SECONDS}s`);
  });

  it('routes reservation.created and .extended through the delay queue, and expiry.due to the expiry queue', async () => {
    const { channel, names } = await declared();
    expect(channel.queuesOf(names.events, 'reservation.created')).toEqual([names.expiryDelay]);
    expect(channel.queuesOf(names.events, 'reservation.extended')).toEqual([names.expiryDelay]);
    // Nothing else lets a message out early or late: one fanout hop to the consumer's queue.
    expect(channel.exchanges.get(names.expiryDue)).toBe('fanout');
    expect(channel.queuesOf(names.expiryDue, '')).toEqual([names.expiryQueue]);
    expect(channel.queues.get(names.expiryQueue)?.arguments).not.toHaveProperty('x-message-ttl');
  });
});
