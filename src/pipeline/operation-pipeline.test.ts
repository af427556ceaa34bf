import { buildSchema, getOperationAST, GraphQLError, parse } from 'graphql';
import { type Context, type RequestOrigin } from '../resolvers/context';
import { ErrorCode } from '../errors/domain-error';
import { AdmissionGate } from '../security/admission-gate';
import { type GuardedOperation } from '../security/request-guard';
import { createOperationPipeline, selectOperation, type TransportPolicy } from './operation-pipeline';

const schema = buildSchema(`
  type Query { hello(name: String!): String }
  type Subscription { ticks: Int }
`);

const LIMITS = { maxTokens: 1_000, maxSelections: 100, introspection: false };
const WEBSOCKET: TransportPolicy = { cacheLoaders: false };
const HTTP: TransportPolicy = { cacheLoaders: true, refuseSubscriptions: 'Use a websocket.' };
const SSE: TransportPolicy = { cacheLoaders: false, refuseQueriesAndMutations: 'Use HTTP POST.' };

/** A pipeline whose guard and context factory record what they were given. */
function pipelineWith(refusal?: GraphQLError) {
  const guarded: GuardedOperation[] = [];
  const origins: RequestOrigin[] = [];
  const pipeline = createOperationPipeline({
    schema,
    limits: LIMITS,
    guard: async (operation) => {
      guarded.push(operation);
      return refusal ? [refusal] : [];
    },
    createContext: async (origin) => {
      origins.push(origin);
      return { viewer: origin.viewer ?? null, clientAddress: origin.clientAddress } as Context;
    },
  });
  return { pipeline, guarded, origins };
}

const request = (
  query: string,
  extra: { operationName?: string; variables?: Record<string, unknown> } = {},
) => ({
  query,
  sender: { viewer: null },
  clientAddress: '10.0.0.1',
  requestId: 'r1',
  ...extra,
});

/** The distinct codes of `errors`. */
const codes = (errors: readonly GraphQLError[] | undefined) => [
  ...new Set(errors?.map((error) => error.extensions.code)),
];

describe('selectOperation', () => {
  it('refuses a missing operation and, where the transport says so, a subscription', () => {
    const document = parse('subscription S { ticks } query Q { hello(name: "x") }');
    expect(selectOperation(getOperationAST(document, 'S'), 'S', WEBSOCKET)).toMatchObject({
      name: { value: 'S' },
    });
    const refused = selectOperation(getOperationAST(document, 'S'), 'S', HTTP) as GraphQLError;
    expect(refused.message).toBe('Use a websocket.');
    expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'query' });
    const missing = selectOperation(getOperationAST(document, 'Nope'), 'Nope', WEBSOCKET) as GraphQLError;
    expect(missing.message).toBe('The document has no operation named "Nope".');
    const ambiguous = selectOperation(getOperationAST(document), undefined, WEBSOCKET) as GraphQLError;
    expect(ambiguous.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'operationName' });
  });

  it('refuses queries and mutations where the transport serves only subscriptions', () => {
    const document = parse('subscription S { ticks } query Q { hello(name: "x") }');
    expect(selectOperation(getOperationAST(document, 'S'), 'S', SSE)).toMatchObject({ name: { value: 'S' } });
    const refused = selectOperation(getOperationAST(document, 'Q'), 'Q', SSE) as GraphQLError;
    expect(refused.message).toBe('Use HTTP POST.');
    expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'query' });
  });
});

