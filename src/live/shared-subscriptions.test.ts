import {
  type ExecutionResult,
  GraphQLID,
  GraphQLInt,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  parse,
} from 'graphql';
import { type Logger } from '../infra/logger';
import { isAsyncGenerator, SharedSubscriptions } from './shared-subscriptions';

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
