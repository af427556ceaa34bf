import { type ChannelModel } from 'amqplib';
import { ATTEMPTS_HEADER, FAILED_QUEUE_HEADER, FAILURE_REASON_HEADER } from './delivery-headers';
import { type TopologyNames } from './topology';

/**
 * Moves every message of the dead-letter queue back to the queue it failed in, with its
 * attempt count reset (after the cause was fixed). Returns how many were moved. Each message is
 * acked only after the broker confirmed its copy.
 */
export async function replayDeadLetters(connection: ChannelModel, names: TopologyNames): Promise<number> {
  const channel = await connection.createConfirmChannel();
  let moved = 0;
  try {
    for (;;) {
      const message = await channel.get(names.deadLetterQueue, { noAck: false });
      if (!message) {
        break;
      }
      const headers = { ...(message.properties.headers ?? {}) };
      const queue = String(headers[FAILED_QUEUE_HEADER] ?? '');
      if (!queue.startsWith(`${names.events.slice(0, -'.events'.length)}.`)) {
        // Not ours to route: leave it for a human.
        channel.nack(message, false, true);
        break;
      }
      delete headers[ATTEMPTS_HEADER];
      delete headers[FAILURE_REASON_HEADER];
      delete headers[FAILED_QUEUE_HEADER];
      channel.sendToQueue(queue, message.content, { ...message.properties, headers });
      await channel.waitForConfirms();
      channel.ack(message);
      moved += 1;
    }
  } finally {
    await channel.close().catch(() => undefined);
  }
  return moved;
}
