import { type ConsumeMessage } from 'amqplib';
import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { Reservation } from '../entities/reservation.entity';
import { decodeEvent, MalformedMessageError } from '../events/event-message';
import { type Clock, DATABASE_CLOCK } from '../infra/clock';
import { isUuid } from '../infra/uuid';
import { type ExpiredReservation, type OverdueCriteria } from '../repositories/reservation.repository';

/** Expires overdue reservations in one transaction (`booking/expire-overdue.ts`, bound to its dependencies). */
export type ExpireOverdue = (em: EntityManager, criteria: OverdueCriteria) => Promise<ExpiredReservation[]>;

// A message is early when its hold was extended after it was sent (the extension sends one of
// its own), or when a delay queue with a shorter TTL (an older HOLD_SECONDS) still exists;
// waiting out a short remainder is cheaper than a round trip. Longer ones are left to the
// extension's message and to a sweep at the hold's end.
const MAX_EARLY_WAIT_MILLISECONDS = 10_000;
// Past the database's own remainder, so the next attempt's `now()` has certainly reached it.
const WAIT_MARGIN_MILLISECONDS = 5;
// Each wait is measured by the database, so a second one only follows a race; a third gives up
// (the message is retried with backoff, and the sweeper is still there).
const MAX_ATTEMPTS = 3;

/** Thrown when a hold is still not over after waiting for it: the message is retried later. */
export class HoldNotOverError extends Error {}

/** What {@link createExpiryHandler} may be given besides the database. */
export interface ExpiryHandlerOptions {
  /** Judges how much of a hold is left, like `expireOverdue`'s; `DATABASE_CLOCK` by default. */
  readonly clock?: Clock;
  /**
   * Told, with the time left, of a message that came long before its hold's end: an extended
   * hold, whose own message comes after its end when its cap cut the extension short
   * (`ExpirySweeper.sweepIn` sweeps then).
   */
  readonly onLongEarly?: (remainingMilliseconds: number) => void;
  /**
   * Waits out the short remainder of a message that came early (`setTimeout` by default), so
   * that a test can see how long the handler waits and move its manual clock instead.
   */
  readonly wait?: (milliseconds: number) => Promise<void>;
}

/** Production: a timer. */
const waitWithTimer = (milliseconds: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Expiry consumer: a `reservation.created` or `reservation.extended` message comes out of the
 * delay queue when its hold is up (`HOLD_SECONDS` after it was sent); a still-PENDING
 * reservation whose hold has ended then becomes EXPIRED and its seats AVAILABLE (unless already
 * taken over), with events. Idempotent: expiring is a conditional update, so a redelivered
 * message, a confirm that won the race, or the sweeper leave nothing to do.
 *
 * Only the database clock decides, as it does for readers and for `expireOverdue`: a message
 * that arrives before the hold is over (by the database's `now()`) changes nothing. It waits out
 * a short remainder (up to 10 s) the database reports and tries again, so a worker whose own
 * clock is off neither acks without effect nor waits too long; a longer one (the message of a
 * hold extended since) is acked, and `onLongEarly` is told when the hold now ends.
 */
export function createExpiryHandler(
  orm: MikroORM,
  expireOverdue: ExpireOverdue,
  { clock = DATABASE_CLOCK, onLongEarly, wait = waitWithTimer }: ExpiryHandlerOptions = {},
) {
  return async (message: ConsumeMessage): Promise<void> => {
    const { event } = decodeEvent(message);
    if (
      (event.topic !== 'reservation.created' && event.topic !== 'reservation.extended') ||
      !isUuid(event.payload.reservationId)
    ) {
      throw new MalformedMessageError(
        `expected reservation.created or reservation.extended, got ${event.topic}`,
      );
    }
    const { reservationId } = event.payload;
    for (let attempt = 1; ; attempt += 1) {
      const expired = await expireOverdue(orm.em.fork(), { reservationIds: [reservationId] });
      if (expired.length > 0) {
        return;
      }
      const remaining = await orm.em
        .fork()
        .getRepository(Reservation)
        .remainingHoldMilliseconds(reservationId, clock);
      if (remaining === null) {
        // Not PENDING any more (confirmed, cancelled, expired by someone else).
        return;
      }
      if (remaining > MAX_EARLY_WAIT_MILLISECONDS) {
        // Extended since this message was sent: the extension's own message comes at the new end
        // (after it, when the cap cut the extension short), the sweeper at the latest.
        onLongEarly?.(remaining + WAIT_MARGIN_MILLISECONDS);
        return;
      }
      if (attempt === MAX_ATTEMPTS) {
        throw new HoldNotOverError(
          `reservation ${reservationId} is still held ${remaining} ms before its end`,
        );
      }
      await wait(Math.max(0, remaining) + WAIT_MARGIN_MILLISECONDS);
    }
  };
}
