import 'reflect-metadata';
import { type GraphQLSchema, getOperationAST, parse } from 'graphql';
import { buildGraphQLSchema } from '../../src/schema/build-schema';
import { checkOperationLimits, measureOperation } from '../../src/security/operation-limits';

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
    // One session, a list of 500 seats with scalars only.
    expect(measure('{ session(id: "x") { seats { id label status version } } }').cost).toBe(502);
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
      { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'aliases', max: 1, actual: 2 },
    ]);
  });
});
