import { randomUUID } from 'node:crypto';
import { ExtendReservationDocument as EXTEND_RESERVATION } from '../../client/generated/graphql';
import { ManualClock } from '../../src/infra/clock';
import { SeatLocks } from '../../src/infra/seat-locks';
import { CANCEL_RESERVATION, createSession, RESERVE, sessionFootprint } from '../support/factories';
import { ManualScheduler } from '../support/manual-scheduler';
import { countQueries } from '../support/sql-count';
import { ClientPool, subscribe } from '../support/subscriptions';
import { startTestApp, startTestAppIn, type TestApp, testEnvironment, uniqueUser } from '../support/test-app';
import { eventually } from '../support/wait';

describe('extendReservation through the API', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ HOLD_SECONDS: '30', HOLD_MAX_SECONDS: '600' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  async function held(token: string, seatCount = 2) {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 4 });
    const seatIds = session.seats.slice(0, seatCount).map((seat) => seat.id);
    const response = await testApp.graphql(RESERVE, { input: { sessionId: session.id, seatIds } }, token);
    expect(response.errors).toBeUndefined();
    return { session, seatIds, reservation: response.data!.reserve };
  }

  const lockKey = (sessionId: string, seatId: string) => SeatLocks.key(sessionId, seatId);

  it("moves the hold's end and its own Redis locks' TTL, and leaves another token's lock alone", async () => {
    const token = await testApp.token(uniqueUser());
    const { session, seatIds, reservation } = await held(token);
    const redis = testApp.app.redis;
    const [taken, mine] = seatIds;
    // One seat's lock now belongs to another token (flushed and taken, say); the other's
    // TTL has run down. Only the hold's own lock follows the extension.
    await redis.set(lockKey(session.id, taken), 'another-token', 'PX', 5_000);
    await redis.pexpire(lockKey(session.id, mine), 3_000);

    const extended = await testApp.graphql(EXTEND_RESERVATION, { reservationId: reservation.id }, token);
    expect(extended.errors).toBeUndefined();
    const { expiresAt, createdAt, status, seats } = extended.data!.extendReservation;
    expect(status).toBe('PENDING');
    expect(createdAt).toBe(reservation.createdAt);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.parse(reservation.expiresAt));
    // Same status, same version: no seat changed.
    expect(seats).toEqual(seatIds.map((id) => ({ id, status: 'RESERVED', version: 2 })));

    // The hold's own lock now ends with the new end (its TTL is what the database said was left
    // of the hold, at most HOLD_SECONDS): not before it, and not later than HOLD_SECONDS from now.
    const [seconds, microseconds] = await redis.time();
    const redisNow = Number(seconds) * 1_000 + Math.floor(Number(microseconds) / 1_000);
    const lockEndsAt = await redis.pexpiretime(lockKey(session.id, mine));
    expect(lockEndsAt).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(lockEndsAt).toBeLessThanOrEqual(redisNow + 30_000);
    expect(await redis.get(lockKey(session.id, taken))).toBe('another-token');
    expect(await redis.pttl(lockKey(session.id, taken))).toBeLessThanOrEqual(5_000);

    const em = testApp.app.orm.em.fork();
    const ends = await em.execute<{ end: string }[]>(
      `select expires_at as end from reservation where id = ?
       union all select hold_expires_at from seat where id = any(array[?]::uuid[])`,
      [reservation.id, seatIds],
    );
    expect(ends.map((row) => new Date(row.end).toISOString())).toEqual([expiresAt, expiresAt, expiresAt]);
    const topics = await em.execute<{ topic: string }[]>(
      `select topic from outbox_event where payload->>'reservationId' = ? order by id`,
      [reservation.id],
    );
    // The reserve's seat event, and none from the extension: no seat changed status.
    expect(topics.map((row) => row.topic)).toEqual([
      'reservation.created',
      'seat.status-changed',
      'reservation.extended',
    ]);
  });

  it('answers LIMIT_EXCEEDED at the cap with holdMaxSeconds, changing nothing', async () => {
    const token = await testApp.token(uniqueUser());
    const { session, reservation } = await held(token, 1);
    // As if the reservation had been made 590 s ago: its cap is 10 s from now, before its end.
    await testApp.app.orm.em
      .fork()
      .execute(`update reservation set created_at = created_at - interval '590 seconds' where id = ?`, [
        reservation.id,
      ]);
    const before = await sessionFootprint(testApp, session.id);
    const ttlBefore = await testApp.app.redis.pttl(lockKey(session.id, session.seats[0].id));

    const refused = await testApp.graphql(EXTEND_RESERVATION, { reservationId: reservation.id }, token);
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0].extensions).toEqual({
      code: 'LIMIT_EXCEEDED',
      reservationId: reservation.id,
      holdMaxSeconds: 600,
      expiresAt: reservation.expiresAt,
    });
    expect(await sessionFootprint(testApp, session.id)).toEqual(before);
    const [stored] = await testApp.app.orm.em
      .fork()
      .execute<{ expires_at: string }[]>('select expires_at from reservation where id = ?', [reservation.id]);
    expect(new Date(stored.expires_at).toISOString()).toBe(reservation.expiresAt);
    expect(await testApp.app.redis.pttl(lockKey(session.id, session.seats[0].id))).toBeLessThanOrEqual(
      ttlBefore,
    );
  });

  it('refuses a malformed id, an unknown one, no token, another user, and a cancelled reservation', async () => {
    const token = await testApp.token(uniqueUser());
    const { session, reservation } = await held(token, 1);
    const code = async (reservationId: string, as?: string) =>
      (await testApp.graphql(EXTEND_RESERVATION, { reservationId }, as)).errors?.[0].extensions.code;

    const before = await sessionFootprint(testApp, session.id);
    expect(await code('not-a-uuid', token)).toBe('BAD_USER_INPUT');
    expect(await code(randomUUID(), token)).toBe('NOT_FOUND');
    expect(await code(reservation.id)).toBe('UNAUTHENTICATED');
    expect(await code(reservation.id, await testApp.token(uniqueUser('other')))).toBe('FORBIDDEN');
    expect(await code(reservation.id, await testApp.token(uniqueUser('admin'), { admin: true }))).toBe(
      'FORBIDDEN',
    );
    expect(await sessionFootprint(testApp, session.id)).toEqual(before);

    await testApp.graphql(CANCEL_RESERVATION, { reservationId: reservation.id }, token);
    expect(await code(reservation.id, token)).toBe('INVALID_STATE');
  });
});

