import { randomUUID } from 'node:crypto';
import { insertSession, someUser, useBookingHarness } from '../../test/support/booking-harness';
import { ReservationStatus, SaleStatus, SeatStatus } from '../entities/enums';
import { repositoriesOf } from '../repositories';
import { type SaleRefundedEvent, type SeatStatusChangedEvent } from './booking-events';
import { confirmPayment } from './confirm-payment';
import { refundSale } from './refund-sale';
import { reserve } from './reserve/reserve';

const HOUR = 3_600_000;

describe('refundSale (use case on PostgreSQL, manual clock)', () => {
  const booking = useBookingHarness();

  const someAdmin = () => ({ userId: `admin-${randomUUID()}`, isAdmin: true });

  /**
   * A sale of `seatCount` seats at `priceCents` each, paid now, of a session starting in two
   * days; then the clock is put `hoursBeforeStart` before the start (negative: after it).
   */
  async function paidSale({ hoursBeforeStart = 48, seatCount = 2, priceCents = 1_000 } = {}) {
    const clock = booking.harness.clock;
    const startsAt = new Date(clock.fixedNow.getTime() + 48 * HOUR);
    const session = await insertSession(booking.orm, { seatCount: 4, priceCents, startsAt });
    const owner = someUser();
    const seatIds = session.seatIds.slice(0, seatCount);
    const reservation = await reserve(booking.harness.deps, booking.harness.em(), owner, {
      sessionId: session.id,
      seatIds,
    });
    const sale = await confirmPayment(booking.harness.deps, booking.harness.em(), owner, reservation.id);
    clock.fixedNow = new Date(startsAt.getTime() - hoursBeforeStart * HOUR);
    return { session, owner, seatIds, reservation, sale };
  }

  /** Everything a refund may change: the sale, its refund, the session's seats and links, events. */
  async function footprint(saleId: string, sessionId: string) {
    const [row] = await booking.harness.em().execute<Record<string, unknown>[]>(
      `select (select status from sale where id = ?) as sale_status,
              (select count(*)::int from refund where sale_id = ?) as refunds,
              (select json_agg(json_build_object('id', id, 'status', status, 'version', version) order by id)
                 from seat where session_id = ?) as seats,
              (select json_agg(json_build_object('seat', rs.seat_id, 'live', rs.live) order by rs.seat_id)
                 from reservation_seat rs join seat s on s.id = rs.seat_id where s.session_id = ?) as links,
              (select count(*)::int from outbox_event where payload->>'sessionId' = ?) as outbox`,
      [saleId, saleId, sessionId, sessionId, sessionId],
    );
    return { ...row, events: booking.harness.events.length };
  }

  async function expectRefused(
    saleId: string,
    sessionId: string,
    act: () => Promise<unknown>,
    expected: Record<string, unknown>,
  ): Promise<void> {
    const before = await footprint(saleId, sessionId);
    await expect(act()).rejects.toMatchObject(expected);
    expect(await footprint(saleId, sessionId)).toEqual(before);
  }

  const refund = (
    caller: { userId: string; isAdmin: boolean },
    saleId: string,
    options: { reason?: string | null; percent?: number | null } = {},
  ) => refundSale(booking.harness.deps, booking.harness.em(), caller, { saleId, ...options });

  async function storedRefund(saleId: string) {
    return repositoriesOf(booking.harness.em()).refunds.findOne({ sale: saleId });
  }

  it('refunds the owner 100 % more than 24 h before the start: seats back on sale with new versions, events in the outbox', async () => {
    const { session, owner, seatIds, reservation, sale } = await paidSale({ hoursBeforeStart: 24.01 });
    const eventsBefore = booking.harness.events.length;

    const refunded = await refund(owner, sale.id);

    expect(refunded.id).toBe(sale.id);
    expect(refunded.status).toBe(SaleStatus.REFUNDED);
    const stored = await storedRefund(sale.id);
    expect(stored).toMatchObject({
      amountCents: 2_000,
      percent: 100,
      reason: null,
      refundedBy: owner.userId,
      createdAt: booking.harness.clock.fixedNow,
    });
    const { seats, reservations, sales } = repositoriesOf(booking.harness.em());
    expect((await sales.findOne({ id: sale.id }))?.status).toBe(SaleStatus.REFUNDED);
    // AVAILABLE 1 -> RESERVED 2 -> SOLD 3 -> AVAILABLE 4.
    expect(
      (await seats.findByIds(seatIds, booking.harness.clock)).map((seat) => [seat.status, seat.version]),
    ).toEqual([
      [SeatStatus.AVAILABLE, 4],
      [SeatStatus.AVAILABLE, 4],
    ]);
    // The reservation stays CONFIRMED (paid once, then refunded), its links no longer live.
    expect((await reservations.findById(reservation.id))?.status).toBe(ReservationStatus.CONFIRMED);
    const links = await booking.harness
      .em()
      .execute<{ live: boolean }[]>('select live from reservation_seat where reservation_id = ?', [
        reservation.id,
      ]);
    expect(links).toEqual([{ live: false }, { live: false }]);

    const recorded = booking.harness.events.slice(eventsBefore);
    expect(recorded.map((event) => event.topic)).toEqual(['sale.refunded', 'seat.status-changed']);
    expect(recorded[0].payload as SaleRefundedEvent).toEqual({
      saleId: sale.id,
      refundId: stored!.id,
      reservationId: reservation.id,
      userId: owner.userId,
      sessionId: session.id,
      amountCents: 2_000,
      saleAmountCents: 2_000,
      percent: 100,
      reason: null,
      refundedBy: owner.userId,
      seatIds,
      seatsReleased: true,
      changedAt: booking.harness.clock.fixedNow.toISOString(),
    });
    const seatChange = recorded[1].payload as SeatStatusChangedEvent;
    expect(seatChange.reservationId).toBe(reservation.id);
    expect(
      [...seatChange.seats]
        .sort((left, right) => left.id.localeCompare(right.id))
        .map((seat) => [seat.id, seat.status, seat.version]),
    ).toEqual(seatIds.map((id) => [id, SeatStatus.AVAILABLE, 4]));
    const outbox = await booking.harness
      .em()
      .execute<{ topic: string }[]>(
        `select topic from outbox_event where payload->>'sessionId' = ? and topic in ('sale.refunded', 'seat.status-changed') order by id desc limit 2`,
        [session.id],
      );
    expect(outbox.map((row) => row.topic).sort()).toEqual(['sale.refunded', 'seat.status-changed']);
  });

  it('refunds the owner 50 % (rounded down) while more than 12 h remain, exactly 24 h included', async () => {
    const half = await paidSale({ hoursBeforeStart: 18, seatCount: 3, priceCents: 333 });
    await refund(half.owner, half.sale.id);
    expect(await storedRefund(half.sale.id)).toMatchObject({ percent: 50, amountCents: 499 });

    const boundary = await paidSale({ hoursBeforeStart: 24 });
    await refund(boundary.owner, boundary.sale.id);
    expect(await storedRefund(boundary.sale.id)).toMatchObject({ percent: 50, amountCents: 1_000 });
  });

  it('answers the owner REFUND_NOT_ALLOWED from 12 h before the start, and after it, changing nothing', async () => {
    for (const hoursBeforeStart of [12, 6, 0, -1]) {
      const { session, owner, sale } = await paidSale({ hoursBeforeStart });
      await expectRefused(sale.id, session.id, () => refund(owner, sale.id, { reason: 'Cannot come' }), {
        code: 'REFUND_NOT_ALLOWED',
        details: { saleId: sale.id },
      });
    }
  });

  it('lets an admin refund late at the policy (0 %) by default, seats back on sale since the session has not started', async () => {
    const { seatIds, sale } = await paidSale({ hoursBeforeStart: 6 });
    const admin = someAdmin();
    const refunded = await refund(admin, sale.id);
    expect(refunded.status).toBe(SaleStatus.REFUNDED);
    expect(await storedRefund(sale.id)).toMatchObject({
      percent: 0,
      amountCents: 0,
      reason: null,
      refundedBy: admin.userId,
    });
    const seats = await repositoriesOf(booking.harness.em()).seats.findByIds(seatIds, booking.harness.clock);
    expect(seats.map((seat) => seat.status)).toEqual([SeatStatus.AVAILABLE, SeatStatus.AVAILABLE]);
  });

  it('lets an admin choose the percent with a reason (trimmed), and without one when it is the policy', async () => {
    const forced = await paidSale({ hoursBeforeStart: 2 });
    await refund(someAdmin(), forced.sale.id, { percent: 100, reason: '  Projector broke  ' });
    expect(await storedRefund(forced.sale.id)).toMatchObject({
      percent: 100,
      amountCents: 2_000,
      reason: 'Projector broke',
    });

    const asPolicy = await paidSale({ hoursBeforeStart: 30 });
    await refund(someAdmin(), asPolicy.sale.id, { percent: 100 });
    expect(await storedRefund(asPolicy.sale.id)).toMatchObject({ percent: 100, reason: null });

    const partial = await paidSale({ hoursBeforeStart: 30, seatCount: 1, priceCents: 999 });
    await refund(someAdmin(), partial.sale.id, { percent: 33, reason: 'Goodwill' });
    expect(await storedRefund(partial.sale.id)).toMatchObject({ percent: 33, amountCents: 329 });
  });

  it('refuses, changing nothing: an admin percent other than the policy without a reason, a percent outside 0-100, a bad reason', async () => {
    const { session, owner, sale } = await paidSale({ hoursBeforeStart: 6 });
    const admin = someAdmin();
    const cases: [{ reason?: string | null; percent?: number | null }, string][] = [
      [{ percent: 100 }, 'reason'],
      [{ percent: 50, reason: null }, 'reason'],
      [{ percent: 101, reason: 'Too much' }, 'percent'],
      [{ percent: -1, reason: 'Negative' }, 'percent'],
      [{ percent: 100, reason: '   ' }, 'reason'],
      [{ percent: 100, reason: 'x'.repeat(501) }, 'reason'],
      [{ percent: 100, reason: 'line\u0000break' }, 'reason'],
    ];
    for (const [options, field] of cases) {
      await expectRefused(sale.id, session.id, () => refund(admin, sale.id, options), {
        code: 'BAD_USER_INPUT',
        details: { field },
      });
    }
    // A blank reason is refused for the owner too, before anything is read.
    await expectRefused(sale.id, session.id, () => refund(owner, sale.id, { reason: '' }), {
      code: 'BAD_USER_INPUT',
      details: { field: 'reason' },
    });
  });

  it('answers FORBIDDEN to a customer choosing a percent (even the policy) and to anyone else but an admin, NOT_FOUND for an unknown sale', async () => {
    const { session, owner, sale } = await paidSale({ hoursBeforeStart: 30 });
    for (const percent of [100, 50, 101]) {
      await expectRefused(sale.id, session.id, () => refund(owner, sale.id, { percent }), {
        code: 'FORBIDDEN',
      });
    }
    await expectRefused(sale.id, session.id, () => refund(someUser(), sale.id), { code: 'FORBIDDEN' });
    const unknown = randomUUID();
    await expectRefused(sale.id, session.id, () => refund(someAdmin(), unknown), {
      code: 'NOT_FOUND',
      details: { id: unknown },
    });
  });

  it('returns a REFUNDED sale unchanged when asked again, whoever asks and whatever the percent', async () => {
    const { session, owner, sale } = await paidSale({ hoursBeforeStart: 30 });
    await refund(owner, sale.id);
    const first = await storedRefund(sale.id);
    const before = await footprint(sale.id, session.id);

    const again = await refund(owner, sale.id);
    const forced = await refund(someAdmin(), sale.id, { percent: 10, reason: 'Different' });

    expect([again.status, forced.status]).toEqual([SaleStatus.REFUNDED, SaleStatus.REFUNDED]);
    expect(await footprint(sale.id, session.id)).toEqual(before);
    expect(await storedRefund(sale.id)).toEqual(first);
    // Even late, the owner gets the refunded sale back rather than REFUND_NOT_ALLOWED.
    booking.harness.clock.advance(29 * HOUR);
    expect((await refund(owner, sale.id)).status).toBe(SaleStatus.REFUNDED);
  });

  it('refunds once under concurrent calls: one refund row, one sale.refunded event, seats released once', async () => {
    const { session, owner, seatIds, sale } = await paidSale({ hoursBeforeStart: 30 });
    const eventsBefore = booking.harness.events.length;
    const results = await Promise.all([
      refund(owner, sale.id),
      refund(owner, sale.id),
      refund(someAdmin(), sale.id),
      refund(owner, sale.id),
    ]);
    expect(results.map((result) => result.status)).toEqual(Array(4).fill(SaleStatus.REFUNDED));
    const [{ refunds }] = await booking.harness
      .em()
      .execute<{ refunds: number }[]>('select count(*)::int as refunds from refund where sale_id = ?', [
        sale.id,
      ]);
    expect(refunds).toBe(1);
    expect(booking.harness.events.slice(eventsBefore).map((event) => event.topic)).toEqual([
      'sale.refunded',
      'seat.status-changed',
    ]);
    const [{ outbox }] = await booking.harness
      .em()
      .execute<{ outbox: number }[]>(
        `select count(*)::int as outbox from outbox_event where topic = 'sale.refunded' and payload->>'sessionId' = ?`,
        [session.id],
      );
    expect(outbox).toBe(1);
    const seats = await repositoriesOf(booking.harness.em()).seats.findByIds(seatIds, booking.harness.clock);
    expect(seats.map((seat) => seat.version)).toEqual([4, 4]);
  });

  it('keeps the seats SOLD when an admin refunds after the start (no seat event)', async () => {
    const { reservation, seatIds, sale } = await paidSale({ hoursBeforeStart: -2 });
    const eventsBefore = booking.harness.events.length;
    await refund(someAdmin(), sale.id, { percent: 100, reason: 'Film did not play' });
    expect(await storedRefund(sale.id)).toMatchObject({ percent: 100, amountCents: 2_000 });
    const seats = await repositoriesOf(booking.harness.em()).seats.findByIds(seatIds, booking.harness.clock);
    expect(seats.map((seat) => [seat.status, seat.version])).toEqual([
      [SeatStatus.SOLD, 3],
      [SeatStatus.SOLD, 3],
    ]);
    const links = await booking.harness
      .em()
      .execute<{ live: boolean }[]>('select live from reservation_seat where reservation_id = ?', [
        reservation.id,
      ]);
    expect(links).toEqual([{ live: true }, { live: true }]);
    const recorded = booking.harness.events.slice(eventsBefore);
    expect(recorded.map((event) => event.topic)).toEqual(['sale.refunded']);
    expect(recorded[0].payload).toMatchObject({ seatIds, seatsReleased: false, percent: 100 });
  });

  it('lets a refunded seat be reserved and sold again', async () => {
    const { session, owner, seatIds, sale } = await paidSale({ hoursBeforeStart: 30 });
    await refund(owner, sale.id);
    const buyer = someUser();
    const again = await reserve(booking.harness.deps, booking.harness.em(), buyer, {
      sessionId: session.id,
      seatIds,
    });
    expect(again.status).toBe(ReservationStatus.PENDING);
    const resold = await confirmPayment(booking.harness.deps, booking.harness.em(), buyer, again.id);
    expect(resold.status).toBe(SaleStatus.PAID);
    const seats = await repositoriesOf(booking.harness.em()).seats.findByIds(seatIds, booking.harness.clock);
    expect(seats.map((seat) => [seat.status, seat.version])).toEqual([
      [SeatStatus.SOLD, 6],
      [SeatStatus.SOLD, 6],
    ]);
  });
});
