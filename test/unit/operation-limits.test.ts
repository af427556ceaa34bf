import 'reflect-metadata';
import { type GraphQLSchema, getOperationAST, parse } from 'graphql';
import { MAX_SEATS_PER_SESSION } from '../../src/booking/room-size';
import { buildGraphQLSchema } from '../../src/schema/build-schema';
import { doublingChain, nodeCount } from '../support/graphql-documents';
import { type DomainError } from '../../src/errors/domain-error';
import { requestRefusal } from '../../src/errors/graphql-error-formatter';
import { checkDocumentSize, checkDocumentSourceSize } from '../../src/security/document-size';
import { checkOperationLimits } from '../../src/security/operation-limits';
import { measureOperation, measureOperationWithSteps } from '../../src/security/operation-measure';
import { rootFieldCount } from '../../src/security/root-fields';

/** The default limits (GRAPHQL_MAX_DEPTH, GRAPHQL_MAX_ALIASES, GRAPHQL_MAX_COST). */
const DEFAULT_LIMITS = { maxDepth: 10, maxAliases: 15, maxCost: 25_000 };

/**
 * Steps that certainly take less than 100 ms: a step (one selection visited) is well under a
 * microsecond. Work is asserted in steps, never in wall-clock time.
 */
const STEPS_WITHIN_100_MILLISECONDS = 100_000;

