import { type ExecutionResult } from 'graphql';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { interruptibleResults } from './interruptible-results';

/** A source the test feeds by hand; `returned` tells whether the consumer let go of it. */
function manualSource() {
  const queue: ExecutionResult[] = [];
  let waiting: ((result: IteratorResult<ExecutionResult>) => void) | null = null;
  let failing: ((error: unknown) => void) | null = null;
  const state = { returned: false };
  const source: AsyncGenerator<ExecutionResult> = {
    next: () =>
      queue.length > 0
        ? Promise.resolve({ done: false, value: queue.shift() as ExecutionResult })
        : new Promise((resolve, reject) => {
            waiting = resolve;
            failing = reject;
          }),
    return: async () => {
      state.returned = true;
      waiting?.({ done: true, value: undefined });
      return { done: true, value: undefined };
    },
    throw: async (error: unknown) => {
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
    [Symbol.asyncDispose]: async () => undefined,
  };
  return {
    source,
    state,
    push: (result: ExecutionResult) => {
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ done: false, value: result });
      } else {
        queue.push(result);
      }
    },
    fail: (error: unknown) => failing?.(error),
  };
}

const expired: ExecutionResult = { errors: [] };

describe('interruptibleResults', () => {
  it('passes the results through and ends with the source', async () => {
    async function* source(): AsyncGenerator<ExecutionResult> {
      yield { data: { n: 1 } };
      yield { data: { n: 2 } };
    }
    const { results } = interruptibleResults(source());
    const seen: unknown[] = [];
    for await (const result of results) {
      seen.push(result.data);
    }
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('turns an error thrown by the source into a last result carrying it', async () => {
    const domainError = new DomainError(ErrorCode.NotFound, 'gone');
    async function* source(): AsyncGenerator<ExecutionResult> {
      yield { data: { n: 1 } };
      throw domainError;
    }
    const { results } = interruptibleResults(source());
    expect((await results.next()).value).toEqual({ data: { n: 1 } });
    const failed = await results.next();
    expect(failed.done).toBe(false);
    expect(failed.value?.errors?.[0].originalError).toBe(domainError);
    expect(await results.next()).toEqual({ done: true, value: undefined });
  });

  it('delivers the interruption while waiting for an event, then ends and returns the source', async () => {
    const { source, state, push } = manualSource();
    const { results, interrupt } = interruptibleResults(source);
    push({ data: { n: 1 } });
    expect((await results.next()).value).toEqual({ data: { n: 1 } });
    const waiting = results.next();
    interrupt(expired);
    interrupt({ data: { ignored: true } });
    expect(await waiting).toEqual({ done: false, value: expired });
    expect(await results.next()).toEqual({ done: true, value: undefined });
    expect(state.returned).toBe(true);
  });

  it('delivers an interruption made between pulls after the result in hand', async () => {
    const { source, state, push } = manualSource();
    const { results, interrupt } = interruptibleResults(source);
    push({ data: { n: 1 } });
    expect((await results.next()).value).toEqual({ data: { n: 1 } });
    interrupt(expired);
    expect(await results.next()).toEqual({ done: false, value: expired });
    expect(await results.next()).toEqual({ done: true, value: undefined });
    expect(state.returned).toBe(true);
  });

  it('returns at once while the source has nothing to say (the client left)', async () => {
    const { source, state } = manualSource();
    const { results } = interruptibleResults(source);
    const waiting = results.next();
    await results.return(undefined);
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(state.returned).toBe(true);
  });

  it('returns the source when returned before the first pull', async () => {
    const { source, state } = manualSource();
    await interruptibleResults(source).results.return(undefined);
    expect(state.returned).toBe(true);
  });

  it('ignores a source failing after the results ended', async () => {
    const { source, fail } = manualSource();
    const { results, interrupt } = interruptibleResults(source);
    const waiting = results.next();
    interrupt(expired);
    expect(await waiting).toEqual({ done: false, value: expired });
    fail(new Error('late'));
    expect(await results.next()).toEqual({ done: true, value: undefined });
  });
});