/**
 * The hold ends at the new time, with the expiry worker running: the reserve's message (due at
 * the old end) changes nothing, the hold's end does. Booking time is a manual clock, and the
 * consumer waits out the rest of a hold on a manual scheduler over it: the test moves time. Only
 * the delay queue's TTL is the broker's real time (HOLD_SECONDS, so one second here): the test
 * waits for what its messages do when they come out, never for a moment.
 */
describe('an extended hold expiring with the worker running', () => {
  const HOLD_SECONDS = 1;
  // An hour ahead of PostgreSQL's own clock, which still judges a reservation's status as read
  // (`reservationUpdated` reads it): the test's hold runs by it for as long as the test does.
  const clock = new ManualClock(new Date(Date.now() + 3_600_000));
  const scheduler = new ManualScheduler(clock);
  let testApp: TestApp;
  const clients = new ClientPool(
    () => testApp.url,
    () => testApp.app.subscriptionSignals,
  );

  beforeAll(async () => {
    testApp = await startTestApp({ HOLD_SECONDS: String(HOLD_SECONDS) }, undefined, {
      clock,
      schedule: scheduler.schedule,
    });
    // Only the expiry consumer may expire the hold here: the sweeper would hide a miss.
    await testApp.app.sweeper.stop();
  });

  afterAll(async () => {
    await clients.disposeAll();
    await testApp.stop();
  });

  it('tells reservationUpdated the new expiresAt, and expires at the new end, not the old one', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 3 });
    const token = await testApp.token(uniqueUser());
    const seatIds = [session.seats[0].id, session.seats[1].id];
    const seatChanges = await subscribe<{
      seatStatusChanged: { seats: { id: string; status: string; version: number }[] };
    }>(
      clients.open(),
      `subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { seats { id status version } } }`,
      { id: session.id },
    );
    const reserved = await testApp.graphql(RESERVE, { input: { sessionId: session.id, seatIds } }, token);
    const { id: reservationId, expiresAt: oldEnd } = reserved.data!.reserve;
    const updates = await subscribe<{ reservationUpdated: { status: string; expiresAt: string } }>(
      clients.open(token),
      `subscription ($id: ID!) { reservationUpdated(reservationId: $id) { status expiresAt } }`,
      { id: reservationId },
    );

    // Every move of time goes through the scheduler: a wait the consumer armed meanwhile (the
    // reserve's message may come out early on a slow machine) fires when the clock reaches it.
    const moveTo = (instant: number) => scheduler.advance(instant - clock.now());

    // Halfway through the hold, extend it: it now ends half a hold after the old end.
    moveTo(Date.parse(oldEnd) - HOLD_SECONDS * 500);
    const extended = await testApp.graphql(EXTEND_RESERVATION, { reservationId }, token);
    expect(extended.errors).toBeUndefined();
    const newEnd = extended.data!.extendReservation.expiresAt;
    expect(Date.parse(newEnd) - Date.parse(oldEnd)).toBe(HOLD_SECONDS * 500);

    // Subscribed after the reserve: its creation event may still be on its way, and comes first.
    let update = await updates.next();
    while (update.data?.reservationUpdated.expiresAt === oldEnd) {
      update = await updates.next();
    }
    expect(update.data!.reservationUpdated).toEqual({ status: 'PENDING', expiresAt: newEnd });

    // Past the old end, before the new one. The reserve's message comes out of the delay queue
    // first and expires nothing: the consumer waits until the new end (plus its 5 ms margin,
    // src/workers/expiry.worker.ts), whenever the message came.
    moveTo(Date.parse(oldEnd) + 200);
    await eventually(
      () => scheduler.armed.some((timer) => timer.at === Date.parse(newEnd) + 5),
      10_000,
      "the expiry consumer's wait for the new end",
    );
    const during = await testApp.graphql<{ session: { seats: { id: string; status: string }[] } }>(
      `query ($id: ID!) { session(id: $id) { seats { id status } } }`,
      { id: session.id },
    );
    expect(
      during.data!.session.seats.filter((seat) => seatIds.includes(seat.id)).map((seat) => seat.status),
    ).toEqual(['RESERVED', 'RESERVED']);
    const [stored] = await testApp.app.orm.em
      .fork()
      .execute<{ status: string }[]>('select status from reservation where id = ?', [reservationId]);
    expect(stored.status).toBe('PENDING');

    // The clock reaches the new end (and the margin): the waiting consumer expires the hold.
    moveTo(Date.parse(newEnd) + 5);
    const expired = await updates.next();
    expect(expired.data!.reservationUpdated).toEqual({ status: 'EXPIRED', expiresAt: newEnd });
    // The seats changed twice only: held, then freed at the new end.
    const held = (await seatChanges.next()).data!.seatStatusChanged.seats;
    expect(held.map((seat) => [seat.status, seat.version])).toEqual([
      ['RESERVED', 2],
      ['RESERVED', 2],
    ]);
    const freed = (await seatChanges.next()).data!.seatStatusChanged.seats;
    expect(freed.map((seat) => [seat.status, seat.version])).toEqual([
      ['AVAILABLE', 3],
      ['AVAILABLE', 3],
    ]);
    const [{ expirations, expiredAt }] = await testApp.app.orm.em
      .fork()
      .execute<{ expirations: number; expiredAt: string }[]>(
        `select (select count(*)::int from outbox_event
                where topic = 'reservation.expired' and payload->>'reservationId' = r.id::text) as expirations,
              r.updated_at as "expiredAt"
         from reservation r where r.id = ?`,
        [reservationId],
      );
    expect(expirations).toBe(1);
    // Expired by the clock once it passed the new end, not before.
    expect(new Date(expiredAt).getTime()).toBeGreaterThanOrEqual(Date.parse(newEnd));
  });
});

