import {
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLID,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
  print,
} from 'graphql';
import { type SeatStatusChangedEvent } from '../booking/booking-events';
import { type Logger } from '../infra/logger';
import { createLivePubSub } from './live-pubsub';
import { type SeatChangeStore, SeatMapFeed } from './seat-map-feed';
import { isAsyncGenerator, nextFrame, SharedSubscriptions } from './shared-subscriptions';

/** A source of events the test pushes, recording whether the channel closed it. */
class Source implements AsyncIterableIterator<unknown> {
  returned = 0;
  private readonly waiting: ((result: IteratorResult<unknown>) => void)[] = [];

  push(value: unknown): void {
    this.waiting.shift()?.({ value, done: false });
  }
  next(): Promise<IteratorResult<unknown>> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  async return(): Promise<IteratorResult<unknown>> {
    this.returned += 1;
    for (const waiting of this.waiting.splice(0)) {
      waiting({ value: undefined, done: true });
    }
    return { value: undefined, done: true };
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}

function schemaOver(source: Source): GraphQLSchema {
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLInt, resolve: () => 1 } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        // The name of a shareable field: its subscribers share one channel.
        seatStatusChanged: {
          type: GraphQLInt,
          args: { sessionId: { type: new GraphQLNonNull(GraphQLID) } },
          subscribe: () => source,
          resolve: (version: number) => version,
        },
      },
    }),
  });
}

describe('SharedSubscriptions', () => {
  it('closes the source and ends every subscriber when delivering an event fails', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const source = new Source();
      const errors: unknown[] = [];
      const logger = {
        error: (details: unknown) => errors.push(details),
        warn: () => undefined,
      } as unknown as Logger;
      const shared = new SharedSubscriptions(logger);
      const args = {
        schema: schemaOver(source),
        document: parse('subscription { seatStatusChanged(sessionId: "s1") }'),
      };
      // One subscriber whose socket fails on write, one reading results through its generator.
      const broken = await shared.subscribe({
        ...args,
        sink: {
          id: '1',
          send: () => {
            throw new Error('socket gone');
          },
        },
      });
      const reader = await shared.subscribe(args);
      if (!isAsyncGenerator(broken) || !isAsyncGenerator(reader)) {
        throw new Error('expected streams');
      }
      const readerNext = reader.next();
      source.push(1);

      // The reader is given the event or the end, and then the end: never left waiting.
      const seen: IteratorResult<ExecutionResult>[] = [await readerNext];
      if (!seen[0].done) {
        seen.push(await reader.next());
      }
      expect(seen[seen.length - 1].done).toBe(true);
      expect((await broken.next()).done).toBe(true);
      expect(source.returned).toBeGreaterThanOrEqual(1);
      expect(errors).toHaveLength(1);

      // The channel is gone: a new subscriber opens a fresh one.
      const again = await shared.subscribe(args);
      expect(isAsyncGenerator(again)).toBe(true);
      await (again as AsyncGenerator<ExecutionResult>).return(undefined);
      // A check that nothing happens: Node reports a promise left rejected once the microtasks
      // of the turn that rejected it have run, before any later timer fires, so one timer's
      // turn is enough to hear of it. Waiting longer or shorter never fails a channel that
      // leaves nothing unobserved.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

const SESSION = 's1';

/** Change `mapVersion` of the session: seat `mapVersion` taken by reservation `r<mapVersion>`. */
function change(mapVersion: number): SeatStatusChangedEvent {
  return {
    mapVersion,
    sessionId: SESSION,
    reservationId: `r${mapVersion}`,
    seats: [{ id: `seat-${mapVersion}`, status: 'RESERVED', version: 1 }],
    changedAt: 'now',
  } as unknown as SeatStatusChangedEvent;
}

/** The session's change log in memory: versions 1..`log.current`. */
function logOf(log: { current: number }): SeatChangeStore {
  return {
    currentVersions: async () => new Map([[SESSION, log.current]]),
    replayWindow: async () => ({ current: log.current, oldestKept: 1 }),
    findAfter: async (_sessionId, after, limit) =>
      Array.from({ length: Math.max(0, Math.min(limit, log.current - after)) }, (_, index) =>
        change(after + 1 + index),
      ),
  };
}

/** The seat map subscription as the service has it, over a real feed: replay, then live. */
function seatMapSchema(feed: SeatMapFeed): GraphQLSchema {
  const seat = new GraphQLObjectType({
    name: 'Seat',
    fields: { id: { type: GraphQLID }, status: { type: GraphQLString }, version: { type: GraphQLInt } },
  });
  const seatStatusChange = new GraphQLObjectType({
    name: 'SeatStatusChange',
    fields: {
      mapVersion: { type: GraphQLInt },
      reservationId: { type: GraphQLID },
      seats: { type: new GraphQLList(seat) },
    },
  });
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLInt, resolve: () => 1 } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        seatStatusChanged: {
          type: seatStatusChange,
          args: { sessionId: { type: new GraphQLNonNull(GraphQLID) }, afterMapVersion: { type: GraphQLInt } },
          subscribe: (_root, args: { sessionId: string; afterMapVersion?: number | null }) =>
            feed.subscribe(args.sessionId, args.afterMapVersion),
          resolve: (event: SeatStatusChangedEvent) => event,
        },
      },
    }),
  });
}

const FULL = parse(`subscription ($id: ID!, $after: Int) {
  seatStatusChanged(sessionId: $id, afterMapVersion: $after) { mapVersion seats { id status version } }
}`);
const VERSIONS_ONLY = parse(`subscription ($id: ID!, $after: Int) {
  seatStatusChanged(sessionId: $id, afterMapVersion: $after) { mapVersion reservationId }
}`);

