import { ManualClock } from '../../src/infra/clock';
import { DomainError, ErrorCode } from '../../src/errors/domain-error';
import { RequestDeadline } from '../../src/infra/request-deadline';

describe('RequestDeadline', () => {
  let answered: number;
  const answerTimedOut = () => {
    answered += 1;
  };

  beforeEach(() => {
    answered = 0;
  });

  it('answers 503 once when the time is up, and refuses any commit after it', () => {
    const deadline = new RequestDeadline(10_000, answerTimedOut);
    deadline.expire();
    deadline.expire();
    expect(answered).toBe(1);
    expect(deadline.expired).toBe(true);
    expect(() => deadline.beginCommit()).toThrow(
      expect.objectContaining({
        code: ErrorCode.Timeout,
        details: expect.objectContaining({ reason: 'TIMEOUT' }),
      }),
    );
  });

  it('lets a commit in flight finish first, and never answers 503 once it committed', () => {
    const deadline = new RequestDeadline(10_000, answerTimedOut);
    deadline.beginCommit();
    deadline.expire();
    expect(answered).toBe(0);
    deadline.endCommit(true);
    expect(answered).toBe(0);
    expect(deadline.expired).toBe(false);
    deadline.expire();
    expect(answered).toBe(0);
  });

  it('answers 503 as soon as a commit the timer waited for fails', () => {
    const deadline = new RequestDeadline(10_000, answerTimedOut);
    deadline.beginCommit();
    deadline.expire();
    deadline.endCommit(false);
    expect(answered).toBe(1);
    expect(deadline.expired).toBe(true);
  });

  it('refuses to start a commit once the time has run out, even before the timer fired', () => {
    const deadline = new RequestDeadline(-1, answerTimedOut);
    expect(() => deadline.beginCommit()).toThrow(DomainError);
    expect(answered).toBe(1);
  });

  it('leaves the database a margin before the 503 is due', () => {
    const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    const deadline = new RequestDeadline(1_000, answerTimedOut, clock);
    expect(deadline.remainingMilliseconds()).toBe(1_000);
    expect(deadline.databaseBudgetMilliseconds()).toBe(950);
    clock.advance(900);
    expect(deadline.databaseBudgetMilliseconds()).toBe(50);
    clock.advance(60);
    expect(deadline.databaseBudgetMilliseconds()).toBeLessThanOrEqual(0);
    expect(new RequestDeadline(20, answerTimedOut, clock).databaseBudgetMilliseconds()).toBeLessThanOrEqual(
      0,
    );
  });
});
