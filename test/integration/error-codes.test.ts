import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../src/infra/clock';
import {
  CANCEL_RESERVATION,
  CONFIRM_PAYMENT,
  CREATE_SESSION,
  createSession,
  insertStartedSession,
  expectNothingLeftBehind,
  lockedSeatCount,
  RESERVE,
  sessionFootprint,
  type SessionFixture,
} from '../support/factories';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

/**
 * Every error code this API produces for booking input, each checked to leave nothing behind:
 * no reservation, link, sale or outbox row, no changed seat, no Redis lock.
 */
describe('error codes', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });

  afterAll(async () => {
    await testApp.stop();
  });

  const expectUntouched = (session: SessionFixture, act: () => Promise<void>): Promise<void> =>
    expectNothingLeftBehind(testApp, session, act);

  async function reserveError(token: string, input: Record<string, unknown>) {
    const response = await testApp.graphql(RESERVE, { input }, token);
    expect(response.data ?? null).toBeNull();
    return response.errors![0];
  }

  it('BAD_USER_INPUT: empty, duplicate, malformed, too many, or foreign seats, and a malformed session id', async () => {
    const session = await createSession(testApp, { rows: 3, seatsPerRow: 5 });
    const other = await createSession(testApp);
    const user = await testApp.token(uniqueUser());
    const [a, b] = session.seats;
    await expectUntouched(session, async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ sessionId: session.id, seatIds: [] }, 'seatIds'],
        [{ sessionId: session.id, seatIds: [a.id, a.id] }, 'seatIds'],
        [{ sessionId: session.id, seatIds: [a.id, a.id.toUpperCase()] }, 'seatIds'],
        [{ sessionId: session.id, seatIds: ['seat-1'] }, 'seatIds'],
        [{ sessionId: session.id, seatIds: session.seats.slice(0, 11).map((seat) => seat.id) }, 'seatIds'],
        [{ sessionId: 'not-a-uuid', seatIds: [a.id] }, 'sessionId'],
        [{ sessionId: session.id, seatIds: [b.id, other.seats[0].id] }, 'seatIds'],
        [{ sessionId: session.id, seatIds: [a.id], idempotencyKey: '' }, 'idempotencyKey'],
      ];
      for (const [input, field] of cases) {
        const error = await reserveError(user, input);
        expect(error.extensions.code).toBe('BAD_USER_INPUT');
        expect(JSON.stringify(error.extensions)).toContain(field);
      }
    });
  });

  it('BAD_USER_INPUT: createSession with bad sizes, blank names or a past start creates nothing', async () => {
    const admin = await testApp.token(uniqueUser('admin'), { admin: true });
    const valid = {
      movie: 'Valid',
      room: 'R',
      startsAt: new Date(Date.now() + 3_600_000).toISOString(),
      priceCents: 100,
      rows: 2,
      seatsPerRow: 2,
    };
    const invalid: [Record<string, unknown>, string][] = [
      [{ rows: 0 }, 'rows'],
      [{ rows: 101 }, 'rows'],
      [{ seatsPerRow: 0 }, 'seatsPerRow'],
      [{ priceCents: -1 }, 'priceCents'],
      [{ movie: '' }, 'movie'],
      [{ movie: '   ' }, 'movie'],
      [{ room: 'x'.repeat(101) }, 'room'],
      [{ startsAt: new Date(Date.now() - 1_000).toISOString() }, 'startsAt'],
      [{ startsAt: '2030-01-01' }, 'startsAt'],
      [{ startsAt: 'yesterday' }, 'startsAt'],
    ];
    const em = testApp.app.orm.em.fork();
    const [{ count: before }] = await em.execute<{ count: number }[]>(
      'select count(*)::int as count from session',
    );
    for (const [override, field] of invalid) {
      const response = await testApp.graphql(CREATE_SESSION, { input: { ...valid, ...override } }, admin);
      expect(response.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(response.errors)).toContain(field);
    }
    const [{ count: after }] = await em.execute<{ count: number }[]>(
      'select count(*)::int as count from session',
    );
    expect(after).toBe(before);
  });

  it('BAD_USER_INPUT: pagination arguments', async () => {
    for (const variables of [
      { first: 0 },
      { first: 101 },
      { after: 'garbage' },
      { from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' },
    ]) {
      const response = await testApp.graphql(
        `query ($first: Int, $after: String, $from: DateTime, $to: DateTime) {
           sessions(first: $first, after: $after, from: $from, to: $to) { edges { cursor } } }`,
        variables,
      );
      expect(response.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });

  it('NOT_FOUND: unknown session, seat and reservation', async () => {
    const session = await createSession(testApp);
    const user = await testApp.token(uniqueUser());
    await expectUntouched(session, async () => {
      expect(
        (await reserveError(user, { sessionId: randomUUID(), seatIds: [session.seats[0].id] })).extensions
          .code,
      ).toBe('NOT_FOUND');
      const unknownSeat = randomUUID();
      const error = await reserveError(user, {
        sessionId: session.id,
        seatIds: [session.seats[0].id, unknownSeat],
      });
      expect(error.extensions).toEqual({ code: 'NOT_FOUND', seatIds: [unknownSeat] });
      for (const operation of [CONFIRM_PAYMENT, CANCEL_RESERVATION]) {
        const response = await testApp.graphql(operation, { reservationId: randomUUID() }, user);
        expect(response.errors?.[0].extensions.code).toBe('NOT_FOUND');
      }
      const query = await testApp.graphql(
        `query ($id: ID!) { reservation(id: $id) { id } }`,
        { id: randomUUID() },
        user,
      );
      expect(query.errors?.[0].extensions.code).toBe('NOT_FOUND');
      const seats = await testApp.graphql(`query ($id: ID!) { seats(sessionId: $id) { id } }`, {
        id: randomUUID(),
      });
      expect(seats.errors?.[0].extensions.code).toBe('NOT_FOUND');
    });
  });

  it('SEAT_UNAVAILABLE: all or none, listing the unavailable seats', async () => {
    const session = await createSession(testApp);
    const holder = await testApp.token(uniqueUser());
    const [a, b, c] = session.seats;
    const held = await testApp.graphql<{ reserve: { id: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [b.id] } },
      holder,
    );
    expect(held.errors).toBeUndefined();

    const contender = await testApp.token(uniqueUser());
    const before = await sessionFootprint(testApp, session.id);
    const error = await reserveError(contender, { sessionId: session.id, seatIds: [a.id, b.id, c.id] });
    expect(error.extensions).toEqual({ code: 'SEAT_UNAVAILABLE', seatIds: [b.id] });
    expect(await sessionFootprint(testApp, session.id)).toEqual(before);
    // a and c were not held: no lock of the contender survives.
    expect(await lockedSeatCount(testApp, session.id, [a.id, c.id])).toBe(0);
  });

  it('SEAT_UNAVAILABLE from PostgreSQL when Redis has no lock (e.g. after a flush)', async () => {
    const session = await createSession(testApp);
    const holder = await testApp.token(uniqueUser());
    const [a, b] = session.seats;
    await testApp.graphql(RESERVE, { input: { sessionId: session.id, seatIds: [a.id] } }, holder);
    await testApp.app.redis.del(`seat:{${session.id}}:${a.id}`);

    const contender = await testApp.token(uniqueUser());
    const before = await sessionFootprint(testApp, session.id);
    const error = await reserveError(contender, { sessionId: session.id, seatIds: [b.id, a.id] });
    expect(error.extensions).toEqual({ code: 'SEAT_UNAVAILABLE', seatIds: [a.id] });
    expect(await sessionFootprint(testApp, session.id)).toEqual(before);
    expect(await lockedSeatCount(testApp, session.id, [a.id, b.id])).toBe(0);
  });

  it('LIMIT_EXCEEDED: a sixth pending hold, even when requested concurrently', async () => {
    const session = await createSession(testApp, { rows: 2, seatsPerRow: 8 });
    const user = await testApp.token(uniqueUser());
    const responses = await Promise.all(
      session.seats
        .slice(0, 8)
        .map((seat) =>
          testApp.graphql(RESERVE, { input: { sessionId: session.id, seatIds: [seat.id] } }, user),
        ),
    );
    const codes = responses.map((response) => response.errors?.[0].extensions.code ?? 'OK');
    expect(codes.filter((code) => code === 'OK')).toHaveLength(5);
    expect(codes.filter((code) => code === 'LIMIT_EXCEEDED')).toHaveLength(3);

    const before = await sessionFootprint(testApp, session.id);
    const error = await reserveError(user, { sessionId: session.id, seatIds: [session.seats[10].id] });
    expect(error.extensions.code).toBe('LIMIT_EXCEEDED');
    expect(await sessionFootprint(testApp, session.id)).toEqual(before);
    expect(
      await lockedSeatCount(
        testApp,
        session.id,
        session.seats.slice(8).map((seat) => seat.id),
      ),
    ).toBe(0);
  });

  it('SESSION_CLOSED: the session has started', async () => {
    const session = await insertStartedSession(testApp);
    const user = await testApp.token(uniqueUser());
    await expectUntouched(session, async () => {
      const error = await reserveError(user, { sessionId: session.id, seatIds: [session.seats[0].id] });
      expect(error.extensions.code).toBe('SESSION_CLOSED');
    });
  });

  it('RESERVATION_EXPIRED: paying or cancelling an ended hold, which frees its seats', async () => {
    // A process of its own on a manual clock, with no worker: the holds end when the test moves
    // the clock to their end, and the mutations themselves find them over and free their seats.
    const clock = new ManualClock(new Date());
    const onClock = await startTestApp({ ROLE: 'api' }, undefined, { clock });
    try {
      const session = await createSession(onClock);
      const user = await onClock.token(uniqueUser());
      const [a, b] = session.seats;
      const pay = await onClock.graphql<{ reserve: { id: string } }>(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [a.id] } },
        user,
      );
      const cancel = await onClock.graphql<{ reserve: { id: string } }>(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [b.id] } },
        user,
      );
      clock.advance(onClock.app.config.booking.holdSeconds * 1_000);

      const paid = await onClock.graphql(CONFIRM_PAYMENT, { reservationId: pay.data!.reserve.id }, user);
      expect(paid.errors?.[0].extensions.code).toBe('RESERVATION_EXPIRED');
      const cancelled = await onClock.graphql(
        CANCEL_RESERVATION,
        { reservationId: cancel.data!.reserve.id },
        user,
      );
      expect(cancelled.errors?.[0].extensions.code).toBe('RESERVATION_EXPIRED');
      const again = await onClock.graphql(CONFIRM_PAYMENT, { reservationId: pay.data!.reserve.id }, user);
      expect(again.errors?.[0].extensions.code).toBe('RESERVATION_EXPIRED');

      const em = onClock.app.orm.em.fork();
      const rows = await em.execute<{ status: string; version: number }[]>(
        'select status, version from seat where id in (?, ?) order by id',
        [a.id, b.id],
      );
      expect(rows).toEqual([
        { status: 'AVAILABLE', version: 3 },
        { status: 'AVAILABLE', version: 3 },
      ]);
      const [{ count }] = await em.execute<{ count: number }[]>(
        'select count(*)::int as count from sale where session_id = ?',
        [session.id],
      );
      expect(count).toBe(0);
    } finally {
      await onClock.stop();
    }
  });

  it('INVALID_STATE: cancelling a confirmed reservation changes nothing', async () => {
    const session = await createSession(testApp);
    const user = await testApp.token(uniqueUser());
    const reserved = await testApp.graphql<{ reserve: { id: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      user,
    );
    await testApp.graphql(CONFIRM_PAYMENT, { reservationId: reserved.data!.reserve.id }, user);
    await expectUntouched(session, async () => {
      const response = await testApp.graphql(
        CANCEL_RESERVATION,
        { reservationId: reserved.data!.reserve.id },
        user,
      );
      expect(response.errors?.[0].extensions.code).toBe('INVALID_STATE');
    });
  });

  it('REFUND_NOT_ALLOWED: the owner refunding less than 12 h before the start changes nothing', async () => {
    const session = await createSession(testApp, {
      startsAt: new Date(Date.now() + 6 * 3_600_000).toISOString(),
    });
    const user = await testApp.token(uniqueUser());
    const reserved = await testApp.graphql<{ reserve: { id: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      user,
    );
    const paid = await testApp.graphql<{ confirmPayment: { id: string } }>(
      CONFIRM_PAYMENT,
      { reservationId: reserved.data!.reserve.id },
      user,
    );
    const saleId = paid.data!.confirmPayment.id;
    const refundRows = () =>
      testApp.app.orm.em
        .fork()
        .execute<{ status: string; refunds: number }[]>(
          `select status, (select count(*)::int from refund where sale_id = sale.id) as refunds from sale where id = ?`,
          [saleId],
        );
    const before = await refundRows();
    await expectUntouched(session, async () => {
      const response = await testApp.graphql(
        `mutation ($saleId: ID!) { refundSale(saleId: $saleId) { id } }`,
        { saleId },
        user,
      );
      expect(response.errors?.[0].extensions).toEqual({ code: 'REFUND_NOT_ALLOWED', saleId });
    });
    expect(await refundRows()).toEqual(before);
    expect(before).toEqual([{ status: 'PAID', refunds: 0 }]);
  });

  it('UNAUTHENTICATED and FORBIDDEN leave nothing behind', async () => {
    const session = await createSession(testApp);
    const owner = await testApp.token(uniqueUser());
    const reserved = await testApp.graphql<{ reserve: { id: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      owner,
    );
    const stranger = await testApp.token(uniqueUser());
    await expectUntouched({ ...session, seats: session.seats.slice(1) }, async () => {
      const anonymous = await testApp.graphql(RESERVE, {
        input: { sessionId: session.id, seatIds: [session.seats[1].id] },
      });
      expect(anonymous.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
      for (const operation of [CONFIRM_PAYMENT, CANCEL_RESERVATION]) {
        const response = await testApp.graphql(
          operation,
          { reservationId: reserved.data!.reserve.id },
          stranger,
        );
        expect(response.errors?.[0].extensions.code).toBe('FORBIDDEN');
      }
    });
  });
});
