import { type Metrics } from '../infra/metrics';
import { type BookingEvent } from './booking-events';

/** The business counters {@link countCommittedFacts} feeds (a part of `Metrics`). */
export type BusinessCounters = Pick<
  Metrics,
  | 'holdsCreated'
  | 'seatsHeld'
  | 'holdsEnded'
  | 'salesConfirmed'
  | 'seatsSold'
  | 'revenueCents'
  | 'refunds'
  | 'refundedCents'
>;

/**
 * Counts the business facts of one committed booking transaction from the events it recorded:
 * the one place holds, sales, refunds and revenue are counted. Called after commit only (a
 * rolled-back transaction recorded nothing), so each fact is counted once, by the process
 * that committed it, whichever use case, request or worker did so (an idempotent replay
 * commits nothing and counts nothing).
 */
export function countCommittedFacts(counters: BusinessCounters, events: readonly BookingEvent[]): void {
  for (const event of events) {
    switch (event.topic) {
      case 'reservation.created':
        counters.holdsCreated.inc();
        counters.seatsHeld.inc(event.payload.seatIds.length);
        break;
      case 'reservation.confirmed':
        counters.salesConfirmed.inc();
        counters.seatsSold.inc(event.payload.seatIds.length);
        counters.revenueCents.inc(event.payload.totalCents);
        break;
      case 'reservation.expired':
        counters.holdsEnded.inc({ reason: 'expired' });
        break;
      case 'reservation.cancelled':
        counters.holdsEnded.inc({ reason: 'cancelled' });
        break;
      case 'sale.refunded':
        counters.refunds.inc();
        counters.refundedCents.inc(event.payload.amountCents);
        break;
      case 'reservation.extended':
      case 'seat.status-changed':
        break;
    }
  }
}
