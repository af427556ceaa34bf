/**
 * Wraps `work` so that calls made while one with the same key is still running share its
 * promise instead of starting their own: a stampede on one key costs one call. Nothing is kept
 * once a call settles (a rejection included): the next call runs `work` again, so this is no
 * cache, only a join of concurrent calls.
 *
 * @param keyOf names what a call asks for; calls with equal keys must want the same answer.
 */
export function singleFlight<Args extends unknown[], Result>(
  work: (...args: Args) => Promise<Result>,
  keyOf: (...args: Args) => string,
): (...args: Args) => Promise<Result> {
  const running = new Map<string, Promise<Result>>();
  return (...args) => {
    const key = keyOf(...args);
    const joined = running.get(key);
    if (joined) {
      return joined;
    }
    const call = work(...args).finally(() => running.delete(key));
    running.set(key, call);
    return call;
  };
}
