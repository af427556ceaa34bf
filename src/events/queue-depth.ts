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

  /**
   * @param timeoutMilliseconds the longest one read waits for the broker (channel opening and
   *   every `checkQueue` together); a read that runs out of time fails.
   */
  constructor(
    private readonly queues: readonly WatchedQueue[],
    private readonly timeoutMilliseconds = 2_000,
  ) {}

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

  /**
   * The depth of each watched queue that exists.
   * @throws Error when the broker does not answer within the timeout
   */
  async read(): Promise<QueueDepth[]> {
    const deadline = Date.now() + this.timeoutMilliseconds;
    const depths: QueueDepth[] = [];
    for (const queue of this.queues) {
      const opened = this.openChannel();
      if (!opened) {
        return depths;
      }
      // A channel still opening when time runs out stays this.channel: the next read uses it.
      const channel = await within(
        opened.catch(() => null),
        deadline,
      );
      if (!channel) {
        return depths;
      }
      try {
        const { messageCount, consumerCount } = await within(channel.checkQueue(queue.name), deadline);
        depths.push({ queue: queue.label, messages: messageCount, consumers: consumerCount });
      } catch (error) {
        // Not declared (yet): the broker closed the channel. Or it did not answer in time:
        // close it, so its pending call ends with it. Either way the next read opens a new one,
        // unless a concurrent read already replaced it (that one is left alone).
        if (this.channel === opened) {
          this.channel = null;
        }
        channel.close().catch(() => undefined);
        if (error instanceof ProbeTimeout) {
          throw error;
        }
      }
    }
    return depths;
  }

  private openChannel(): Promise<Channel> | null {
    const connection = this.connection;
    if (!connection) {
      return null;
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
    return this.channel;
  }
}

class ProbeTimeout extends Error {
  constructor() {
    super('RabbitMQ did not answer the queue depth probe in time');
  }
}

/** `work`'s result, or a {@link ProbeTimeout} once `deadline` (epoch ms) has passed. */
async function within<Value>(work: Promise<Value>, deadline: number): Promise<Value> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout()), Math.max(0, deadline - Date.now()));
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