/**
 * The seat-map read cache of a process without workers (a hold ends only by the clock there)
 * learns the new end from the extension: the map shows the seat RESERVED past the old end and
 * AVAILABLE from the new end, though it keeps results for a minute. One manual clock is both the
 * hold's clock and the cache's, moved by the test.
 */
describe('the cached seat map of an extended hold', () => {
  const HOLD_SECONDS = 10;
  const clock = new ManualClock(new Date());
  let solo: TestApp;
  const clients = new ClientPool(
    () => solo.url,
    () => solo.app.subscriptionSignals,
  );

  beforeAll(async () => {
    solo = await startTestAppIn(
      testEnvironment({ SESSION_CACHE_MAX_AGE_MS: '60000', HOLD_SECONDS: String(HOLD_SECONDS), ROLE: 'api' }),
      undefined,
      { clock },
    );
  });

  afterAll(async () => {
    await clients.disposeAll();
    await solo.stop();
  });

  it('shows the seat RESERVED past the old end and AVAILABLE from the new end', async () => {
    const session = await createSession(solo, { rows: 1, seatsPerRow: 3 });
    const token = await solo.token(uniqueUser());
    const seatId = session.seats[2].id;
    const reserved = await solo.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [seatId] } },
      token,
    );
    const { id: reservationId, expiresAt: oldEnd } = reserved.data!.reserve;
    const seatStatus = async () => {
      const response = await solo.graphql<{ session: { seats: { id: string; status: string }[] } }>(
        `query ($id: ID!) { session(id: $id) { seats { id status } } }`,
        { id: session.id },
      );
      return response.data!.session.seats.find((seat) => seat.id === seatId)!.status;
    };
    const moveTo = (instant: number) => clock.advance(instant - clock.now());
    // Its hold's events come back to this process through the broker, and each drops the
    // session's cached results: wait for the extension's (the creation's comes first).
    const updates = await subscribe<{ reservationUpdated: { expiresAt: string } }>(
      clients.open(token),
      `subscription ($id: ID!) { reservationUpdated(reservationId: $id) { expiresAt } }`,
      { id: reservationId },
    );

    moveTo(Date.parse(oldEnd) - 500);
    const extended = await solo.graphql(EXTEND_RESERVATION, { reservationId }, token);
    const newEnd = Date.parse(extended.data!.extendReservation.expiresAt);
    expect(newEnd).toBe(Date.parse(oldEnd) + HOLD_SECONDS * 1_000 - 500);
    let update = await updates.next();
    while (Date.parse(update.data!.reservationUpdated.expiresAt) !== newEnd) {
      update = await updates.next();
    }
    expect(await seatStatus()).toBe('RESERVED');

    moveTo(Date.parse(oldEnd) + 100);
    // Kept, now: its end is the new one.
    expect(await countQueries(solo.app, seatStatus)).toEqual({ result: 'RESERVED', queries: 0 });
    moveTo(newEnd - 1);
    expect(await countQueries(solo.app, seatStatus)).toEqual({ result: 'RESERVED', queries: 0 });
    moveTo(newEnd);
    expect(await seatStatus()).toBe('AVAILABLE');
  });
});
