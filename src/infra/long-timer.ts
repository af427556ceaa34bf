// setTimeout fires at once for delays above 2^31 - 1 ms (~24.8 days).
const MAX_TIMER_MILLISECONDS = 2 ** 31 - 1;

/**
 * Calls `callback` at `when` however far away it is (chaining timers past setTimeout's
 * ~24.8-day limit). Returns the cancel function. Timers do not keep the process alive.
 */
export function callAt(when: Date, callback: () => void, now: () => number = Date.now): () => void {
  let timer: NodeJS.Timeout | undefined;
  if (!Number.isFinite(when.getTime())) {
    throw new RangeError('callAt needs a valid date');
  }
  const arm = () => {
    const remaining = when.getTime() - now();
    if (remaining <= 0) {
      callback();
      return;
    }
    timer = setTimeout(arm, Math.min(remaining, MAX_TIMER_MILLISECONDS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
