import { EventEmitter } from 'node:events';
import { type ChannelModel } from 'amqplib';
import { QueueDepthProbe } from './queue-depth';

/** A channel whose `checkQueue` answers as `answer` says (enough of amqplib's surface). */
class FakeChannel extends EventEmitter {
  closed = false;
  constructor(
    private readonly answer: (queue: string) => Promise<{ messageCount: number; consumerCount: number }>,
  ) {
    super();
  }
  checkQueue(queue: string) {
    return this.answer(queue);
  }
  async close() {
    this.closed = true;
  }
}

function connection(channels: FakeChannel[], next: () => FakeChannel): ChannelModel {
  const model = new EventEmitter() as EventEmitter & { createChannel(): Promise<FakeChannel> };
  model.createChannel = async () => {
    const channel = next();
    channels.push(channel);
    return channel;
  };
  return model as unknown as ChannelModel;
}

const queues = [
  { label: 'expiry', name: 'p.expiry' },
  { label: 'receipts', name: 'p.receipts' },
];

describe('QueueDepthProbe', () => {
  it('reads each queue on one channel, and opens a new one after a queue that does not exist', async () => {
    const channels: FakeChannel[] = [];
    const probe = new QueueDepthProbe(queues);
    await probe.attach(
      connection(
        channels,
        () =>
          new FakeChannel(async (queue) => {
            if (queue === 'p.expiry' && channels.length === 1) {
              throw new Error('NOT_FOUND');
            }
            return { messageCount: 5, consumerCount: 1 };
          }),
      ),
    );
    expect(await probe.read()).toEqual([{ queue: 'receipts', messages: 5, consumers: 1 }]);
    expect(channels).toHaveLength(2);
    expect(await probe.read()).toHaveLength(2);
    expect(channels).toHaveLength(2);
  });

  it('fails a read the broker does not answer in time, closing the stuck channel so none leaks', async () => {
    const channels: FakeChannel[] = [];
    let stuck = true;
    const probe = new QueueDepthProbe(queues, 50);
    await probe.attach(
      connection(
        channels,
        () =>
          new FakeChannel(() =>
            stuck ? new Promise(() => undefined) : Promise.resolve({ messageCount: 0, consumerCount: 0 }),
          ),
      ),
    );
    await expect(probe.read()).rejects.toThrow('in time');
    expect(channels.map((channel) => channel.closed)).toEqual([true]);
    stuck = false;
    expect(await probe.read()).toHaveLength(2);
    expect(channels.map((channel) => channel.closed)).toEqual([true, false]);
  });
});
