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

  it('refuses a version pruned between reading the window and replaying, rather than skip it', async () => {
    const log = { current: 10, oldestKept: 4 };
    const racing = store(log);
    const feed = new SeatMapFeed(
      createLivePubSub(),
      () => ({
        ...racing,
        currentVersions: async (sessionIds) => {
          const versions = await racing.currentVersions(sessionIds);
          log.oldestKept = 6; // the pruner runs right after
          return versions;
        },
      }),
      silent,
    );
    await expect(feed.subscribe(SESSION, 3)).rejects.toMatchObject({ code: 'RESYNC_REQUIRED' });
  });

  it('lets a subscriber that leaves before its first change go at once', async () => {
    const log = { current: 5, oldestKept: 1 };
    let baselines = 0;
    const counted = (): SeatChangeStore => ({
      ...store(log),
      currentVersions: async (sessionIds) => {
        baselines += 1;
        return store(log).currentVersions(sessionIds);
      },
    });
    const feed = new SeatMapFeed(createLivePubSub(), counted, silent);
    const idle = await feed.subscribe(SESSION, 5);
    await idle.return(undefined);
    // The session is no longer watched: the next subscriber reads its starting point again.
    const next = await feed.subscribe(SESSION);
    expect(baselines).toBe(2);
    await next.return(undefined);
  });

  it('retries a failed read of the log instead of leaving subscribers behind', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const log = { current: 5, oldestKept: 1 };
      let failures = 1;
      const flaky = (): SeatChangeStore => ({
        ...store(log),
        findAfter: async (...args) => {
          if (failures > 0) {
            failures -= 1;
            throw new Error('pool exhausted');
          }
          return store(log).findAfter(...args);
        },
      });
      const feed = new SeatMapFeed(createLivePubSub(), flaky, silent);
      const stream = await feed.subscribe(SESSION);
      log.current = 8;
      feed.deliver(change(8));
      const first = stream.next();
      await jest.advanceTimersByTimeAsync(1_000);
      expect((await first).value.mapVersion).toBe(6);
      expect(await take(stream, 2)).toEqual([7, 8]);
      await stream.return(undefined);
    } finally {
      jest.useRealTimers();
    }
  });

  it('replays a resume from further back than its memory in full, while changes keep coming', async () => {
    const log = { current: 3_000, oldestKept: 1 };
    let feed: SeatMapFeed | null = null;
    let interrupted = false;
    const busy = (): SeatChangeStore => ({
      ...store(log),
      findAfter: async (...args) => {
        if (!interrupted && feed) {
          // A live change lands while the log is being read back.
          interrupted = true;
          log.current = 3_001;
          feed.deliver(change(3_001));
        }
        return store(log).findAfter(...args);
      },
    });
    feed = new SeatMapFeed(createLivePubSub(), busy, silent);
    const watcher = await feed.subscribe(SESSION);
    const resumed = await feed.subscribe(SESSION, 100);
    const seen = await take(resumed, 2_901);
    expect(seen).toEqual(Array.from({ length: 2_901 }, (_, index) => 101 + index));
    await Promise.all([watcher.return(undefined), resumed.return(undefined)]);
  });
});
