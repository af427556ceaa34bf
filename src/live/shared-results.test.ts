import { type ExecutionResult, GraphQLError } from 'graphql';
import { type SharedResult, SharedResults, sharedResultOf } from './shared-results';

/** An execution the test counts, answering `result`. */
function counted(result: ExecutionResult) {
  const execution = {
    runs: 0,
    execute: async (): Promise<SharedResult> => {
      execution.runs += 1;
      return sharedResultOf(result);
    },
  };
  return execution;
}

describe('SharedResults', () => {
  it('executes a change once for everyone asking for it at once, and keeps it for the next ones', async () => {
    const results = new SharedResults();
    const execution = counted({ data: { mapVersion: 1 } });
    const first = await Promise.all(Array.from({ length: 10 }, () => results.get('a', 1, execution.execute)));
    const later = await results.get('a', 1, execution.execute);
    expect(execution.runs).toBe(1);
    expect(new Set([...first, later]).size).toBe(1);
    expect(later.json).toBe('{"data":{"mapVersion":1}}');
  });

  it('keeps each selection and version apart', async () => {
    const results = new SharedResults();
    const a1 = await results.get('a', 1, counted({ data: { a: 1 } }).execute);
    const a2 = await results.get('a', 2, counted({ data: { a: 2 } }).execute);
    const b1 = await results.get('b', 1, counted({ data: { b: 1 } }).execute);
    expect([a1.json, a2.json, b1.json]).toEqual(['{"data":{"a":1}}', '{"data":{"a":2}}', '{"data":{"b":1}}']);
  });

  it('keeps at most its capacity, the oldest going first', async () => {
    const results = new SharedResults(2);
    const oldest = counted({ data: { v: 1 } });
    await results.get('a', 1, oldest.execute);
    await results.get('a', 2, counted({ data: { v: 2 } }).execute);
    await results.get('b', 3, counted({ data: { v: 3 } }).execute);
    expect(results.size).toBe(2);
    // Gone: executed again.
    await results.get('a', 1, oldest.execute);
    expect(oldest.runs).toBe(2);
    expect(results.size).toBe(2);
  });

  it('does not keep a result with errors, nor a failed execution', async () => {
    const results = new SharedResults();
    const failing = counted({ errors: [new GraphQLError('boom')] });
    const shared = await Promise.all([
      results.get('a', 1, failing.execute),
      results.get('a', 1, failing.execute),
    ]);
    expect(failing.runs).toBe(1);
    expect(shared[0].json).toBeNull();
    expect(results.size).toBe(0);
    await expect(results.get('a', 2, () => Promise.reject(new Error('gone')))).rejects.toThrow('gone');
    expect(results.size).toBe(0);
  });
});
