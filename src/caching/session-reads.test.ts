import { getOperationAST, parse } from 'graphql';
import { ALL_SESSIONS, sessionReadKey, sessionReadOf } from './session-reads';

function operation(query: string) {
  return getOperationAST(parse(query))!;
}

describe('session reads', () => {
  it('names the variables that carry session ids, and lists as every session', () => {
    const read = sessionReadOf(
      operation('query ($id: ID!) { session(id: $id) { id } sessions(first: 2) { edges { cursor } } }'),
      { id: 'S1' },
    );
    expect(read).toEqual({ sessionIds: ['s1', ALL_SESSIONS], idVariables: new Set(['id']) });
  });

  it("depends on every session when it reads a session's auditorium (its schedule), also through fragments", () => {
    const direct = 'query { session(id: "S1") { auditorium { sessions { id } } } }';
    expect(sessionReadOf(operation(direct), {})!.sessionIds).toEqual(['s1', ALL_SESSIONS]);
    const viaFragment = parse(
      'query { session(id: "S1") { ...Room } } fragment Room on Session { ... on Session { auditorium { name } } }',
    );
    expect(sessionReadOf(getOperationAST(viaFragment)!, {}, viaFragment)!.sessionIds).toEqual([
      's1',
      ALL_SESSIONS,
    ]);
    const seatsOnly = parse(
      'query { session(id: "S1") { ...Map } } fragment Map on Session { seats { id } }',
    );
    expect(sessionReadOf(getOperationAST(seatsOnly)!, {}, seatsOnly)!.sessionIds).toEqual(['s1']);
  });

  it('keys by hash, operation name and declared variables, session ids in lower case', () => {
    const seatMap = operation('query Map($id: ID!, $first: Int) { session(id: $id) { id } }');
    const key = (variables: Record<string, unknown>) =>
      sessionReadKey('hash', 'Map', seatMap, sessionReadOf(seatMap, variables)!, variables);
    expect(key({ id: 'ABC' })).toBe(key({ id: 'abc' }));
    expect(key({ id: 'abc', undeclared: 1 })).toBe(key({ id: 'abc' }));
    expect(key({ id: 'abc', first: 1 })).not.toBe(key({ id: 'abc' }));
    expect(
      sessionReadKey('other', 'Map', seatMap, sessionReadOf(seatMap, { id: 'a' })!, { id: 'a' }),
    ).not.toBe(key({ id: 'a' }));
  });
});