/** One resumed subscriber: its results in order, read from its sink (frames) or its stream. */
interface Resumed {
  readonly document: string;
  readonly after: number;
  readonly results: Promise<unknown[]>;
  stop(): Promise<void>;
}

describe('SharedSubscriptions, resumed subscriptions', () => {
  const silent = { warn: () => undefined, error: () => undefined } as unknown as Logger;

  /** A feed over versions 1..`current`, and SharedSubscriptions counting executions per document. */
  function setUp(current: number) {
    const log = { current };
    const feed = new SeatMapFeed(createLivePubSub(), () => logOf(log), silent);
    const executions = new Map<string, number>();
    const counted = (args: ExecutionArgs) => {
      const document = print(args.document);
      executions.set(document, (executions.get(document) ?? 0) + 1);
      return execute(args);
    };
    const shared = new SharedSubscriptions(silent, counted as typeof execute);
    const schema = seatMapSchema(feed);

    /** Resumes after `after` and collects `count` results; with `framed`, through a sink. */
    async function resume(
      document: typeof FULL,
      after: number,
      count: number,
      framed: boolean,
    ): Promise<Resumed> {
      const frames: string[] = [];
      let framesComplete!: () => void;
      const allFramed = new Promise<void>((resolve) => (framesComplete = resolve));
      const id = `sub-${after}-${Math.random()}`;
      const stream = await shared.subscribe({
        schema,
        document,
        variableValues: { id: SESSION, after },
        sink: framed
          ? {
              id,
              send: (frame) => {
                if (frames.push(frame) === count) {
                  framesComplete();
                }
              },
            }
          : undefined,
      });
      if (!isAsyncGenerator(stream)) {
        throw new Error(`refused: ${JSON.stringify(stream)}`);
      }
      const results = framed
        ? (async () => {
            // Pulled as graphql-ws does; results without errors go to the sink meanwhile.
            const pulled = stream.next();
            await allFramed;
            await stream.return(undefined);
            expect((await pulled).done).toBe(true);
            return frames.map((frame) => {
              const parsed = JSON.parse(frame) as { id: string; type: string; payload: unknown };
              expect(frame).toBe(nextFrame(id, JSON.stringify(parsed.payload)));
              return parsed.payload;
            });
          })()
        : (async () => {
            const seen: unknown[] = [];
            while (seen.length < count) {
              seen.push((await stream.next()).value);
            }
            return seen;
          })();
      return {
        document: print(document),
        after,
        results,
        stop: async () => void (await stream.return(undefined)),
      };
    }

    /** What graphql's own `subscribe` gives for `document`, `after` and the change: the result without sharing. */
    const unshared = async (document: typeof FULL, after: number, mapVersion: number) =>
      JSON.parse(
        JSON.stringify(
          await execute({
            schema,
            document,
            variableValues: { id: SESSION, after },
            rootValue: change(mapVersion),
          }),
        ),
      ) as unknown;

    /** The log reaches change `version`, which arrives live. */
    function live(version: number): void {
      log.current = version;
      feed.deliver(change(version));
    }

    return { live, executions, resume, unshared };
  }

  /**
   * Resumes every `[subscribers, document, after, count]` group at once, half of each with a
   * socket sink and half with a stream.
   */
  function resumeAtOnce<Subscriber>(
    resume: (document: typeof FULL, after: number, count: number, framed: boolean) => Promise<Subscriber>,
    groups: readonly (readonly [number, typeof FULL, number, number])[],
  ): Promise<Subscriber[]> {
    return Promise.all(
      groups.flatMap(([subscribers, document, after, count]) =>
        Array.from({ length: subscribers }, (_, index) => resume(document, after, count, index % 2 === 0)),
      ),
    );
  }

  it('gives every resumed subscriber its own selection, in order, as graphql would, across the hand-over to live', async () => {
    const { live, resume, unshared } = setUp(5);
    // Resuming at once: two selections, two starting points, sinks and streams.
    const subscribers = await resumeAtOnce(resume, [
      [10, FULL, 0, 6],
      [4, FULL, 2, 4],
      [10, VERSIONS_ONLY, 0, 6],
    ]);
    // Live, once everyone is subscribed.
    live(6);
    for (const subscriber of subscribers) {
      const document = subscriber.document === print(FULL) ? FULL : VERSIONS_ONLY;
      const expected = await Promise.all(
        Array.from({ length: 6 - subscriber.after }, (_, index) =>
          unshared(document, subscriber.after, subscriber.after + 1 + index),
        ),
      );
      expect(await subscriber.results).toEqual(expected);
    }
    // The selections really differ: nobody was handed the other's results.
    expect(await unshared(VERSIONS_ONLY, 0, 1)).toEqual({
      data: { seatStatusChanged: { mapVersion: 1, reservationId: 'r1' } },
    });
    await Promise.all(subscribers.map((subscriber) => subscriber.stop()));
  });

  it('executes each change once per selection for all the subscribers resuming at once, wherever they resume from', async () => {
    const { live, executions, resume } = setUp(50);
    const subscribers = await resumeAtOnce(resume, [
      [30, FULL, 0, 51],
      [10, FULL, 20, 31],
      [10, VERSIONS_ONLY, 0, 51],
    ]);
    live(51);
    await Promise.all(subscribers.map((subscriber) => subscriber.results));
    // 51 changes, two selections: not one execution per subscriber and change (2,370).
    expect(Object.fromEntries(executions)).toEqual({ [print(FULL)]: 51, [print(VERSIONS_ONLY)]: 51 });
    await Promise.all(subscribers.map((subscriber) => subscriber.stop()));
  });
});
