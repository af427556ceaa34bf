import { setMaxListeners } from 'node:events';
import { createPubSub } from '@graphql-yoga/subscription';
import {
  type BookingEvent,
  type ReservationChangedEvent,
  type SaleRefundedEvent,
  type SeatStatusChangedEvent,
} from '../booking/booking-events';

/** What reaches a reservation's subscribers: a change of the reservation, or of its sale (a refund). */
export type ReservationUpdate = ReservationChangedEvent | SaleRefundedEvent;

/**
 * In-process pub/sub feeding this process's GraphQL subscriptions. Topics are keyed by the
 * id subscribers filter on, so an event only reaches the subscribers of its session or
 * reservation.
 */
export type LivePubSub = ReturnType<typeof createLivePubSub>;

/** A new pub/sub for one process (see {@link LivePubSub}). */
export function createLivePubSub() {
  // One listener per subscriber of a session: thousands are expected, not a leak.
  const eventTarget = new EventTarget();
  setMaxListeners(Number.POSITIVE_INFINITY, eventTarget);
  return createPubSub<{
    'seat-status-changed': [sessionId: string, payload: SeatStatusChangedEvent];
    'reservation-updated': [reservationId: string, payload: ReservationUpdate];
  }>({ eventTarget });
}

/**
 * Delivers committed booking events to this process's subscribers; seat changes go through
 * `deliverSeatChange` (the seat-map feed, which orders them and fills gaps).
 */
export function publishLive(
  pubSub: LivePubSub,
  events: readonly BookingEvent[],
  deliverSeatChange: (event: SeatStatusChangedEvent) => void,
): void {
  for (const event of events) {
    if (event.topic === 'seat.status-changed') {
      deliverSeatChange(event.payload);
    } else {
      // reservation.* and sale.refunded: the reservation (or its sale) changed.
      pubSub.publish('reservation-updated', event.payload.reservationId, event.payload);
    }
  }
}
