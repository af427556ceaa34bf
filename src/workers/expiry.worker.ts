import { type ConsumeMessage } from 'amqplib';
import { type MikroORM } from '@mikro-orm/postgresql';
import { type ReservationService } from '../booking/reservation.service';
import { decodeEvent, MalformedMessageError } from '../events/event-message';
import { isUuid } from '../infra/uuid';

// A message can only be early if a delay queue with a shorter TTL (an older HOLD_SECONDS)
// still exists; waiting out a short remainder is cheaper than a round trip. Longer ones are
// left to the sweeper.
const MAX_EARLY_WAIT_MILLISECONDS = 10_000;

/**
 * Expiry consumer: a `reservation.created` message comes out of the delay queue when its hold
 * is up; a still-PENDING reservation then becomes EXPIRED and its seats AVAILABLE (unless
 * already taken over), with events. Idempotent: expiring is a conditional update, so a
 * redelivered message, a confirm that won the race, or the sweeper leave nothing to do.
 */
export function createExpiryHandler(orm: MikroORM, reservations: ReservationService) {
  return async (message: ConsumeMessage): Promise<void> => {
    const { event } = decodeEvent(message);
    if (event.topic !== 'reservation.created' || !isUuid(event.payload.reservationId)) {
      throw new MalformedMessageError(`expected reservation.created, got ${event.topic}`);
    }
    const remaining = Date.parse(event.payload.expiresAt) - Date.now();
    if (remaining > MAX_EARLY_WAIT_MILLISECONDS) {
      return;
    }
    if (remaining > 0) {
      await new Promise((resolve) => setTimeout(resolve, remaining + 20));
    }
    await reservations.expireOverdue(orm.em.fork(), { reservationIds: [event.payload.reservationId] });
  };
}
