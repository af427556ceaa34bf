import { callAt } from '../../src/infra/long-timer';

describe('callAt', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('waits however far away the moment is (past setTimeout’s 24.8-day limit)', () => {
    jest.useFakeTimers({ now: 0 });
    const day = 24 * 60 * 60 * 1_000;
    const called = jest.fn();
    callAt(new Date(40 * day), called, () => Date.now());
    jest.advanceTimersByTime(1);
    expect(called).not.toHaveBeenCalled();
    jest.advanceTimersByTime(30 * day);
    expect(called).not.toHaveBeenCalled();
    jest.advanceTimersByTime(10 * day);
    expect(called).toHaveBeenCalledTimes(1);
  });

  it('calls at once for a moment already past, and can be cancelled', () => {
    jest.useFakeTimers({ now: 1_000 });
    const past = jest.fn();
    callAt(new Date(500), past, () => Date.now());
    expect(past).toHaveBeenCalledTimes(1);
    const cancelled = jest.fn();
    const cancel = callAt(new Date(5_000), cancelled, () => Date.now());
    cancel();
    jest.advanceTimersByTime(10_000);
    expect(cancelled).not.toHaveBeenCalled();
  });

  it('refuses an invalid date instead of spinning on it', () => {
    expect(() => callAt(new Date(Number.NaN), () => undefined)).toThrow(RangeError);
  });
});
