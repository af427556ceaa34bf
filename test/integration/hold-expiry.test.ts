import { createSession, RESERVE } from '../support/factories';
import { passTime } from '../support/pass-time';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

/** A hold ends at `expiresAt` by the database clock, with no worker running. */
describe('hold expiry without workers', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    // No worker: nothing marks the hold over, the clock alone ends it.
    testApp = await startTestApp({ ROLE: 'api' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('reads an ended hold as free and lets someone else take it at once', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 3 });
    const [a, b] = session.seats;
    const first = await testApp.token(uniqueUser('first'));
    const held = await testApp.graphql<{ reserve: { id: string; expiresAt: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [a.id, b.id] } },
      first,
    );
    const reservationId = held.data!.reserve.id;
    // A whole hold passes (in the database, whose clock judges it): the hold is over. Its seats'
    // Redis locks go with it (their TTL is the hold's).
    await passTime(
      testApp,
      { sessionId: session.id, seatIds: [a.id, b.id] },
      testApp.app.config.booking.holdSeconds,
    );

    const seatMap = await testApp.graphql<{
      session: { availableSeats: number; seats: { status: string }[] };
    }>(`query ($id: ID!) { session(id: $id) { availableSeats seats { status } } }`, { id: session.id });
    expect(seatMap.data!.session).toEqual({
      availableSeats: 3,
      seats: [{ status: 'AVAILABLE' }, { status: 'AVAILABLE' }, { status: 'AVAILABLE' }],
    });
    const stale = await testApp.graphql<{ reservation: { status: string } }>(
      `query ($id: ID!) { reservation(id: $id) { status } }`,
      { id: reservationId },
      first,
    );
    expect(stale.data!.reservation.status).toBe('EXPIRED');

    const second = await testApp.token(uniqueUser('second'));
    const takeover = await testApp.graphql<{
      reserve: { seats: { id: string; status: string; version: number }[] };
    }>(RESERVE, { input: { sessionId: session.id, seatIds: [a.id] } }, second);
    expect(takeover.errors).toBeUndefined();
    // RESERVED (2), released by the expiry (3), RESERVED again (4).
    expect(takeover.data!.reserve.seats).toEqual([{ id: a.id, label: 'A1', status: 'RESERVED', version: 4 }]);

    const em = testApp.app.orm.em.fork();
    const [previous] = await em.execute<{ status: string }[]>('select status from reservation where id = ?', [
      reservationId,
    ]);
    expect(previous.status).toBe('EXPIRED');
    // The other seat of the ended hold was freed too, and says so in its version.
    const [other] = await em.execute<{ status: string; version: number }[]>(
      'select status, version from seat where id = ?',
      [b.id],
    );
    expect(other).toEqual({ status: 'AVAILABLE', version: 3 });
    const topics = await em.execute<{ topic: string }[]>(
      `select topic from outbox_event where payload->>'sessionId' = ? order by id`,
      [session.id],
    );
    expect(topics.map((row) => row.topic)).toEqual([
      'reservation.created',
      'seat.status-changed',
      'reservation.expired',
      'seat.status-changed',
      'reservation.created',
      'seat.status-changed',
    ]);
  });

  it('does not count ended holds against the per-user limit', async () => {
    // Holds of a minute: on a slow machine the five are surely still running when the sixth
    // is asked for (with this suite's one-second holds the expiry consumer could end them first).
    const longHolds = await startTestApp({ HOLD_SECONDS: '60' });
    try {
      const session = await createSession(longHolds, { rows: 1, seatsPerRow: 7 });
      const userId = uniqueUser();
      const user = await longHolds.token(userId);
      for (const seat of session.seats.slice(0, 5)) {
        const held = await longHolds.graphql(
          RESERVE,
          { input: { sessionId: session.id, seatIds: [seat.id] } },
          user,
        );
        expect(held.errors).toBeUndefined();
      }
      const refused = await longHolds.graphql(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [session.seats[5].id] } },
        user,
      );
      expect(refused.errors?.[0].extensions.code).toBe('LIMIT_EXCEEDED');
      // The clock is moved in the database (it decides when holds end), not waited for: the
      // five holds have ended before the next one.
      await longHolds.app.orm.em
        .fork()
        .execute(`update reservation set expires_at = now() - interval '1 millisecond' where user_id = ?`, [
          userId,
        ]);
      const accepted = await longHolds.graphql(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [session.seats[6].id] } },
        user,
      );
      expect(accepted.errors).toBeUndefined();
    } finally {
      await longHolds.stop();
    }
  });
});
