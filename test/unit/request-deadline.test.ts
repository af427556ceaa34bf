import { ManualClock } from '../../src/infra/clock';
import { DomainError, ErrorCode } from '../../src/errors/domain-error';
import { earliestOf, RequestDeadline } from '../../src/infra/request-deadline';

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

describe('earliestOf (the deadline of a group commit)', () => {
  function twoRequests() {
    const clock = new ManualClock(new Date());
    const answered: string[] = [];
    const soon = new RequestDeadline(1_000, () => answered.push('soon'), clock);
    const later = new RequestDeadline(10_000, () => answered.push('later'), clock);
    return { clock, answered, soon, later, both: earliestOf([soon, later]) };
  }

  it('gives the statements the budget of the request with the least time left', () => {
    const { both, soon } = twoRequests();
    expect(both.databaseBudgetMilliseconds()).toBe(soon.databaseBudgetMilliseconds());
  });

  it('commits only if every request allows it, and leaves none counting a commit when one refuses', () => {
    const { clock, soon, later, answered } = twoRequests();
    // The later one begins its commit first, then the other refuses.
    const both = earliestOf([later, soon]);
    clock.advance(1_000);
    expect(() => both.beginCommit()).toThrow(expect.objectContaining({ code: ErrorCode.Timeout }));
    // The later request was not left waiting for a commit that never came: it can still time out.
    clock.advance(9_000);
    later.expire();
    expect(answered).toEqual(['soon', 'later']);
    expect(soon.expired && later.expired).toBe(true);
  });

  it('answers 503 only the requests out of time when the database gives up', () => {
    const { clock, both, answered, later } = twoRequests();
    clock.advance(1_000);
    expect(both.expired).toBe(false);
    both.expire();
    expect(answered).toEqual(['soon']);
    expect(both.expired).toBe(true);
    expect(later.expired).toBe(false);
  });

  it('leaves out of the commit a request whose work rolled back: it keeps its own 503 timer', () => {
    const { soon, later, answered } = twoRequests();
    let committing = 0;
    const both = earliestOf([soon, later], {
      committing: (deadline) => deadline === later,
      onCommit: () => {
        committing += 1;
      },
    });
    both.beginCommit();
    both.endCommit(true);
    expect(committing).toBe(1);
    soon.expire();
    later.expire();
    expect(answered).toEqual(['soon']);
  });

  it('ends the commit for every request: none answers 503 after it committed', () => {
    const { both, soon, later, answered } = twoRequests();
    both.beginCommit();
    both.endCommit(true);
    soon.expire();
    later.expire();
    expect(answered).toEqual([]);
  });
});
