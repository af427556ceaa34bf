import { type Channel, type ChannelModel } from 'amqplib';
import { type TopologyNames } from './topology';

/** A queue to watch: its name on the broker and the short label it is reported under. */
export interface WatchedQueue {
  /** Bounded set: `expiry.delay`, `expiry`, `receipts`, `dead-letter`, `live`. */
  readonly label: string;
  readonly name: string;
}

/** The application's queues under its `AMQP_PREFIX`, plus this process's live queue if any. */
export function watchedQueues(names: TopologyNames, liveQueue?: string): WatchedQueue[] {
  return [
    { label: 'expiry.delay', name: names.expiryDelay },
    { label: 'expiry', name: names.expiryQueue },
    { label: 'receipts', name: names.receiptsQueue },
    { label: 'dead-letter', name: names.deadLetterQueue },
    ...(liveQueue ? [{ label: 'live', name: liveQueue }] : []),
  ];
}

/** Messages ready in one queue, as the broker counts them (unacknowledged ones excluded). */
export interface QueueDepth {
  readonly queue: string;
  readonly messages: number;
  readonly consumers: number;
}

/**
 * Reads queue depths with `checkQueue` (a passive declare: one round trip per queue, nothing
 * created) on a channel of its own, opened on each (re)connection by {@link attach}. A queue
 * that does not exist closes a channel (404), so the channel is reopened on the next read.
 * Without a connection, `read` resolves to no depths at all.
 */
export class QueueDepthProbe {
  private connection: ChannelModel | null = null;
  private channel: Promise<Channel> | null = null;

  constructor(private readonly queues: readonly WatchedQueue[]) {}

  /** Connection setup: remember the connection; the channel is opened at the first read. */
  readonly attach = async (connection: ChannelModel): Promise<void> => {
    this.connection = connection;
    this.channel = null;
    connection.on('close', () => {
      if (this.connection === connection) {
        this.connection = null;
        this.channel = null;
      }
    });
  };

  async read(): Promise<QueueDepth[]> {
    const depths: QueueDepth[] = [];
    for (const queue of this.queues) {
      const channel = await this.openChannel();
      if (!channel) {
        return depths;
      }
      try {
        const { messageCount, consumerCount } = await channel.checkQueue(queue.name);
        depths.push({ queue: queue.label, messages: messageCount, consumers: consumerCount });
      } catch {
        // Not declared (yet): the broker closed the channel; the next queue gets a new one.
        this.channel = null;
      }
    }
    return depths;
  }

  private openChannel(): Promise<Channel | null> {
    const connection = this.connection;
    if (!connection) {
      return Promise.resolve(null);
    }
    if (!this.channel) {
      const opened = connection.createChannel().then((channel) => {
        channel.on('error', () => undefined);
        channel.on('close', () => {
          if (this.channel === opened) {
            this.channel = null;
          }
        });
        return channel;
      });
      opened.catch(() => {
        if (this.channel === opened) {
          this.channel = null;
        }
      });
      this.channel = opened;
    }
    return this.channel.catch(() => null);
  }
}
