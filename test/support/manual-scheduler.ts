import { type ManualClock, type Scheduler } from '../../src/infra/clock';

/** One armed timer of a {@link ManualScheduler}. */
export interface ArmedTimer {
  /** The delay it was armed with. */
  readonly milliseconds: number;
  /** The manual clock's instant (epoch milliseconds) at which it fires. */
  readonly at: number;
}

/**
 * A {@link Scheduler} a test runs by hand on a {@link ManualClock}: nothing fires by itself, a
 * timer fires when the test moves the clock to or past its moment. Lets a test say what a
 * timeout was armed with, and what happens before and after it fires, without waiting for it.
 */
export class ManualScheduler {
  private timers: (ArmedTimer & { readonly callback: () => void })[] = [];

  constructor(private readonly clock: ManualClock) {}

  /** The scheduler to inject. */
  readonly schedule: Scheduler = (milliseconds, callback) => {
    const timer = { milliseconds, at: this.clock.now() + milliseconds, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((other) => other !== timer);
    };
  };

  /** Moves the clock and fires what has come due, in the order the timers were armed. */
  advance(milliseconds: number): void {
    this.clock.advance(milliseconds);
    const due = this.timers.filter((timer) => timer.at <= this.clock.now());
    this.timers = this.timers.filter((timer) => timer.at > this.clock.now());
    due.forEach((timer) => timer.callback());
  }

  /** How many timers are armed and not yet fired nor cancelled. */
  get pending(): number {
    return this.timers.length;
  }

  /** The timers armed and not yet fired nor cancelled, oldest first. */
  get armed(): readonly ArmedTimer[] {
    return this.timers.map(({ milliseconds, at }) => ({ milliseconds, at }));
  }
}
