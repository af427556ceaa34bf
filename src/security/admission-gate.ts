import { type OperationTypeNode } from 'graphql';
import { type ProcessClock, type Scheduler, SYSTEM_CLOCK, SYSTEM_SCHEDULER } from '../infra/clock';

/**
 * The classes of operations the gate admits separately: booking load never refuses reads, and
 * reads never take a mutation's slot. Subscriptions are not gated (they are long-lived, and
 * capped per connection instead).
 */
export type AdmissionClass = 'mutation' | 'read';

/** How much of one class a process runs at once, and how long the rest may wait. */
export interface AdmissionLimits {
  /** Operations of the class running at once; 0 turns the gate off for the class. */
  readonly concurrency: number;
  /** Operations waiting for a slot; one more is refused at once. */
  readonly queueLength: number;
  /** The longest an operation waits in the queue before it is refused. */
  readonly queueTimeoutMilliseconds: number;
}

/** One class's load: operations running and waiting now, and refused since the process started. */
export interface AdmissionLoad {
  readonly running: number;
  readonly waiting: number;
  readonly refused: number;
}

/** The gate's answer: go ahead (and call `release` once finished), or come back later. */
export type Admission =
  | { readonly admitted: true; release(): void }
  | { readonly admitted: false; readonly retryAfterSeconds: number };

/**
 * A refused caller is told to come back in this many seconds: a slot frees within
 * milliseconds, so the shortest `Retry-After` HTTP can say.
 */
export const OVERLOAD_RETRY_AFTER_SECONDS = 1;

const NOTHING_TO_RELEASE = (): void => undefined;
const ADMITTED_UNGATED: Admission = Object.freeze({ admitted: true, release: NOTHING_TO_RELEASE });
const REFUSED: Admission = Object.freeze({
  admitted: false,
  retryAfterSeconds: OVERLOAD_RETRY_AFTER_SECONDS,
});

interface Waiter {
  readonly deadline: number;
  readonly resolve: (admission: Admission) => void;
  cancelTimer: () => void;
}

/** One class's slots and queue. */
class Lane {
  running = 0;
  refused = 0;
  readonly waiters: Waiter[] = [];

  constructor(readonly limits: AdmissionLimits) {}
}

/**
 * Admission control (DESIGN §7, overload): each class of operations runs at most
 * `concurrency` at once, at most `queueLength` more wait (first come, first served) for at
 * most `queueTimeoutMilliseconds`, and every other one is refused at once, so that under
 * overload the admitted ones keep their latency and the rest learn it within milliseconds
 * instead of queueing until they time out. Per process, in memory, decided synchronously
 * (no I/O): a refusal costs next to nothing.
 *
 * Callers must `release` exactly what they were admitted for once the operation has been
 * answered (releasing twice is harmless).
 */
export class AdmissionGate {
  private readonly lanes: Record<AdmissionClass, Lane>;

  constructor(
    limits: Readonly<Record<AdmissionClass, AdmissionLimits>>,
    private readonly clock: ProcessClock = SYSTEM_CLOCK,
    private readonly schedule: Scheduler = SYSTEM_SCHEDULER,
  ) {
    this.lanes = { mutation: new Lane(limits.mutation), read: new Lane(limits.read) };
  }

  /** Whether `kind` is gated (if not, callers need not even classify operations). */
  gates(kind: AdmissionClass): boolean {
    return this.lanes[kind].limits.concurrency > 0;
  }

  /**
   * Admits an operation of `kind` now, after a short wait in the queue, or refuses it. Resolves
   * at once unless the operation is queued.
   */
  enter(kind: AdmissionClass): Admission | Promise<Admission> {
    const lane = this.lanes[kind];
    const { concurrency, queueLength, queueTimeoutMilliseconds } = lane.limits;
    if (concurrency === 0) {
      return ADMITTED_UNGATED;
    }
    this.dropExpired(lane);
    if (lane.running < concurrency) {
      lane.running += 1;
      return this.slotOf(lane);
    }
    if (lane.waiters.length >= queueLength) {
      lane.refused += 1;
      return REFUSED;
    }
    return new Promise<Admission>((resolve) => {
      const waiter: Waiter = {
        deadline: this.clock.now() + queueTimeoutMilliseconds,
        resolve,
        cancelTimer: NOTHING_TO_RELEASE,
      };
      waiter.cancelTimer = this.schedule(queueTimeoutMilliseconds, () => this.timeOut(lane, waiter));
      lane.waiters.push(waiter);
    });
  }

  /** Operations of `kind` running and waiting now, and refused since start (metrics, tests). */
  load(kind: AdmissionClass): AdmissionLoad {
    const lane = this.lanes[kind];
    return { running: lane.running, waiting: lane.waiters.length, refused: lane.refused };
  }

  /** An admission holding one of `lane`'s slots until released (once). */
  private slotOf(lane: Lane): Admission {
    let held = true;
    return {
      admitted: true,
      release: () => {
        if (held) {
          held = false;
          this.handOver(lane);
        }
      },
    };
  }

  /** A slot was freed: the first waiter still in time takes it, else it is free. */
  private handOver(lane: Lane): void {
    this.dropExpired(lane);
    const next = lane.waiters.shift();
    if (next) {
      next.cancelTimer();
      next.resolve(this.slotOf(lane));
    } else {
      lane.running -= 1;
    }
  }

  /** Refuses the waiters whose time is up (they are the oldest: the queue is in arrival order). */
  private dropExpired(lane: Lane): void {
    const now = this.clock.now();
    while (lane.waiters.length > 0 && lane.waiters[0].deadline <= now) {
      const expired = lane.waiters.shift() as Waiter;
      expired.cancelTimer();
      lane.refused += 1;
      expired.resolve(REFUSED);
    }
  }

  /** `waiter`'s own timer: refused if still waiting, whatever the clock's rounding says. */
  private timeOut(lane: Lane, waiter: Waiter): void {
    const index = lane.waiters.indexOf(waiter);
    if (index >= 0) {
      lane.waiters.splice(index, 1);
      lane.refused += 1;
      waiter.resolve(REFUSED);
    }
    this.dropExpired(lane);
  }
}

/** The class an operation of `type` is admitted in; null: not gated (subscriptions). */
export function admissionClassOf(type: OperationTypeNode | undefined): AdmissionClass | null {
  switch (type) {
    case 'subscription':
      return null;
    case 'mutation':
      return 'mutation';
    default:
      // Queries, and documents whose type cannot be told (they are refused once parsed).
      return 'read';
  }
}
