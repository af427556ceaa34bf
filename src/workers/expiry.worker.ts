import { type ConsumeMessage } from 'amqplib';
import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { Reservation } from '../entities/reservation.entity';
import { decodeEvent, MalformedMessageError } from '../events/event-message';
import { isUuid } from '../infra/uuid';
import { type ExpiredReservation, type OverdueCriteria } from '../repositories/reservation.repository';

/** Expires overdue reservations in one transaction (`booking/expire-overdue.ts`, bound to its dependencies). */
export type ExpireOverdue = (em: EntityManager, criteria: OverdueCriteria) => Promise<ExpiredReservation[]>;

// A message can only be early if a delay queue with a shorter TTL (an older HOLD_SECONDS)
// still exists; waiting out a short remainder is cheaper than a round trip. Longer ones are
// left to the sweeper.
const MAX_EARLY_WAIT_MILLISECONDS = 10_000;
// Past the database's own remainder, so the next attempt's `now()` has certainly reached it.
const WAIT_MARGIN_MILLISECONDS = 5;
// Each wait is measured by the database, so a second one only follows a race; a third gives up
// (the message is retried with backoff, and the sweeper is still there).
const MAX_ATTEMPTS = 3;

/** Thrown when a hold is still not over after waiting for it: the message is retried later. */
export class HoldNotOverError extends Error {}

/**
 * Expiry consumer: a `reservation.created` message comes out of the delay queue when its hold
 * is up; a still-PENDING reservation then becomes EXPIRED and its seats AVAILABLE (unless
 * already taken over), with events. Idempotent: expiring is a conditional update, so a
 * redelivered message, a confirm that won the race, or the sweeper leave nothing to do.
 *
 * Only the database clock decides, as it does for readers and for `expireOverdue`: a message
 * that arrives before the hold is over (by the database's `now()`) waits out the remainder the
 * database reports and tries again, so a worker whose own clock is off neither acks without
 * effect nor waits too long.
 */
export function createExpiryHandler(orm: MikroORM, expireOverdue: ExpireOverdue) {
  return async (message: ConsumeMessage): Promise<void> => {
    const { event } = decodeEvent(message);
    if (event.topic !== 'reservation.created' || !isUuid(event.payload.reservationId)) {
      throw new MalformedMessageError(`expected reservation.created, got ${event.topic}`);
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
        .remainingHoldMilliseconds(reservationId);
      if (remaining === null || remaining > MAX_EARLY_WAIT_MILLISECONDS) {
        // Not PENDING any more (confirmed, cancelled, expired by someone else), or the sweeper's.
        return;
      }
      if (attempt === MAX_ATTEMPTS) {
        throw new HoldNotOverError(
          `reservation ${reservationId} is still held ${remaining} ms before its end`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, remaining) + WAIT_MARGIN_MILLISECONDS));
    }
  };
}
