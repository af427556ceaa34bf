import { DeadlockException } from '@mikro-orm/core';
import { type EntityManager } from '@mikro-orm/postgresql';
import { DomainError, ErrorCode, overloaded, requestTimedOut } from '../errors/domain-error';
import { type RequestDeadline, type TransactionDeadline } from '../infra/request-deadline';
import { LIMIT_TIMEOUTS_SQL } from '../infra/sql';
import { uuidv7 } from '../infra/uuid';
import { captureTraceContext, inSpan } from '../infra/tracing';
import { repositoriesOf } from '../repositories';
import { type OutboxRow } from '../repositories/outbox-writer';
import {
  type BookingEvent,
  type BookingEventMap,
  type BookingTopic,
  type SeatChangeDraft,
} from './booking-events';

/** Told about the events of each transaction once it has committed, never before. */
export type CommittedEventsListener = (events: readonly BookingEvent[]) => void;

/**
 * Records the events of one transaction: each becomes an outbox row in that same
 * transaction, so an event exists if and only if its change committed. Seat changes are
 * numbered with their session's next map version at the end of the transaction
 * ({@link EventRecorder.writeRecorded}), which also stores them in the change log.
 */
export class EventRecorder {
  private readonly recorded: BookingEvent[] = [];
  private readonly unwritten: OutboxRow[] = [];
  private readonly seatChanges: SeatChangeDraft[] = [];

  constructor(private readonly em: EntityManager) {}

  record<Topic extends Exclude<BookingTopic, 'seat.status-changed'>>(
    topic: Topic,
    payload: BookingEventMap[Topic],
  ): void {
    this.recorded.push({ topic, payload } as BookingEvent);
    // The id now: the relay publishes in id order, so rows keep the order events were recorded in.
    this.unwritten.push({ id: uuidv7(), topic, payload, traceContext: captureTraceContext() });
  }

  /** A change of one session's seats, numbered when the transaction ends. */
  recordSeatChange(change: SeatChangeDraft): void {
    this.seatChanges.push(change);
  }

  /**
   * Writes what the transaction recorded: the outbox rows of its events, and each seat change
   * numbered with its session's next map version, logged, with its outbox row. The last thing
   * a transaction does before commit: numbering locks the sessions' rows (in the order of
   * their ids, so that transactions touching several sessions cannot deadlock), and commits of
   * one session's seat changes wait for each other only from here. One statement per session
   * changed (the other events ride with the first), or one for the events alone.
   */
  async writeRecorded(): Promise<void> {
    const { outbox, seatChanges: log } = repositoriesOf(this.em);
    const ordered = [...this.seatChanges].sort((left, right) =>
      left.sessionId < right.sessionId ? -1 : left.sessionId > right.sessionId ? 1 : 0,
    );
    this.seatChanges.length = 0;
    const unwritten = this.unwritten.splice(0);
    if (ordered.length === 0) {
      await outbox.insert(unwritten);
      return;
    }
    for (const [index, change] of ordered.entries()) {
      const mapVersion = await log.append(
        { sessionId: change.sessionId, payload: change, changedAt: new Date(change.changedAt) },
        index === 0 ? unwritten : [],
      );
      this.recorded.push({ topic: 'seat.status-changed', payload: { ...change, mapVersion } });
    }
  }

  get events(): readonly BookingEvent[] {
    return this.recorded;
  }
}

/**
 * Runs `work` in one transaction that commits before `deadline` or not at all: its statements
 * and lock waits are cancelled by PostgreSQL when the request's time runs out, and the COMMIT
 * is coordinated with the 503 timer (see {@link RequestDeadline}). A failure once the time is
 * up is reported as the timeout (and answers the request 503 unless work already committed).
 * Without a deadline (workers, websockets) it is a plain transaction.
 *
 * @param statementTimeoutMilliseconds the statement timeout every connection starts with
 *   (0: unbounded), as the ORM configuration sets it (`startingStatementTimeout`).
 * @throws DomainError TIMEOUT when the time ran out; whatever `work` throws otherwise.
 */
