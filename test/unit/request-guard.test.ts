import 'reflect-metadata';
import { type GraphQLSchema, getOperationAST, parse } from 'graphql';
import { type Redis } from 'ioredis';
import { createErrorFormatter } from '../../src/errors/graphql-error-formatter';
import { buildGraphQLSchema } from '../../src/schema/build-schema';
import { RateLimiter } from '../../src/security/rate-limiter';
import { createRequestGuard, type RequestGuard } from '../../src/security/request-guard';

/** A Redis that does not answer: the limiter counts in memory, exactly. */
function unreachableRedis(): Redis {
  const redis: Record<string, unknown> = {
    defineCommand: (name: string) => {
      redis[name] = () => Promise.reject(new Error('Connection is closed.'));
    },
  };
  return redis as unknown as Redis;
}

const LIMITS = { maxDepth: 10, maxAliases: 15, maxCost: 25_000 };

describe('request guard', () => {
  let schema: GraphQLSchema;
  let guard: RequestGuard;
  const formatError = createErrorFormatter(() => undefined);

  beforeAll(async () => {
    schema = await buildGraphQLSchema();
  });

  beforeEach(() => {
    guard = createRequestGuard(
      schema,
      LIMITS,
      new RateLimiter(unreachableRedis(), 'test', { mutation: 5, read: 5 }),
    );
  });

  function check(source: string, userId = 'alice') {
    const document = parse(source);
    return guard({
      document,
      operation: getOperationAST(document)!,
      variables: {},
      viewer: { userId, isAdmin: false, expiresAt: new Date(Date.now() + 60_000) },
      clientAddress: '10.0.0.1',
    });
  }

  const cancels = (count: number) =>
    `mutation { ${Array.from(
      { length: count },
      (_, index) => `c${index}: cancelReservation(reservationId: "r${index}") { id }`,
    ).join(' ')} }`;

  it('refuses an operation outside the limits with HTTP 400, coded as before on the wire', async () => {
    const [error] = await check(cancels(16));
    expect(error.extensions.http).toEqual({ status: 400, headers: new Map() });
    expect(formatError(error.toJSON(), error).extensions).toEqual({
      code: 'GRAPHQL_VALIDATION_FAILED',
      limit: 'aliases',
      max: 15,
      actual: 16,
    });
  });

  it('counts root fields against the budget: 6 aliased mutations are refused with HTTP 429', async () => {
    const [error] = await check(cancels(6));
    expect(error.extensions.http).toMatchObject({ status: 429 });
    const { headers } = error.extensions.http as { headers: Map<string, string> };
    const retryAfter = Number(headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(formatError(error.toJSON(), error).extensions).toEqual({
      code: 'RATE_LIMITED',
      retryAfterSeconds: retryAfter,
    });
  });

  it('lets 5 single mutations through and refuses the 6th; other users have their own budget', async () => {
    for (let index = 0; index < 5; index += 1) {
      expect(await check(cancels(1))).toEqual([]);
    }
    expect((await check(cancels(1)))[0].extensions.code).toBe('RATE_LIMITED');
    expect(await check(cancels(5), 'bob')).toEqual([]);
  });

  it('counts every root field of a read, __typename included', async () => {
    expect(await check('{ a: __typename b: __typename c: __typename }')).toEqual([]);
    expect(await check('{ ...F } fragment F on Query { __typename x: __typename }')).toEqual([]);
    expect((await check('{ __typename }'))[0].extensions.code).toBe('RATE_LIMITED');
  });
});