describe('operation limits', () => {
  let schema: GraphQLSchema;

  beforeAll(async () => {
    schema = await buildGraphQLSchema();
  });

  function measure(source: string, variables: Record<string, unknown> = {}) {
    const document = parse(source);
    return measureOperation(schema, document, getOperationAST(document)!, variables);
  }

  it('measures depth through fragments and inline fragments', () => {
    expect(measure('{ sessions { edges { node { id } } } }').depth).toBe(4);
    expect(
      measure(
        `query { session(id: "x") { ...map } } fragment map on Session { seats { ... on Seat { session { id } } } }`,
      ).depth,
    ).toBe(4);
  });

  it('counts aliases, including those in fragments wherever they are spread', () => {
    expect(measure('{ a: session(id: "x") { id } b: session(id: "y") { i: id } }').aliases).toBe(3);
    expect(
      measure(
        '{ session(id: "x") { ...f } seats(sessionId: "x") { ...g } } fragment f on Session { x: id } fragment g on Seat { y: id }',
      ).aliases,
    ).toBe(2);
  });

  it('costs lists by their size: first, the connection page size, or an estimate', () => {
    // One session, a list of seats (as many as the largest room) with scalars only.
    expect(measure('{ session(id: "x") { seats { id label status version } } }').cost).toBe(
      2 + MAX_SEATS_PER_SESSION,
    );
    // The connection, and per edge the edge and its node.
    expect(measure('{ sessions(first: 10) { edges { node { id } } } }').cost).toBe(1 + 1 + 10 * 2);
    expect(measure('query ($n: Int) { sessions(first: $n) { edges { node { id } } } }', { n: 50 }).cost).toBe(
      102,
    );
    const heavy = measure('{ sessions(first: 100) { edges { node { seats { session { id } } } } } }');
    expect(heavy.cost).toBeGreaterThan(25_000);
  });

  it('ignores introspection, which has its own switch', () => {
    expect(measure('{ __schema { types { fields { type { ofType { ofType { name } } } } } } }')).toEqual({
      depth: 0,
      aliases: 0,
      cost: 0,
    });
  });

  it('refuses what exceeds a limit, naming the limit', () => {
    const document = parse(
      '{ a: sessions { pageInfo { hasNextPage } } b: sessions { pageInfo { hasNextPage } } }',
    );
    const errors = checkOperationLimits(
      schema,
      document,
      getOperationAST(document)!,
      {},
      { maxDepth: 10, maxAliases: 1, maxCost: 1_000 },
    );
    expect(errors.map((error) => error.extensions)).toEqual([
      {
        code: 'GRAPHQL_VALIDATION_FAILED',
        limit: 'aliases',
        max: 1,
        actual: 2,
        http: expect.objectContaining({ status: 400 }),
      },
    ]);
  });

  it('refuses with HTTP status 400, keeping the wire shape', () => {
    const document = parse('{ a: __typename b: __typename }');
    const [error] = checkOperationLimits(
      schema,
      document,
      getOperationAST(document)!,
      {},
      {
        ...DEFAULT_LIMITS,
        maxAliases: 1,
      },
    );
    expect(error.extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      limit: 'aliases',
      max: 1,
      actual: 2,
      http: { status: 400 },
    });
  });

  it('costs seat maps at the largest room: 49 sessions of seats are refused, one 10,000-seat map is not', () => {
    const check = (source: string) => {
      const document = parse(source);
      return checkOperationLimits(schema, document, getOperationAST(document)!, {}, DEFAULT_LIMITS);
    };
    expect(MAX_SEATS_PER_SESSION).toBe(10_000);
    expect(check('{ sessions(first: 49) { edges { node { seats { id } } } } }')).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ limit: 'cost' }) }),
    ]);
    expect(check('query ($id: ID!) { session(id: $id) { seats { id label status } } }')).toEqual([]);
    expect(check('query ($id: ID!) { seats(sessionId: $id) { id label status version } }')).toEqual([]);
  });

  it('judges a 30-level chain of doubled fragment spreads in a few steps, counting what it multiplies', () => {
    const judge = (source: string) => {
      const document = parse(source);
      const counted = measureOperationWithSteps(schema, document, getOperationAST(document)!);
      // One step per selection: 2 spreads in each of 29 fragments, the root spread, the body.
      expect(counted.steps).toBeLessThanOrEqual(nodeCount(document));
      expect(counted.steps).toBeLessThan(100);
      return {
        measure: counted.measure,
        errors: checkOperationLimits(schema, document, getOperationAST(document)!, {}, DEFAULT_LIMITS),
      };
    };

    const typename = judge(doublingChain(30, '__typename'));
    expect(typename.measure).toEqual({ depth: 1, aliases: 0, cost: 0 });
    expect(typename.errors).toEqual([]);

    const aliased = judge(doublingChain(30, 'a: __typename'));
    expect(aliased.measure).toEqual({ depth: 1, aliases: 2 ** 29, cost: 0 });
    expect(aliased.errors.map((error) => error.extensions)).toEqual([
      expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'aliases', actual: 2 ** 29 }),
    ]);

    // Each of the 2^29 spreads of the last fragment costs a session (1) and its object (1).
    const costly = judge(doublingChain(30, 'session(id: "x") { id }'));
    expect(costly.measure).toEqual({ depth: 2, aliases: 0, cost: 2 ** 30 });
    expect(costly.errors.map((error) => error.extensions?.limit)).toEqual(['cost']);
  });

  it('judges a 64 KB document of repeated spreads in a bounded number of steps, saturating its measures', () => {
    const levels = 20;
    const build = (spreadsPerFragment: number) => {
      const fragments = Array.from({ length: levels - 1 }, (_, index) => {
        const spreads = Array.from({ length: spreadsPerFragment }, () => `...F${index + 2}`);
        return `fragment F${index + 1} on Query { ${spreads.join(' ')} }`;
      });
      const last = `fragment F${levels} on Query { a: session(id: "x") { seats { id } } }`;
      return `{ ...F1 } ${fragments.join('\n')} ${last}`;
    };
    // Start near the answer (a spread takes about 7 characters), then fill up to 64 KB.
    let spreadsPerFragment = Math.floor((60 * 1_024) / (levels - 1) / 7);
    while (build(spreadsPerFragment + 1).length <= 64 * 1_024) {
      spreadsPerFragment += 1;
    }
    const source = build(spreadsPerFragment);
    expect(source.length).toBeGreaterThan(63 * 1_024);
    const document = parse(source);
    const counted = measureOperationWithSteps(schema, document, getOperationAST(document)!);
    expect(counted.steps).toBeLessThanOrEqual(nodeCount(document));
    expect(counted.steps).toBeLessThan(STEPS_WITHIN_100_MILLISECONDS);
    expect(counted.measure).toEqual({
      depth: 3,
      aliases: Number.MAX_SAFE_INTEGER,
      cost: Number.MAX_SAFE_INTEGER,
    });
    const errors = checkOperationLimits(schema, document, getOperationAST(document)!, {}, DEFAULT_LIMITS);
    expect(errors.map((error) => error.extensions?.limit)).toEqual(['aliases', 'cost']);
  });

  it('stops at a fragment spread inside itself instead of looping', () => {
    // Validation refuses such documents; measuring one must still end.
    expect(
      measure(
        '{ ...A } fragment A on Query { a: __typename ...B } fragment B on Query { b: __typename ...A ...B }',
      ),
    ).toEqual({ depth: 1, aliases: 2, cost: 0 });
  });

  it('costs a negative page as an empty one, never as a refund to the rest of the connection', () => {
    const connection = (first: string) =>
      measure(`{ sessions(first: ${first}) { edges { node { id } } pageInfo { hasNextPage } } }`).cost;
    // sessions 1 + (edges 1 + 0 × node, pageInfo 2).
    expect(connection('-100000')).toBe(4);
    expect(connection('0')).toBe(4);
    expect(measure('query ($n: Int) { sessions(first: $n) { edges { node { id } } } }', { n: -5 }).cost).toBe(
      2,
    );
  });
});

