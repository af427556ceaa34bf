/**
 * The one clock that judges booking time: whether a hold has ended, whether a session has
 * started, when a new hold ends. In production it is PostgreSQL's `now()` (the start of the
 * current transaction), never a process's own clock: every process, reader and worker then
 * agrees on the moment a hold ends, whatever their clocks drift.
 *
 * How it reaches SQL: statements that judge time write `coalesce(?::timestamptz, now())`
 * ({@link CLOCK_NOW_SQL}) and pass {@link Clock.fixedNow} as the parameter. The production
 * clock passes null, so PostgreSQL's `now()` decides; a test injects a {@link ManualClock} to
 * move time forward (past a hold, say) without sleeping. No extra statement or round trip
 * either way: the instant travels as a parameter of statements that run anyway.
 */
export interface Clock {
  /** The instant statements take as "now"; null means PostgreSQL's own `now()`. */
  readonly fixedNow: Date | null;
}

/** Production: PostgreSQL's `now()` decides. */
export const DATABASE_CLOCK: Clock = Object.freeze({ fixedNow: null });

/**
 * SQL for "now" by a {@link Clock}: bind `clock.fixedNow` to its one parameter. Judged once per
 * statement, like `now()` itself.
 */
export const CLOCK_NOW_SQL = 'coalesce(?::timestamptz, now())';

/** A clock a test sets and moves by hand. */
export class ManualClock implements Clock, ProcessClock {
  constructor(public fixedNow: Date) {}

  /** The same instant, as a {@link ProcessClock}. */
  now(): number {
    return this.fixedNow.getTime();
  }

  /** Moves the clock forward by `milliseconds`. */
  advance(milliseconds: number): void {
    this.fixedNow = new Date(this.fixedNow.getTime() + milliseconds);
  }
}

/**
 * The process's own clock, in milliseconds since the epoch, for in-memory deadlines that never
 * judge booking time: how long a verified token stays cached, how long a request may wait for
 * a slot. A test injects a {@link ManualClock} (which is one too) to move it by hand.
 */
export interface ProcessClock {
  now(): number;
}

/** Production: `Date.now()`. */
export const SYSTEM_CLOCK: ProcessClock = Object.freeze({ now: () => Date.now() });

/**
 * Runs `callback` once after `milliseconds` of the process's clock; returns what cancels it
 * (harmless once it has run). For in-memory timeouts a test wants to fire by hand instead of
 * waiting for them: a queued request's wait for a slot, the relay's wait for broker confirms.
 */
export type Scheduler = (milliseconds: number, callback: () => void) => () => void;

/**
 * Production: `setTimeout`, unreferenced (a pending timeout never keeps the process alive: what
 * it guards ends first, or the process is leaving anyway).
 */
export const SYSTEM_SCHEDULER: Scheduler = (milliseconds, callback) => {
  const timer = setTimeout(callback, milliseconds);
  timer.unref();
  return () => clearTimeout(timer);
};
