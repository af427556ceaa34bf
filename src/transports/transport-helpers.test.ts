import {
  type ExecutionResult,
  getOperationAST,
  GraphQLInt,
  GraphQLObjectType,
  GraphQLSchema,
  buildSchema,
  parse,
  subscribe,
} from 'graphql';
import { createLivePubSub } from '../live/live-pubsub';
import { outcomeLabel, rootFieldLabel } from './operation-log-plugin';
import { announceFirstPull } from './subscription-signals';

describe('operation labels', () => {
  const schema = buildSchema('type Query { a: Int b: Int }');
  const label = (query: string) => {
    const document = parse(query);
    return rootFieldLabel(schema, document, getOperationAST(document));
  };

  it('names one known root field, else multiple or none', () => {
    expect(label('{ a }')).toBe('a');
    expect(label('{ x: a y: a }')).toBe('a');
    expect(label('{ a b }')).toBe('multiple');
    expect(label('{ unknown }')).toBe('none');
    expect(rootFieldLabel(schema, undefined, undefined)).toBe('none');
  });

  it('keeps outcomes within the contract codes', () => {
    expect(outcomeLabel(undefined, false)).toBe('ok');
    expect(outcomeLabel(undefined, true)).toBe('INTERNAL_SERVER_ERROR');
    expect(outcomeLabel('RATE_LIMITED', true)).toBe('RATE_LIMITED');
    expect(outcomeLabel('SOMETHING_ELSE', true)).toBe('INTERNAL_SERVER_ERROR');
  });
});

describe('announceFirstPull', () => {
  it('announces once, when the first pull is asked for, and passes every result through', async () => {
    async function* source(): AsyncGenerator<ExecutionResult> {
      yield { data: { n: 1 } };
      yield { data: { n: 2 } };
    }
    let announcements = 0;
    const announced = announceFirstPull(source(), () => (announcements += 1));
    expect(announcements).toBe(0);
    const first = announced.next();
    expect(announcements).toBe(1);
    const results: unknown[] = [(await first).value?.data];
    for await (const result of announced) {
      results.push(result.data);
    }
    expect(results).toEqual([{ n: 1 }, { n: 2 }]);
    expect(announcements).toBe(1);
  });
});

describe('subscribed signal', () => {
  it('is given once the live pub-sub listens: an event published right then arrives', async () => {
    const live = createLivePubSub();
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { a: { type: GraphQLInt } } }),
      subscription: new GraphQLObjectType({
        name: 'Subscription',
        fields: {
          changes: {
            type: GraphQLInt,
            subscribe: () => live.subscribe('seat-status-changed', 's1'),
            resolve: () => 1,
          },
        },
      }),
    });
    const source = await subscribe({ schema, document: parse('subscription { changes }') });
    if (!(Symbol.asyncIterator in source)) {
      throw new Error('expected a stream');
    }
    const event = { mapVersion: 1, sessionId: 's1', reservationId: null, seats: [], changedAt: 'now' };
    const announced = announceFirstPull(source, () => live.publish('seat-status-changed', 's1', event));
    const first = await announced.next();
    expect(first.value).toEqual({ data: { changes: 1 } });
    await announced.return(undefined);
  });
});
