import { requestTimedOut } from '../errors/domain-error';
import { type ProcessClock } from './clock';

// Monotonic: a wall-clock step (NTP) must not stretch or cut a request's time.
const MONOTONIC_CLOCK: ProcessClock = Object.freeze({ now: () => performance.now() });

/**
 * How much sooner than the request's deadline the database must give up on its work, so
 * that a transaction is cancelled and rolled back before the 503 is due, not after.
 */
const DATABASE_MARGIN_MILLISECONDS = 50;

/**
 * What a transaction needs of the time its work has: the budget for its statements, and the
 * commit coordinated with the 503 timer. {@link RequestDeadline} is one request's;
 * {@link earliestOf} the one of several requests sharing a transaction.
 */
export interface TransactionDeadline {
  /** True once (one of) the request(s) has been answered 503. */
  readonly expired: boolean;
  databaseBudgetMilliseconds(): number;
  /** @throws DomainError TIMEOUT when the time is up: the caller must roll back instead. */
  beginCommit(): void;
  endCommit(committed: boolean): void;
  /** Answers 503 the requests whose time is up. */
  expire(): void;
}

/**
 * The time of several requests whose work shares one transaction (group commit): the budget
 * of the one with the least time left, and a commit coordinated with the requests whose work
 * it commits (`committing`, asked when the commit is about to be sent: a request whose work
 * was rolled back to its savepoint neither holds the commit up nor counts as committed, and
 * keeps its own 503 timer). When the database gives up for lack of time, only the requests
 * whose time is up are answered 503; the others' work rolled back with the transaction and is
 * theirs to run again.
 */
export function earliestOf(
  deadlines: readonly RequestDeadline[],
  {
    committing = () => true,
    onCommit,
  }: {
    committing?: (deadline: RequestDeadline) => boolean;
    /** Told when the commit is about to be sent: every request allowed it (deadlines or none). */
    onCommit?: () => void;
  } = {},
): TransactionDeadline {
  let inCommit: readonly RequestDeadline[] = [];
  return {
    get expired() {
      return deadlines.some((deadline) => deadline.expired);
    },
    // Infinity without a deadline: no limit of its own.
    databaseBudgetMilliseconds: () =>
      Math.min(...deadlines.map((deadline) => deadline.databaseBudgetMilliseconds())),
    beginCommit: () => {
      const begun: RequestDeadline[] = [];
      try {
        for (const deadline of deadlines.filter(committing)) {
          deadline.beginCommit();
          begun.push(deadline);
        }
      } catch (error) {
        begun.forEach((deadline) => deadline.endCommit(false));
        throw error;
      }
      inCommit = begun;
      onCommit?.();
    },
    endCommit: (committed) => inCommit.forEach((deadline) => deadline.endCommit(committed)),
    expire: () =>
      deadlines
        .filter((deadline) => deadline.databaseBudgetMilliseconds() <= 0)
        .forEach((deadline) => deadline.expire()),
  };
}

/**
 * The time one HTTP request has left, shared by the timer that answers it 503 and by the
 * transactions doing its work, so that exactly one of two things happens: the work commits
 * and the real answer is sent, or the request is answered 503 and nothing has committed.
 *
 * - {@link expire} (the timer, or a transaction the database cancelled for lack of time)
 *   answers 503 at once, unless a commit is in flight (the 503 then waits for its outcome) or
 *   some work has already committed (then no 503 is ever sent: the real answer follows).
 * - {@link beginCommit} refuses once the time is up, so nothing commits after a 503.
 */
export class RequestDeadline implements TransactionDeadline {
  private readonly endsAt: number;
  private phase: 'running' | 'committed' | 'expired' = 'running';
  private commitsInFlight = 0;
  private expiryWaitingForCommit = false;

  /**
   * @param milliseconds how long the request has, from now
   * @param answerTimedOut sends the 503; called at most once, never after a commit
   * @param clock measures the time left (monotonic by default; a test moves a manual one)
   */
  constructor(
    milliseconds: number,
    private readonly answerTimedOut: () => void,
    private readonly clock: ProcessClock = MONOTONIC_CLOCK,
  ) {
    this.endsAt = clock.now() + milliseconds;
  }

  /** True once the request has been (or is being) answered 503. */
  get expired(): boolean {
    return this.phase === 'expired';
  }

  /** Time left before the 503 is due; negative once it is. */
  remainingMilliseconds(): number {
    return this.endsAt - this.clock.now();
  }

  /**
   * How long database work started now may take (statement and lock timeouts): the time
   * left less a margin. Zero or less means there is no time left for database work.
   */
  databaseBudgetMilliseconds(): number {
    return Math.floor(this.remainingMilliseconds() - DATABASE_MARGIN_MILLISECONDS);
  }

  /** The time is up: answers 503 now, after the commit in flight fails, or never if work committed. */
  expire(): void {
    if (this.phase !== 'running') {
      return;
    }
    if (this.commitsInFlight > 0) {
      this.expiryWaitingForCommit = true;
      return;
    }
    this.phase = 'expired';
    this.answerTimedOut();
  }

  /**
   * Announces a COMMIT about to be sent; until {@link endCommit} no 503 is answered.
   *
   * @throws DomainError TIMEOUT when the time is up: the caller must roll back instead.
   */
  beginCommit(): void {
    if (this.remainingMilliseconds() <= 0) {
      this.expire();
    }
    if (this.phase === 'expired' || this.remainingMilliseconds() <= 0) {
      throw requestTimedOut();
    }
    this.commitsInFlight += 1;
  }

  /** Reports how the commit announced by {@link beginCommit} ended. */
  endCommit(committed: boolean): void {
    this.commitsInFlight -= 1;
    if (committed) {
      this.phase = 'committed';
    }
    if (this.expiryWaitingForCommit && this.commitsInFlight === 0) {
      this.expiryWaitingForCommit = false;
      this.expire();
    }
  }
}
