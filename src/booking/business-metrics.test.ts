import { Metrics } from '../infra/metrics';
import { type BookingEvent, type ReservationChangedEvent } from './booking-events';
import { countCommittedFacts } from './business-metrics';

const reservation = (seatIds: string[], totalCents: number): ReservationChangedEvent => ({
  reservationId: 'r',
  userId: 'u',
  sessionId: 's',
  status: 'PENDING' as ReservationChangedEvent['status'],
  seatIds,
  totalCents,
  expiresAt: new Date(0).toISOString(),
  changedAt: new Date(0).toISOString(),
});

describe('countCommittedFacts', () => {
  it('counts holds, sales, refunds and revenue once per committed event', async () => {
    const metrics = new Metrics();
    const events: BookingEvent[] = [
      { topic: 'reservation.created', payload: reservation(['a', 'b'], 2_000) },
      { topic: 'reservation.extended', payload: reservation(['a', 'b'], 2_000) },
      { topic: 'reservation.confirmed', payload: reservation(['a', 'b'], 2_000) },
      { topic: 'reservation.created', payload: reservation(['c'], 900) },
      { topic: 'reservation.expired', payload: reservation(['c'], 900) },
      {
        topic: 'sale.refunded',
        payload: {
          saleId: 'x',
          refundId: 'y',
          reservationId: 'r',
          userId: 'u',
          sessionId: 's',
          amountCents: 1_000,
          saleAmountCents: 2_000,
          percent: 50,
          reason: null,
          refundedBy: 'u',
          seatIds: ['a', 'b'],
          seatsReleased: true,
          changedAt: new Date(0).toISOString(),
        },
      },
    ];
    countCommittedFacts(metrics, events);
    const value = async (name: string) =>
      (await metrics.registry.getSingleMetric(name)!.get()).values.reduce(
        (sum, sample) => sum + sample.value,
        0,
      );
    expect(await value('poltrona_holds_total')).toBe(2);
    expect(await value('poltrona_held_seats_total')).toBe(3);
    expect(await value('poltrona_holds_ended_total')).toBe(1);
    expect(await value('poltrona_sales_total')).toBe(1);
    expect(await value('poltrona_sold_seats_total')).toBe(2);
    expect(await value('poltrona_revenue_cents_total')).toBe(2_000);
    expect(await value('poltrona_refunds_total')).toBe(1);
    expect(await value('poltrona_refunded_cents_total')).toBe(1_000);
  });
});
