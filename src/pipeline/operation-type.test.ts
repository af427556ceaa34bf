import { getOperationAST, parse } from 'graphql';
import { operationTypeOf } from './operation-type';

describe('operationTypeOf', () => {
  const cases: [string, string | undefined][] = [
    ['{ a }', undefined],
    ['query { a }', undefined],
    [
      'mutation M($input: In = { nested: { deep: 1 } }) @d(x: [{ y: 1 }]) { reserve(input: $input) { id } }',
      undefined,
    ],
    ['subscription { seatStatusChanged(sessionId: "x") { id } }', undefined],
    ['# mutation in a comment\n query Q { a(text: "mutation { }") }', undefined],
    ['fragment F on Mutation { a } mutation M { ...F }', undefined],
    ['fragment query on Query { a } query mutation { ...query }', undefined],
    ['query A { a } mutation B { b } subscription C { c }', 'B'],
    ['query A { a } mutation B { b } subscription C { c }', 'C'],
    ['query A { a } mutation B { b }', 'A'],
    ['query A { a { b { c } } } mutation B { b(x: """block { } string""") }', 'B'],
  ];

  it.each(cases)('picks what getOperationAST picks in %j (%s)', (query, operationName) => {
    const expected = getOperationAST(parse(query), operationName)?.operation;
    expect(expected).toBeDefined();
    expect(operationTypeOf(query, operationName, 1_000)).toBe(expected);
  });

  it('answers undefined where graphql-js finds no operation, or the text is not a document', () => {
    expect(operationTypeOf('query A { a } mutation B { b }', undefined, 1_000)).toBeUndefined();
    expect(operationTypeOf('query A { a }', 'Nope', 1_000)).toBeUndefined();
    expect(operationTypeOf('mutation { a } "', undefined, 1_000)).toBeUndefined();
    expect(operationTypeOf(42, undefined, 1_000)).toBeUndefined();
    expect(operationTypeOf(undefined, undefined, 1_000)).toBeUndefined();
  });

  it('gives up past the token limit', () => {
    expect(operationTypeOf('mutation { a b c }', undefined, 6)).toBe('mutation');
    expect(operationTypeOf('mutation { a b c d }', undefined, 6)).toBeUndefined();
  });
});