describe('operation pipeline', () => {
  it('refuses at each step with the table codes, before the guard runs', async () => {
    const { pipeline, guarded } = pipelineWith();
    expect(codes((await pipeline.prepare(request('{ hello('), WEBSOCKET)).errors)).toEqual([
      'GRAPHQL_PARSE_FAILED',
    ]);
    expect(codes((await pipeline.prepare(request('{ nope }'), WEBSOCKET)).errors)).toEqual([
      'GRAPHQL_VALIDATION_FAILED',
    ]);
    expect(
      codes((await pipeline.prepare(request('{ __schema { types { name } } }'), WEBSOCKET)).errors),
    ).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const variables = await pipeline.prepare(
      request('query ($name: String!) { hello(name: $name) }', { variables: { name: 3 } }),
      WEBSOCKET,
    );
    expect(codes(variables.errors)).toEqual(['BAD_USER_INPUT']);
    expect(codes((await pipeline.prepare(request('subscription { ticks }'), HTTP)).errors)).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes((await pipeline.prepare(request('{ hello(name: "x") }'), SSE)).errors)).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(guarded).toEqual([]);
  });

  it("hands the guard's refusal back unchanged", async () => {
    const refusal = new GraphQLError('Too many requests', { extensions: { code: 'RATE_LIMITED' } });
    const { pipeline } = pipelineWith(refusal);
    expect((await pipeline.prepare(request('subscription { ticks }'), WEBSOCKET)).errors).toEqual([refusal]);
  });

  it('builds execution arguments with the context of the caller and the transport', async () => {
    const { pipeline, guarded, origins } = pipelineWith();
    const prepared = await pipeline.prepare(
      request('query Q { hello(name: $name) } query R($name: String!) { hello(name: $name) }', {
        operationName: 'R',
        variables: { name: 'x' },
      }),
      WEBSOCKET,
    );
    // Q is invalid (undeclared variable): validation covers every operation of a document.
    expect(codes(prepared.errors)).toEqual(['GRAPHQL_VALIDATION_FAILED']);

    const ok = await pipeline.prepare(
      request('query R($name: String!) { hello(name: $name) }', {
        operationName: 'R',
        variables: { name: 'x' },
      }),
      WEBSOCKET,
    );
    expect(ok.errors).toBeUndefined();
    expect(ok.args).toMatchObject({ operationName: 'R', variableValues: { name: 'x' }, schema });
    expect(ok.operation?.name?.value).toBe('R');
    expect(origins).toEqual([
      { viewer: null, clientAddress: '10.0.0.1', requestId: 'r1', cacheLoaders: false },
    ]);
    expect(guarded).toHaveLength(1);
    expect(guarded[0]).toMatchObject({ viewer: null, clientAddress: '10.0.0.1', variables: { name: 'x' } });
  });

  it('admits what Apollo resolved with the same selection and guard', async () => {
    const { pipeline, guarded } = pipelineWith();
    const document = parse('subscription { ticks }');
    const resolved = {
      document,
      operation: getOperationAST(document),
      operationName: undefined,
      variables: undefined,
      viewer: null,
      clientAddress: '10.0.0.2',
    };
    expect(codes(await pipeline.admit(resolved, HTTP))).toEqual(['BAD_USER_INPUT']);
    expect(await pipeline.admit(resolved, WEBSOCKET)).toEqual([]);
    expect(codes(await pipeline.admit({ ...resolved, operation: null }, WEBSOCKET))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(guarded).toHaveLength(1);
  });
});

describe('admission control in the pipeline', () => {
  const gated = () =>
    createOperationPipeline({
      schema,
      limits: LIMITS,
      guard: async () => [],
      createContext: async (origin) => ({ viewer: null, clientAddress: origin.clientAddress }) as Context,
      gate: new AdmissionGate({
        mutation: { concurrency: 1, queueLength: 0, queueTimeoutMilliseconds: 20 },
        read: { concurrency: 1, queueLength: 0, queueTimeoutMilliseconds: 20 },
      }),
    });

  it('classes operations by their text: a full read lane refuses queries only; mutations pass to their transaction', async () => {
    const pipeline = gated();
    const first = await pipeline.enter('query Q { a }', 'Q');
    expect(first.refusal).toBeUndefined();
    const second = await pipeline.enter('mutation M { a } query Q { a }', 'Q');
    expect(second.refusal).toMatchObject({ code: ErrorCode.RateLimited, details: { retryAfterSeconds: 1 } });
    // The same document, its mutation picked: admitted later, by its booking transaction.
    const mutation = await pipeline.enter('mutation M { a } query Q { a }', 'M');
    expect(mutation.refusal).toBeUndefined();
    // Subscriptions are never gated, however full the lanes.
    expect((await pipeline.enter('subscription { ticks }', undefined)).refusal).toBeUndefined();
    first.release?.();
    expect((await pipeline.enter('{ a }', undefined)).refusal).toBeUndefined();
  });
});
