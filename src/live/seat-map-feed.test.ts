import { type SeatStatusChangedEvent } from '../booking/booking-events';
import { type Logger } from '../infra/logger';
import { createLivePubSub } from './live-pubsub';
import { type SeatChangeStore, SeatMapFeed } from './seat-map-feed';

const SESSION = 's1';

function change(mapVersion: number): SeatStatusChangedEvent {
  return { mapVersion, sessionId: SESSION, reservationId: null, seats: [], changedAt: 'now' };
}

/** A change log in memory: versions 1..`current` of one session. */
function store(log: { current: number; oldestKept: number }): SeatChangeStore {
  return {
    currentVersions: async () => new Map([[SESSION, log.current]]),
    replayWindow: async () => ({ current: log.current, oldestKept: log.current > 0 ? log.oldestKept : null }),
    findAfter: async (_sessionId, after, limit) => {
      const changes = [];
      for (
        let version = Math.max(after + 1, log.oldestKept);
        version <= log.current && changes.length < limit;
        version += 1
      ) {
        changes.push(change(version));
      }
      return changes;
    },
  };
}

const silent = { warn: () => undefined } as unknown as Logger;

async function take(stream: AsyncGenerator<SeatStatusChangedEvent>, count: number): Promise<number[]> {
  const seen: number[] = [];
  while (seen.length < count) {
    seen.push((await stream.next()).value.mapVersion);
  }
  return seen;
}

describe('SeatMapFeed', () => {
  it('delivers in order: drops repeats, fills gaps from the log, and catches up after a reconnection', async () => {
    const log = { current: 2, oldestKept: 1 };
    const feed = new SeatMapFeed(createLivePubSub(), () => store(log), silent);
    const stream = await feed.subscribe(SESSION);
    log.current = 3;
    feed.deliver(change(3));
    feed.deliver(change(3));
    log.current = 6;
    // 4 and 5 were lost on the way: they come from the log before 6.
    feed.deliver(change(6));
    feed.deliver(change(5));
    expect(await take(stream, 4)).toEqual([3, 4, 5, 6]);
    // Nothing arrives after a long outage: the reconnection brings the rest.
    log.current = 8;
    await feed.catchUp();
    expect(await take(stream, 2)).toEqual([7, 8]);
    feed.deliver(change(8));
    feed.deliver(change(9));
    expect(await take(stream, 1)).toEqual([9]);
    await stream.return(undefined);
  });

  it('replays after a version, then hands over to live without a gap or a repeat', async () => {
    const log = { current: 4, oldestKept: 1 };
    const feed = new SeatMapFeed(createLivePubSub(), () => store(log), silent);
    const stream = await feed.subscribe(SESSION, 1);
    // Committed while the replay is read: live delivers it too; it is sent once.
    log.current = 5;
    feed.deliver(change(5));
    expect(await take(stream, 4)).toEqual([2, 3, 4, 5]);
    await stream.return(undefined);
  });

  it('refuses a version no longer kept, or above the current one', async () => {
    const log = { current: 10, oldestKept: 4 };
    const feed = new SeatMapFeed(createLivePubSub(), () => store(log), silent);
    await expect(feed.subscribe(SESSION, 2)).rejects.toMatchObject({ code: 'RESYNC_REQUIRED' });
    await expect(feed.subscribe(SESSION, 11)).rejects.toMatchObject({ code: 'RESYNC_REQUIRED' });
    const kept = await feed.subscribe(SESSION, 3);
    expect(await take(kept, 7)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    await kept.return(undefined);
  });

  it('serves many resumes of one session from one read of the log', async () => {
    const log = { current: 100, oldestKept: 1 };
    let reads = 0;
    const counted = (): SeatChangeStore => {
      const inner = store(log);
      return {
        ...inner,
        findAfter: (...args) => {
          reads += 1;
          return inner.findAfter(...args);
        },
      };
    };
    const feed = new SeatMapFeed(createLivePubSub(), counted, silent);
    const streams = await Promise.all(Array.from({ length: 200 }, () => feed.subscribe(SESSION, 0)));
    for (const stream of streams) {
      expect(await take(stream, 100)).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
    }
    expect(reads).toBe(1);
    await Promise.all(streams.map((stream) => stream.return(undefined)));
  });
});
