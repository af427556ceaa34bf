import { type BookingEvent } from '../booking/booking-events';
import { foldIdCase } from '../infra/uuid';
import { type RunningHold } from '../repositories/reservation.repository';
import { type MillisecondClock, type NextHoldEnd } from './session-read-cache';
import { ALL_SESSIONS } from './session-reads';

/**
 * When the running holds of each session end, kept from the committed events themselves: a
 * hold begins only with a `reservation.created` event (its `expiresAt` is its seats' hold
 * end), moves later with each `reservation.extended` (its new `expiresAt`), and ends early
 * with that reservation's next other event, or by the clock. Fed with the
 * same events that invalidate the response cache (this process's commits and every other
 * process's through the live fan-out), it answers {@link NextHoldEnd} without SQL, so a
 * cache miss costs no more statements than the execution itself.
 *
 * An event that reaches this process late also drops every cached result of its session, so
 * a result read before the index knew of a hold does not outlive that event.
 *
 * A hold is kept past its end for `lingerMilliseconds` (the cache's longest reuse): this
 * process's clock never decides alone that a hold is over (it may run ahead of the database's),
 * so for that long an ended hold is still reported, and a result read meanwhile is not stored
 * (its validity is already over). Its terminal event normally removes it long before. Holds
 * whose terminal event never came (lost while the broker was away, or overtaken by a later
 * event relayed by another process) are swept once past that margin, so the index holds
 * roughly the running holds.
 */
export class HoldEndIndex {
  /** Session id (lower case) → reservation id → end, epoch milliseconds. */
  private readonly bySession = new Map<string, Map<string, number>>();
  private lastSweep: number;

  constructor(
    private readonly lingerMilliseconds: number,
    private readonly now: MillisecondClock = Date.now,
  ) {
    this.lastSweep = now();
  }

  /**
   * Holds running by the data (at start, and after each reconnection to the broker, when
   * events may have been missed). Merged into what the events taught.
   */
  load(holds: Iterable<RunningHold>): void {
    for (const hold of holds) {
      this.add(hold.sessionId, hold.reservationId, hold.endsAt.getTime());
    }
  }

  /** Committed events, in commit order. */
  readonly record = (events: readonly BookingEvent[]): void => {
    for (const event of events) {
      if (event.topic === 'seat.status-changed' || event.topic === 'sale.refunded') {
        continue;
      }
      const { sessionId, reservationId, expiresAt } = event.payload;
      if (event.topic === 'reservation.created' || event.topic === 'reservation.extended') {
        this.add(sessionId, reservationId, Date.parse(expiresAt));
      } else {
        this.remove(sessionId, reservationId);
      }
    }
    if (this.now() - this.lastSweep >= Math.max(this.lingerMilliseconds, 1_000)) {
      this.sweep();
    }
  };

  /** The cache's port: the earliest end still ahead among `sessionIds` (every session for a list). */
  readonly nextHoldEnd: NextHoldEnd = (sessionIds) => Promise.resolve(this.earliest(sessionIds));

  /** What the index holds: sessions with holds, and holds (ended ones stay for the linger). */
  get size(): { readonly sessions: number; readonly holds: number } {
    let holds = 0;
    for (const ends of this.bySession.values()) {
      holds += ends.size;
    }
    return { sessions: this.bySession.size, holds };
  }

  private earliest(sessionIds: readonly string[]): Date | null {
    const sessions = sessionIds.includes(ALL_SESSIONS) ? [...this.bySession.keys()] : sessionIds;
    const forgetBefore = this.now() - this.lingerMilliseconds;
    let earliest = Number.POSITIVE_INFINITY;
    for (const sessionId of sessions) {
      const ends = this.bySession.get(sessionId);
      if (!ends) {
        continue;
      }
      for (const [reservationId, end] of ends) {
        if (end <= forgetBefore) {
          ends.delete(reservationId);
        } else if (end < earliest) {
          earliest = end;
        }
      }
      if (ends.size === 0) {
        this.bySession.delete(sessionId);
      }
    }
    return Number.isFinite(earliest) ? new Date(earliest) : null;
  }

  /** Forgets every hold past its linger (those no terminal event removed). */
  private sweep(): void {
    this.lastSweep = this.now();
    this.earliest([ALL_SESSIONS]);
  }

  private add(sessionId: string, reservationId: string, end: number): void {
    if (!Number.isFinite(end) || end <= this.now() - this.lingerMilliseconds) {
      return;
    }
    const key = foldIdCase(sessionId);
    let ends = this.bySession.get(key);
    if (!ends) {
      ends = new Map();
      this.bySession.set(key, ends);
    }
    // A hold's end only ever moves later; events relayed by different processes may arrive
    // out of order (an extension before the creation), and the later end is the true one.
    ends.set(reservationId, Math.max(end, ends.get(reservationId) ?? end));
  }

  private remove(sessionId: string, reservationId: string): void {
    const key = foldIdCase(sessionId);
    const ends = this.bySession.get(key);
    ends?.delete(reservationId);
    if (ends?.size === 0) {
      this.bySession.delete(key);
    }
  }
}
