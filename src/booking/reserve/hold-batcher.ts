import { type EntityManager } from '@mikro-orm/postgresql';
import { Reservation } from '../../entities/reservation.entity';
import { earliestOf, type RequestDeadline } from '../../infra/request-deadline';
import { type BookingDependencies } from '../booking-dependencies';
import { activeContext, type TraceParent, withinContext } from '../../infra/tracing';
import {
  attemptHold,
  type GroupedHold,
  holdEachInTransaction,
  type HoldAttempt,
  type HoldRequest,
} from './hold-seats';

/** How holds are grouped (`HOLD_BATCH_MAX`, `HOLD_BATCH_CONCURRENCY`). */
export interface HoldGroupLimits {
  /** Most holds in one transaction. */
  readonly maxSize: number;
  /** Most hold transactions at once. */
  readonly concurrency: number;
}

// Least time a request must have left to join a group of several (a group lasts milliseconds;
// a request with less than this left has been queueing for most of its time: the process is
// overloaded, and one timeout would send the whole group to run again).
const GROUP_MIN_BUDGET_MILLISECONDS = 1_000;

interface QueuedHold {
  readonly em: EntityManager;
  readonly request: HoldRequest;
  /** The request's trace context: its hold runs in it, whoever formed the group. */
  readonly context: TraceParent | undefined;
  readonly resolve: (attempt: HoldAttempt | null) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit of holds: concurrent reserves share one transaction (one `BEGIN`, one events
 * statement per session, one `COMMIT`) instead of each running its own, which cuts the round
 * trips to PostgreSQL per hold under load, where the server's one thread is the limit.
 *
 * A hold waits only while `concurrency` hold transactions are already running; the holds that
 * queued meanwhile form the next group (at most `maxSize`). A group of one is the hold's own
 * transaction, as without grouping ({@link attemptHold}). In a larger group each hold is all
 * or none on its own ({@link holdEachInTransaction}); one the group did not make, for whatever
 * reason (the whole group's failure included), is answered `null` and its caller runs it
 * alone: grouping changes how holds are committed, never what a request is answered.
 */
export class HoldBatcher {
  private readonly queue: QueuedHold[] = [];
  private running = 0;
  // Of the running groups.
  private readonly usersInFlight = new Set<string>();
  private readonly seatsInFlight = new Set<string>();

  /**
   * @param deps with transactions that do not admit again: each hold was admitted (as a whole,
   *   its own transactions included) before it queued.
   * @param observe told the size of each group, for metrics.
   */
  constructor(
    private readonly deps: BookingDependencies,
    private readonly limits: HoldGroupLimits,
    private readonly observe?: (size: number) => void,
  ) {}

  /**
   * Holds `request` in the next group. Alone, answers as {@link attemptHold} (its errors
   * included); in a larger group, `held`, or null when the group did not hold it.
   */
  hold(em: EntityManager, request: HoldRequest): Promise<HoldAttempt | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ em, request, context: activeContext(), resolve, reject });
      this.startGroups();
    });
  }

  /** Holds queued for the next group. */
  get waiting(): number {
    return this.queue.length;
  }

  private startGroups(): void {
    while (this.running < this.limits.concurrency && this.queue.length > 0) {
      const group = this.nextGroup();
      if (group.length === 0) {
        // Everything queued waits for a running group's users or seats.
        return;
      }
      this.running += 1;
      // In its first request's trace, not in that of whichever request's group ended last.
      void withinContext(group[0].context, () => this.commit(group)).finally(() => {
        this.running -= 1;
        for (const { request } of group) {
          this.usersInFlight.delete(request.caller.userId);
          request.seatIds.forEach((seatId) => this.seatsInFlight.delete(seatId));
        }
        this.startGroups();
      });
    }
  }

  /**
   * Takes the next group from the queue, in order, skipping holds of a user or of seats that a
   * running group has: across groups, the user's lock and the seats' rows would make one
   * transaction wait for the other's commit (and, locked in different orders, deadlock).
   * Within a group they are harmless: the same transaction holds the lock, and a seat it has
   * just held is simply not free for the next hold.
   */
  private nextGroup(): QueuedHold[] {
    const group: QueuedHold[] = [];
    const users = new Set<string>();
    const seats = new Set<string>();
    for (let index = 0; index < this.queue.length && group.length < this.limits.maxSize;) {
      const queued = this.queue[index];
      const { userId } = queued.request.caller;
      if (
        this.usersInFlight.has(userId) ||
        queued.request.seatIds.some((seatId) => this.seatsInFlight.has(seatId))
      ) {
        index += 1;
        continue;
      }
      this.queue.splice(index, 1);
      group.push(queued);
      users.add(userId);
      queued.request.seatIds.forEach((seatId) => seats.add(seatId));
    }
    users.forEach((userId) => this.usersInFlight.add(userId));
    seats.forEach((seatId) => this.seatsInFlight.add(seatId));
    return group;
  }

  private async commit(queued: readonly QueuedHold[]): Promise<void> {
    // A request (nearly) out of time would time the whole group out, and every other hold of it
    // would then run again alone: it runs alone at once instead (and may get its own TIMEOUT).
    const group = queued.filter(({ request: { deadline }, resolve }) => {
      const short =
        queued.length > 1 &&
        deadline !== undefined &&
        (deadline.expired || deadline.databaseBudgetMilliseconds() < GROUP_MIN_BUDGET_MILLISECONDS);
      if (short) {
        resolve(null);
      }
      return !short;
    });
    if (group.length === 0) {
      return;
    }
    this.observe?.(group.length);
    if (group.length === 1) {
      const [{ em, request, resolve, reject }] = group;
      await attemptHold(this.deps, em, request).then(resolve, reject);
      return;
    }
    const deadlines = group
      .map((queued) => queued.request.deadline)
      .filter((deadline): deadline is RequestDeadline => deadline !== undefined);
    let grouped: GroupedHold[] = [];
    let commitSent = false;
    const deadline = earliestOf(deadlines, {
      committing: (member) =>
        grouped[group.findIndex((queued) => queued.request.deadline === member)]?.kind === 'inserted',
      // From here a failure may hide a commit.
      onCommit: () => {
        commitSent = true;
      },
    });
    try {
      grouped = await this.deps.transactions.run(
        // Any of the group's entity managers: the transaction runs on a fork of its own.
        group[0].em,
        deadline,
        async (tx, events) =>
          (grouped = await holdEachInTransaction(
            this.deps,
            tx,
            events,
            group.map((queued) => queued.request),
            group.map((queued) => queued.context),
          )),
      );
    } catch (error) {
      if (commitSent) {
        // Whether it committed is unknown: running the holds again could hold the seats twice.
        group.forEach((queued) => queued.reject(error));
        return;
      }
      // Nothing committed: each runs alone, and gets its own answer (a timeout included).
      grouped = group.map(() => ({ kind: 'alone' }));
    }
    group.forEach((queued, index) => {
      const outcome = grouped[index];
      try {
        queued.resolve(
          outcome.kind === 'inserted'
            ? {
                kind: 'held',
                reservation: queued.em.getRepository(Reservation).managedPending(outcome.pending),
              }
            : outcome.kind === 'stale-hold'
              ? outcome
              : null,
        );
      } catch (error) {
        // Committed, so never run alone again: the request fails as any other would.
        queued.reject(error);
      }
    });
  }
}