describe('rootFieldCount', () => {
  const count = (source: string) => {
    const document = parse(source);
    return rootFieldCount(document, getOperationAST(document)!);
  };

  it('counts each root field that runs: aliases, __typename, fragments spread at the root', () => {
    const reserves = Array.from({ length: 16 }, (_, index) => `r${index}: reserve(input: $input) { id }`);
    expect(count(`mutation ($input: ReserveInput!) { ${reserves.join(' ')} }`)).toBe(16);
    expect(count('{ __typename }')).toBe(1);
    expect(count('{ __typename a: __typename session(id: "x") { id } }')).toBe(3);
    expect(
      count(
        '{ ...F ... on Query { b: __typename } ... { c: __typename } } fragment F on Query { a: __typename }',
      ),
    ).toBe(3);
  });

  it('counts a field once however often it is selected, as GraphQL runs it once', () => {
    expect(count('{ session(id: "x") { id } session(id: "x") { movie } }')).toBe(1);
    expect(count('{ ...F ...F } fragment F on Query { a: __typename b: __typename }')).toBe(2);
    expect(count(doublingChain(30, 'a: __typename'))).toBe(1);
  });
});

describe('document size before validation', () => {
  const limits = { maxSelections: 300, maxTokens: 100_000 };
  const repeated = (count: number) =>
    `{ ${Array.from({ length: count }, () => 'sessions { edges { cursor } }').join(' ')} }`;
  // What the transports answer with (the refusal's wire shape).
  const answered = (refusal: DomainError | undefined) => refusal && requestRefusal(refusal);

  it('counts field selections, spreads and inline fragments in every definition', () => {
    expect(checkDocumentSize(parse(repeated(100)), 300)).toBeUndefined();
    expect(answered(checkDocumentSize(parse(repeated(101)), 300))?.extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      limit: 'selections',
      max: 300,
      http: { status: 400 },
    });
    const spreads = `{ ...F ... on Query { __typename } } fragment F on Query { ${'__typename '.repeat(297)} }`;
    expect(checkDocumentSize(parse(spreads), 300)).toBeUndefined();
    expect(checkDocumentSize(parse(spreads.replace('{ ...F', '{ ...F ...F')), 300)).toBeDefined();
  });

  it('judges the text the same way, parsing only texts with many names', () => {
    expect(checkDocumentSourceSize(repeated(100), limits)).toBeUndefined();
    expect(answered(checkDocumentSourceSize(repeated(101), limits))?.extensions).toMatchObject({
      limit: 'selections',
    });
    // Many names, few selections (arguments, a long string): parsed, then allowed.
    const names = Array.from({ length: 400 }, (_, index) => `word${index}`).join(' ');
    expect(checkDocumentSourceSize(`{ __typename } # ${names}`, limits)).toBeUndefined();
    // Not a document: left to the transport's parser and its GRAPHQL_PARSE_FAILED.
    expect(checkDocumentSourceSize(`{ ${names}`, limits)).toBeUndefined();
  });
});
