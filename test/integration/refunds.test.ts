import { randomUUID } from 'node:crypto';
import { type Client } from 'graphql-ws';
import {
  type ConfirmPaymentMutation,
  type ConfirmPaymentMutationVariables,
  RefundSaleDocument,
  type RefundSaleMutation,
  type RefundSaleMutationVariables,
  type ReserveMutation,
  type ReserveMutationVariables,
  SalesHistoryDocument,
  type SalesHistoryQuery,
  type SalesHistoryQueryVariables,
} from '../../client/generated/graphql';
import { SaleStatus } from '../../src/entities/enums';
import { uuidv7 } from '../../src/infra/uuid';
import {
  CONFIRM_PAYMENT,
  createSession,
  insertStartedSession,
  RESERVE,
  sessionFootprint,
} from '../support/factories';
import { captureLogs } from '../support/log-capture';
import { countQueries } from '../support/sql-count';
import { ClientPool, subscribe, type TestSubscription } from '../support/subscriptions';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';
import { eventually } from '../support/wait';

const HOUR = 3_600_000;

/**
 * refundSale over HTTP against the whole service, on the database clock: sessions are created
 * at the distances from now that each rule needs (no sleeping, no clock to move).
 */
describe('refunds', () => {
  let testApp: TestApp;
  const logs = captureLogs();
  const clients = new ClientPool(
    () => testApp.url,
    () => testApp.app.subscriptionSignals,
  );

  beforeAll(async () => {
    testApp = await startTestApp({}, logs.logger);
  });

  afterAll(async () => {
    await clients.disposeAll();
    await testApp.stop();
  });

  const client = (token?: string): Client => clients.open(token);

  /** The next result of `watcher` whose data satisfies `wanted` (earlier ones are skipped). */
  async function nextMatching<Data>(
    watcher: TestSubscription<Data>,
    wanted: (data: Data) => boolean,
  ): Promise<Data> {
    for (;;) {
      const result = await watcher.next();
      expect(result.errors).toBeUndefined();
      if (wanted(result.data!)) {
        return result.data!;
      }
    }
  }

  // Typed explicitly: with optional variables left out, the call would not infer its types.
  const refundSale = (variables: RefundSaleMutationVariables, token?: string) =>
    testApp.graphql<RefundSaleMutation, RefundSaleMutationVariables>(RefundSaleDocument, variables, token);

  /** Holds `seatIds` for `token`'s user and answers the reservation id. */
  async function reserveSeats(sessionId: string, seatIds: string[], token: string): Promise<string> {
    const reserved = await testApp.graphql<ReserveMutation, ReserveMutationVariables>(
      RESERVE,
      { input: { sessionId, seatIds } },
      token,
    );
    expect(reserved.errors).toBeUndefined();
    return reserved.data!.reserve.id;
  }

  const pay = (reservationId: string, token: string) =>
    testApp.graphql<ConfirmPaymentMutation, ConfirmPaymentMutationVariables>(
      CONFIRM_PAYMENT,
      { reservationId },
      token,
    );

  /** A sale of `seatCount` seats of a new session starting `hoursFromNow` from now, paid by a new user. */
  async function paidSale({ hoursFromNow = 48, seatCount = 2, priceCents = 1_250 } = {}) {
    const session = await createSession(testApp, {
      rows: 1,
      seatsPerRow: 4,
      priceCents,
      startsAt: new Date(Date.now() + hoursFromNow * HOUR).toISOString(),
    });
    const ownerId = uniqueUser();
    const owner = await testApp.token(ownerId);
    const seatIds = session.seats.slice(0, seatCount).map((seat) => seat.id);
    const reservationId = await reserveSeats(session.id, seatIds, owner);
    const paid = await pay(reservationId, owner);
    return { session, ownerId, owner, seatIds, reservationId, saleId: paid.data!.confirmPayment.id };
  }

  /** A paid sale of both seats of a session that has started, written straight to the database (the API refuses to sell it). */
  async function paidSaleOfStartedSession() {
    const session = await insertStartedSession(testApp);
    const em = testApp.app.orm.em.fork();
    const ownerId = uniqueUser();
    const [reservationId, saleId] = [uuidv7(), uuidv7()];
    await em.execute(`update seat set status = 'SOLD', version = 3 where session_id = ?`, [session.id]);
    await em.execute(
      `insert into reservation (id, user_id, session_id, status, expires_at, created_at, updated_at, total_cents)
       values (?, ?, ?, 'CONFIRMED', now() - interval '119 minutes', now() - interval '2 hours', now() - interval '2 hours', 1800)`,
      [reservationId, ownerId, session.id],
    );
    await em.execute(
      `insert into reservation_seat (reservation_id, seat_id) select ?, id from seat where session_id = ?`,
      [reservationId, session.id],
    );
    await em.execute(
      `insert into sale (id, user_id, reservation_id, session_id, amount_cents, created_at)
       values (?, ?, ?, ?, 1800, now() - interval '2 hours')`,
      [saleId, ownerId, reservationId, session.id],
    );
    return {
      sessionId: session.id,
      seatIds: session.seats.map((seat) => seat.id).sort(),
      owner: await testApp.token(ownerId),
      saleId,
    };
  }

  /** What a refund may change beyond the session's rows: the sale's status and refund rows. */
  async function saleFootprint(saleId: string, sessionId: string) {
    const [row] = await testApp.app.orm.em
      .fork()
      .execute<{ status: string; refunds: number }[]>(
        `select status, (select count(*)::int from refund where sale_id = sale.id) as refunds from sale where id = ?`,
        [saleId],
      );
    return { ...row, session: await sessionFootprint(testApp, sessionId) };
  }

  async function expectRefusal(
    sale: { saleId: string; session?: { id: string }; sessionId?: string },
    variables: { reason?: string | null; percent?: number | null },
    token: string,
    code: string,
    field?: string,
  ): Promise<void> {
    const sessionId = sale.session?.id ?? sale.sessionId!;
    const before = await saleFootprint(sale.saleId, sessionId);
    const response = await refundSale({ saleId: sale.saleId, ...variables }, token);
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0].extensions.code).toBe(code);
    if (field) {
      expect(response.errors?.[0].extensions.field).toBe(field);
    }
    expect(await saleFootprint(sale.saleId, sessionId)).toEqual(before);
  }

  it('refunds the owner in full more than 24 h ahead: seats back on sale, subscribers told, events published, a refund receipt', async () => {
    const sale = await paidSale({ hoursFromNow: 30 });
    const seatWatcher = await subscribe<{
      seatStatusChanged: { reservationId: string; seats: { id: string; status: string; version: number }[] };
    }>(
      client(),
      `subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { reservationId seats { id status version } } }`,
      { id: sale.session.id },
    );
    const reservationWatcher = await subscribe<{
      reservationUpdated: { status: string; sale: { status: string; refund: { percent: number } | null } };
    }>(
      client(sale.owner),
      `subscription ($id: ID!) { reservationUpdated(reservationId: $id) { status sale { status refund { percent } } } }`,
      { id: sale.reservationId },
    );

    const response = await refundSale({ saleId: sale.saleId }, sale.owner);

    expect(response.errors).toBeUndefined();
    const refunded = response.data!.refundSale;
    expect(refunded).toMatchObject({
      id: sale.saleId,
      userId: sale.ownerId,
      status: 'REFUNDED',
      amountCents: 2_500,
      refund: { amountCents: 2_500, percent: 100, reason: null, refundedBy: sale.ownerId },
      reservation: { id: sale.reservationId, status: 'CONFIRMED' },
    });
    expect(refunded.seats.map((seat) => [seat.id, seat.status, seat.version])).toEqual(
      sale.seatIds.map((id) => [id, 'AVAILABLE', 4]),
    );

    // The payment's own events may still be on their way: skip to the refund's.
    const seatChange = await nextMatching(seatWatcher, (data) =>
      data.seatStatusChanged.seats.every((seat) => seat.status === 'AVAILABLE'),
    );
    expect(seatChange.seatStatusChanged.reservationId).toBe(sale.reservationId);
    expect(
      seatChange.seatStatusChanged.seats.map((seat) => [seat.id, seat.status, seat.version]).sort(),
    ).toEqual(sale.seatIds.map((id) => [id, 'AVAILABLE', 4]).sort());
    const update = await nextMatching(
      reservationWatcher,
      (data) => data.reservationUpdated.sale.status === 'REFUNDED',
    );
    expect(update.reservationUpdated).toEqual({
      status: 'CONFIRMED',
      sale: { status: 'REFUNDED', refund: { percent: 100 } },
    });

    const em = testApp.app.orm.em.fork();
    await eventually(
      async () => {
        const rows = await em.execute<{ topic: string; published: boolean }[]>(
          `select topic, published_at is not null as published from outbox_event
          where payload->>'sessionId' = ? and topic in ('sale.refunded', 'seat.status-changed')
            and (topic = 'sale.refunded' or payload->'seats'->0->>'status' = 'AVAILABLE')`,
          [sale.session.id],
        );
        return rows.length === 2 && rows.every((row) => row.published);
      },
      5_000,
      'the refund events published',
    );
    const receipt = await eventually(
      () =>
        logs
          .lines()
          .map((line) => line.receipt as { kind?: string; saleId?: string } | undefined)
          .find((candidate) => candidate?.kind === 'refund' && candidate.saleId === sale.saleId),
      5_000,
      'the refund receipt',
    );
    expect(receipt).toMatchObject({
      kind: 'refund',
      reservationId: sale.reservationId,
      userId: sale.ownerId,
      sessionId: sale.session.id,
      amountCents: 2_500,
      seatIds: sale.seatIds,
      refund: { percent: 100, saleAmountCents: 2_500, reason: null },
    });

    // Asked again: the same sale, unchanged.
    const before = await saleFootprint(sale.saleId, sale.session.id);
    const again = await refundSale({ saleId: sale.saleId }, sale.owner);
    expect(again.data!.refundSale.refund).toEqual(refunded.refund);
    expect(await saleFootprint(sale.saleId, sale.session.id)).toEqual(before);
  });

  it('refunds the owner half while more than 12 h remain, and refuses REFUND_NOT_ALLOWED later, changing nothing', async () => {
    const half = await paidSale({ hoursFromNow: 18, seatCount: 1, priceCents: 1_001 });
    const response = await refundSale({ saleId: half.saleId }, half.owner);
    expect(response.data!.refundSale.refund).toMatchObject({ percent: 50, amountCents: 500 });

    const late = await paidSale({ hoursFromNow: 6 });
    await expectRefusal(late, {}, late.owner, 'REFUND_NOT_ALLOWED');
    await expectRefusal(late, { reason: 'Sick' }, late.owner, 'REFUND_NOT_ALLOWED');

    const started = await paidSaleOfStartedSession();
    await expectRefusal(started, {}, started.owner, 'REFUND_NOT_ALLOWED');
  });

  it('lets an admin refund late: the policy (0 %) by default, or a chosen percent with a reason', async () => {
    const admin = await testApp.token(uniqueUser('admin'), { admin: true });
    const late = await paidSale({ hoursFromNow: 6 });
    const byPolicy = await refundSale({ saleId: late.saleId }, admin);
    expect(byPolicy.data!.refundSale).toMatchObject({
      status: 'REFUNDED',
      refund: { percent: 0, amountCents: 0, reason: null },
    });
    expect(byPolicy.data!.refundSale.seats.map((seat) => seat.status)).toEqual(['AVAILABLE', 'AVAILABLE']);

    const forced = await paidSale({ hoursFromNow: 6 });
    const withReason = await refundSale(
      { saleId: forced.saleId, percent: 100, reason: ' Projector broke ' },
      admin,
    );
    expect(withReason.data!.refundSale.refund).toMatchObject({
      percent: 100,
      amountCents: 2_500,
      reason: 'Projector broke',
    });

    // After the start: refunded, but the seats stay SOLD.
    const started = await paidSaleOfStartedSession();
    const afterStart = await refundSale(
      { saleId: started.saleId, percent: 100, reason: 'The film did not play' },
      admin,
    );
    expect(afterStart.data!.refundSale).toMatchObject({ status: 'REFUNDED', refund: { amountCents: 1_800 } });
    expect(afterStart.data!.refundSale.seats.map((seat) => [seat.status, seat.version])).toEqual([
      ['SOLD', 3],
      ['SOLD', 3],
    ]);
  });

  it('refuses bad arguments and other users, changing nothing', async () => {
    const admin = await testApp.token(uniqueUser('admin'), { admin: true });
    const sale = await paidSale({ hoursFromNow: 6 });
    await expectRefusal(sale, { percent: 100 }, admin, 'BAD_USER_INPUT', 'reason');
    await expectRefusal(sale, { percent: 100, reason: '  ' }, admin, 'BAD_USER_INPUT', 'reason');
    await expectRefusal(sale, { percent: 101, reason: 'Too much' }, admin, 'BAD_USER_INPUT', 'percent');
    await expectRefusal(sale, { percent: -1, reason: 'Negative' }, admin, 'BAD_USER_INPUT', 'percent');
    const early = await paidSale({ hoursFromNow: 30 });
    await expectRefusal(early, { percent: 100 }, early.owner, 'FORBIDDEN');
    await expectRefusal(early, { percent: 50, reason: 'Half please' }, early.owner, 'FORBIDDEN');
    await expectRefusal(early, {}, await testApp.token(uniqueUser()), 'FORBIDDEN');

    const before = await saleFootprint(early.saleId, early.session.id);
    const unknown = await refundSale({ saleId: randomUUID() }, admin);
    expect(unknown.errors?.[0].extensions.code).toBe('NOT_FOUND');
    const malformed = await refundSale({ saleId: 'sale-1' }, admin);
    expect(malformed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'saleId' });
    const anonymous = await refundSale({ saleId: early.saleId });
    expect(anonymous.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await saleFootprint(early.saleId, early.session.id)).toEqual(before);
  });

  it('refunds once when two refunds race: one refund row, both answered with it', async () => {
    const sale = await paidSale({ hoursFromNow: 30 });
    const admin = await testApp.token(uniqueUser('admin'), { admin: true });
    const answers = await Promise.all([
      refundSale({ saleId: sale.saleId }, sale.owner),
      refundSale({ saleId: sale.saleId }, admin),
    ]);
    expect(answers.map((answer) => answer.errors)).toEqual([undefined, undefined]);
    const [first, second] = answers.map((answer) => answer.data!.refundSale.refund!);
    expect(second).toEqual(first);
    const em = testApp.app.orm.em.fork();
    const rows = await em.execute<{ id: string }[]>('select id from refund where sale_id = ?', [sale.saleId]);
    expect(rows).toEqual([{ id: first.id }]);
    const [{ events }] = await em.execute<{ events: number }[]>(
      `select count(*)::int as events from outbox_event where topic = 'sale.refunded' and payload->>'saleId' = ?`,
      [sale.saleId],
    );
    expect(events).toBe(1);
  });

  it('puts refunded seats back on sale: another user reserves and buys them', async () => {
    const sale = await paidSale({ hoursFromNow: 30 });
    await refundSale({ saleId: sale.saleId }, sale.owner);
    const buyer = await testApp.token(uniqueUser());
    const paid = await pay(await reserveSeats(sale.session.id, sale.seatIds, buyer), buyer);
    expect(paid.data!.confirmPayment.seats.map((seat) => [seat.status, seat.version])).toEqual([
      ['SOLD', 6],
      ['SOLD', 6],
    ]);
  });

  it('shows refunds in salesHistory, with a constant number of SQL queries', async () => {
    const ownerId = uniqueUser();
    const owner = await testApp.token(ownerId);
    const session = await createSession(testApp, {
      rows: 1,
      seatsPerRow: 6,
      startsAt: new Date(Date.now() + 30 * HOUR).toISOString(),
    });
    const saleIds: string[] = [];
    for (const seat of session.seats) {
      const paid = await pay(await reserveSeats(session.id, [seat.id], owner), owner);
      saleIds.push(paid.data!.confirmPayment.id);
    }
    // Every other sale refunded.
    for (const saleId of saleIds.filter((_saleId, index) => index % 2 === 0)) {
      await refundSale({ saleId, reason: 'Plans changed' }, owner);
    }

    // The receipts consumer reads the database for each payment and refund: let it finish first.
    const em = testApp.app.orm.em.fork();
    await eventually(
      async () => {
        const [{ pending }] = await em.execute<{ pending: number }[]>(
          `select count(*)::int as pending from outbox_event o
            where o.payload->>'sessionId' = ? and o.topic in ('reservation.confirmed', 'sale.refunded')
              and not exists (select 1 from consumed_message cm
                               where cm.consumer = 'receipts' and cm.message_id = o.id::text)`,
          [session.id],
        );
        return pending === 0;
      },
      5_000,
      'the receipts',
    );
    const history = await countQueries(testApp.app, () =>
      testApp.graphql<SalesHistoryQuery, SalesHistoryQueryVariables>(
        SalesHistoryDocument,
        { first: 10 },
        owner,
      ),
    );
    const nodes = history.result.data!.salesHistory.edges.map((edge) => edge.node);
    expect(nodes.map((node) => node.id)).toEqual([...saleIds].reverse());
    expect(
      nodes.map((node) => [node.status, node.refund?.percent ?? null, node.refund?.reason ?? null]),
    ).toEqual(
      [...saleIds].reverse().map((_saleId, index) =>
        // Newest first: the last sale (index 5) was not refunded.
        (5 - index) % 2 === 0 ? ['REFUNDED', 100, 'Plans changed'] : ['PAID', null, null],
      ),
    );
    expect(
      nodes
        .filter((node) => node.status === SaleStatus.REFUNDED)
        .every((node) => node.refund?.refundedBy === ownerId),
    ).toBe(true);
    // The page, then the reservations and the refunds, each in one query.
    expect(history.queries).toBeLessThanOrEqual(3);
  });
});
