import { singleFlight } from './single-flight';

/** A call whose end the test decides. */
function deferred<Value>() {
  let resolve!: (value: Value) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<Value>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

describe('singleFlight', () => {
  it('runs concurrent calls with one key once, and calls with other keys apart', async () => {
    const calls: string[] = [];
    const pending = new Map<string, ReturnType<typeof deferred<string>>>();
    const read = singleFlight(
      (id: string) => {
        calls.push(id);
        const call = deferred<string>();
        pending.set(id, call);
        return call.promise;
      },
      (id) => id,
    );
    const first = Array.from({ length: 100 }, () => read('a'));
    const other = read('b');
    expect(calls).toEqual(['a', 'b']);
    pending.get('a')!.resolve('facts of a');
    pending.get('b')!.resolve('facts of b');
    expect(await Promise.all(first)).toEqual(Array(100).fill('facts of a'));
    expect(await other).toBe('facts of b');
  });

  it('keeps nothing once a call has settled, a failed one included', async () => {
    let calls = 0;
    let fail = true;
    const read = singleFlight(
      async (_id: string) => {
        calls += 1;
        if (fail) {
          throw new Error('database busy');
        }
        return calls;
      },
      (id) => id,
    );
    const failed = [read('a'), read('a')];
    await expect(Promise.all(failed)).rejects.toThrow('database busy');
    expect(calls).toBe(1);
    fail = false;
    expect(await read('a')).toBe(2);
    expect(await read('a')).toBe(3);
  });
});