export async function transactionWithin<Result>(
  em: EntityManager,
  deadline: TransactionDeadline | undefined,
  work: (tx: EntityManager) => Promise<Result>,
  statementTimeoutMilliseconds: number,
): Promise<Result> {
  if (!deadline) {
    return em.transactional(work);
  }
  let committing = false;
  try {
    const result = await em.transactional(async (tx) => {
      const budget = deadline.databaseBudgetMilliseconds();
      if (deadline.expired || budget <= 0) {
        // The wait for a pooled connection (or earlier work) used up the time.
        throw requestTimedOut();
      }
      const statementTimeout = statementTimeoutMilliseconds;
      if (Number.isFinite(budget) && (statementTimeout === 0 || budget < statementTimeout)) {
        // Otherwise the connection's own timeouts already end every wait within the budget,
        // and the hot path is spared a round trip.
        await tx.execute(LIMIT_TIMEOUTS_SQL, [budget]);
      }
      const outcome = await work(tx);
      // Flushed here, not by transactional(): a flush that fails must not count as a commit.
      await tx.flush();
      deadline.beginCommit();
      committing = true;
      return outcome;
    });
    deadline.endCommit(true);
    return result;
  } catch (error) {
    if (committing) {
      deadline.endCommit(false);
    }
    if (deadline.expired || deadline.databaseBudgetMilliseconds() <= 0) {
      // PostgreSQL cancelled the work for lack of time (or it was refused a commit): it rolled
      // back, so the request may now be answered 503.
      deadline.expire();
      throw isTimeout(error) ? error : requestTimedOut();
    }
    throw error;
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof DomainError && error.code === ErrorCode.Timeout;
}

/**
 * Thrown by the work of {@link BookingTransactions.run} to roll the whole transaction back and
 * still answer `outcome` (of the work's result type): the way a use case ends a transaction
 * that must leave nothing behind, yet is an answer rather than a failure (a stale hold found, a
 * concurrent use of the same idempotency key).
 */
export class RollbackWith<Outcome> extends Error {
  constructor(readonly outcome: Outcome) {
    super('Transaction rolled back with an outcome.');
    this.name = 'RollbackWith';
  }
}

/**
 * Admission control of the transactions requests run (DESIGN §7, overload): admits one now or
 * after a short wait (call `release` once it has ended), or refuses it. Implemented by the
 * process's admission gate; absent, every transaction runs.
 */
export type TransactionAdmission = () => TransactionSlot | Promise<TransactionSlot>;

/** A verdict of {@link TransactionAdmission}. */
export type TransactionSlot =
  | { readonly admitted: true; release(): void }
  | { readonly admitted: false; readonly retryAfterSeconds: number };

// Lock order is fixed (reservation rows, then seats in id order), so deadlocks need unusual
// interleavings; when PostgreSQL still breaks one, the victim simply runs again.
const MAX_ATTEMPTS = 3;

/** Runs booking transactions: outbox events, deadlock retries, after-commit notification. */
export class BookingTransactions {
  private withoutAdmission: BookingTransactions | undefined;

  /**
   * @param onCommitted told the events of each transaction once it has committed.
   * @param statementTimeoutMilliseconds see {@link transactionWithin}.
   * @param admit admission control, for the transactions of requests (the workers' instance
   *   has none: expiring holds is never refused).
   */
  constructor(
    private readonly onCommitted: CommittedEventsListener,
    private readonly statementTimeoutMilliseconds: number,
    private readonly admit?: TransactionAdmission,
  ) {}

  /** Runs `work` in one plain transaction within `deadline` (no events, no retries). */
  async within<Result>(
    em: EntityManager,
    deadline: RequestDeadline | undefined,
    work: (tx: EntityManager) => Promise<Result>,
  ): Promise<Result> {
    return transactionWithin(em, deadline, work, this.statementTimeoutMilliseconds);
  }

  /**
   * Runs `work` in one transaction (flushing the unit of work before commit), retrying it
   * from scratch if PostgreSQL picked it as a deadlock victim. A throw rolls everything back,
   * outbox rows included. With a `deadline` (an HTTP request), the transaction commits before
   * it or not at all (see {@link transactionWithin}). Work that throws {@link RollbackWith}
   * rolls back and answers its outcome.
   *
   * With admission control, the transaction first waits for admission: under overload
   * it is refused before it touches PostgreSQL. Admission sits here, after the Redis seat locks
   * and not in front of the whole request, so that the losers of a race for the same seats are
   * still told `SEAT_UNAVAILABLE` by the lock (DESIGN §6) while only work bound for the
   * database is rationed; the caller's error path releases the locks of a refused hold.
   *
   * @throws DomainError RATE_LIMITED (with `retryAfterSeconds`) when refused admission;
   *   TIMEOUT when the deadline ran out; whatever `work` throws otherwise.
   */
  async run<Result>(
    em: EntityManager,
    deadline: TransactionDeadline | undefined,
    work: (tx: EntityManager, events: EventRecorder) => Promise<Result>,
  ): Promise<Result> {
    return this.admitted((transactions) =>
      inSpan('booking transaction', () => transactions.runAttempts(em, deadline, work), {
        requireParent: true,
      }),
    );
  }

  /**
   * Runs `work` within one admission slot (waiting for it, or refused: see {@link run}), and
   * hands it transactions that are not admitted again: for work that runs several
   * transactions as one admitted unit, such as a hold joining a shared transaction (group
   * commit) and, when that did not hold it, its own.
   *
   * @throws DomainError RATE_LIMITED (with `retryAfterSeconds`) when refused admission.
   */
  async admitted<Result>(work: (transactions: BookingTransactions) => Promise<Result>): Promise<Result> {
    if (this.admit === undefined) {
      return work(this);
    }
    const slot = await this.admit();
    if (!slot.admitted) {
      throw overloaded(slot.retryAfterSeconds);
    }
    try {
      return await work(this.unadmitted);
    } finally {
      slot.release();
    }
  }

  /** These transactions without admission control (the workers', and work already admitted). */
  get unadmitted(): BookingTransactions {
    this.withoutAdmission ??=
      this.admit === undefined
        ? this
        : new BookingTransactions(this.onCommitted, this.statementTimeoutMilliseconds);
    return this.withoutAdmission;
  }

  private async runAttempts<Result>(
    em: EntityManager,
    deadline: TransactionDeadline | undefined,
    work: (tx: EntityManager, events: EventRecorder) => Promise<Result>,
  ): Promise<Result> {
    for (let attempt = 1; ; attempt += 1) {
      let recorder: EventRecorder | undefined;
      let result: Result;
      try {
        result = await transactionWithin(
          em,
          deadline,
          async (tx) => {
            recorder = new EventRecorder(tx);
            const result = await work(tx, recorder);
            // The other writes first: the sessions' rows are locked only for the commit.
            await tx.flush();
            await recorder.writeRecorded();
            return result;
          },
          this.statementTimeoutMilliseconds,
        );
      } catch (error) {
        if (error instanceof RollbackWith) {
          return error.outcome as Result;
        }
        if (error instanceof DeadlockException && attempt < MAX_ATTEMPTS) {
          continue;
        }
        throw error;
      }
      // Outside the try: whatever a listener does, the transaction has committed.
      if (recorder && recorder.events.length > 0) {
        this.onCommitted(recorder.events);
      }
      return result;
    }
  }
}
