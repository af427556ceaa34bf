import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { type Client } from 'graphql-ws';
import { replayDeadLetters } from '../../src/events/dead-letter-replay';
import { encodeEvent } from '../../src/events/event-message';
import { ATTEMPTS_HEADER, FAILED_QUEUE_HEADER, FAILURE_REASON_HEADER } from '../../src/workers/consumer';
import { CONFIRM_PAYMENT, createSession, RESERVE } from '../support/factories';
import { captureLogs } from '../support/log-capture';
import { messagesHandled } from '../support/metrics';
import { ClientPool, subscribe } from '../support/subscriptions';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';
import { TEST_AMQP_URL } from '../support/test-environment';
import { eventually, sleep } from '../support/wait';

const HOLD_SECONDS = 2;

describe('events through RabbitMQ, with workers in the same process', () => {
  let testApp: TestApp;
  const logs = captureLogs();
  const clients = new ClientPool(
    () => testApp.url,
    () => testApp.app.subscriptionSignals,
  );

  beforeAll(async () => {
    testApp = await startTestApp({ HOLD_SECONDS: String(HOLD_SECONDS) }, logs.logger);
  });

  afterAll(async () => {
    await clients.disposeAll();
    await testApp.stop();
  });

  const client = (token?: string): Client => clients.open(token);

  it('expires a hold through the expiry queue and tells subscribers, never before expiresAt', async () => {
    // Only the expiry consumer may expire the hold here: the periodic sweeper would hide a broken
    // delay queue (the tests below sweep by hand).
    await testApp.app.sweeper.stop();
    const session = await createSession(testApp);
    const userToken = await testApp.token(uniqueUser());
    const seats = await subscribe<{
      seatStatusChanged: { seats: { id: string; status: string; version: number }[] };
    }>(
      client(),
      `subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { seats { id status version } } }`,
      { id: session.id },
    );
    const reserved = await testApp.graphql<{ reserve: { id: string; expiresAt: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id, session.seats[1].id] } },
      userToken,
    );
    const { id: reservationId, expiresAt } = reserved.data!.reserve;
    const updates = await subscribe<{ reservationUpdated: { status: string } }>(
      client(userToken),
      `subscription ($id: ID!) { reservationUpdated(reservationId: $id) { status } }`,
      { id: reservationId },
    );

    const held = (await seats.next()).data!.seatStatusChanged.seats;
    expect(held.map((seat) => [seat.status, seat.version])).toEqual([
      ['RESERVED', 2],
      ['RESERVED', 2],
    ]);
    let expired = await updates.next();
    // Subscribed after the reserve: its creation event may still be on its way, and comes first.
    while (expired.data?.reservationUpdated.status === 'PENDING') {
      expired = await updates.next();
    }
    const expiredAt = Date.now();
    expect(expired.data!.reservationUpdated.status).toBe('EXPIRED');
    const freed = (await seats.next()).data!.seatStatusChanged.seats;
    expect(freed.map((seat) => [seat.status, seat.version])).toEqual([
      ['AVAILABLE', 3],
      ['AVAILABLE', 3],
    ]);
    // Never early. The contract's "within 2 s of expiresAt" is not timed here: it follows from
    // the delay queue's TTL being the hold (src/events/topology.test.ts), the relay publishing
    // at commit (src/events/outbox-relay.test.ts) and the consumer waiting only the database's
    // remainder of an early message (src/workers/expiry.worker.test.ts).
    expect(expiredAt).toBeGreaterThanOrEqual(Date.parse(expiresAt));

    const pay = await testApp.graphql(CONFIRM_PAYMENT, { reservationId }, userToken);
    expect(pay.errors?.[0].extensions.code).toBe('RESERVATION_EXPIRED');
  });

  it('lets exactly one of confirmPayment and expiry win for each reservation', async () => {
    const session = await createSession(testApp, { rows: 5, seatsPerRow: 10 });
    const reservations = await Promise.all(
      session.seats.slice(0, 40).map(async (seat) => {
        const token = await testApp.token(uniqueUser());
        const response = await testApp.graphql<{ reserve: { id: string; expiresAt: string } }>(
          RESERVE,
          { input: { sessionId: session.id, seatIds: [seat.id] } },
          token,
        );
        return { token, seatId: seat.id, ...response.data!.reserve };
      }),
    );
    // Pay around the moment the holds end, some just before and some just after.
    const outcomes = await Promise.all(
      reservations.map(async (reservation, index) => {
        await sleep(Math.max(0, Date.parse(reservation.expiresAt) - Date.now() + ((index % 9) - 4) * 15));
        const response = await testApp.graphql(
          CONFIRM_PAYMENT,
          { reservationId: reservation.id },
          reservation.token,
        );
        return response.errors ? response.errors[0].extensions.code : 'CONFIRMED';
      }),
    );
    for (const code of outcomes) {
      expect(['CONFIRMED', 'RESERVATION_EXPIRED']).toContain(code);
    }
    await testApp.app.sweeper.sweep();

    const em = testApp.app.orm.em.fork();
    for (const [index, reservation] of reservations.entries()) {
      const [row] = await em.execute<
        { status: string; sales: number; seat_status: string; finals: number }[]
      >(
        `select r.status,
                (select count(*)::int from sale where reservation_id = r.id) as sales,
                (select status from seat where id = ?) as seat_status,
                (select count(*)::int from outbox_event
                  where topic in ('reservation.confirmed', 'reservation.expired')
                    and payload->>'reservationId' = r.id::text) as finals
           from reservation r where r.id = ?`,
        [reservation.seatId, reservation.id],
      );
      if (outcomes[index] === 'CONFIRMED') {
        expect(row).toEqual({ status: 'CONFIRMED', sales: 1, seat_status: 'SOLD', finals: 1 });
      } else {
        expect(row).toEqual({ status: 'EXPIRED', sales: 0, seat_status: 'AVAILABLE', finals: 1 });
      }
    }
  });

  it('writes one receipt per confirmed reservation, even when the message is delivered twice', async () => {
    const session = await createSession(testApp);
    const token = await testApp.token(uniqueUser());
    const reserved = await testApp.graphql<{ reserve: { id: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      token,
    );
    const reservationId = reserved.data!.reserve.id;
    await testApp.graphql(CONFIRM_PAYMENT, { reservationId }, token);
    const receipts = () =>
      logs
        .lines()
        .filter(
          (line) => (line.receipt as { reservationId?: string } | undefined)?.reservationId === reservationId,
        );
    await eventually(() => receipts().length === 1, 5_000, 'the receipt');

    // Deliver the same outbox row again, as a relay that crashed before marking it would.
    const em = testApp.app.orm.em.fork();
    const [row] = await em.execute<{ id: string; payload: object }[]>(
      `select id, payload from outbox_event where topic = 'reservation.confirmed' and payload->>'reservationId' = ?`,
      [reservationId],
    );
    // The receipts consumer counts each message it has finished handling. Every confirmation of
    // this app (earlier tests' too) reaches it once: wait until all have been handled, so the
    // next one counted is the duplicate.
    const metricsUrl = testApp.url.replace('/graphql', '/metrics');
    const handled = () => messagesHandled(metricsUrl, 'receipts');
    const handledBefore = await eventually(
      async () => {
        const [{ count: confirmations }] = await em.execute<{ count: number }[]>(
          `select count(*)::int as count from outbox_event where topic = 'reservation.confirmed'`,
        );
        const count = await handled();
        return count >= confirmations && count;
      },
      10_000,
      'every confirmation handled',
    );
    const connection = await connect(TEST_AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      const { content, options } = encodeEvent(row.id, {
        topic: 'reservation.confirmed',
        payload: row.payload,
      } as never);
      channel.publish(testApp.app.topology.events, 'reservation.confirmed', content, options);
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    await eventually(async () => {
      const [{ count }] = await em.execute<{ count: number }[]>(
        `select count(*)::int as count from consumed_message where message_id = ?`,
        [row.id],
      );
      return count === 1;
    });
    // Handled: a second receipt, had there been one, would have been written by now.
    await eventually(async () => (await handled()) > handledBefore, 10_000, 'the duplicate handled');
    expect(receipts()).toHaveLength(1);
  });

  it('dead-letters a message that always fails after N attempts, while others are processed', async () => {
    const session = await createSession(testApp);
    const token = await testApp.token(uniqueUser());
    const names = testApp.app.topology;
    const connection = await connect(TEST_AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      const poisonId = randomUUID();
      const poison = encodeEvent(poisonId, {
        topic: 'reservation.created',
        payload: { reservationId: 'not-a-reservation', expiresAt: new Date().toISOString() },
      } as never);
      channel.sendToQueue(names.expiryQueue, poison.content, poison.options);
      await channel.waitForConfirms();

      // Meanwhile an ordinary hold still expires.
      const reserved = await testApp.graphql<{ reserve: { id: string } }>(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [session.seats[2].id] } },
        token,
      );
      const em = testApp.app.orm.em.fork();
      await eventually(async () => {
        const [row] = await em.execute<{ status: string }[]>('select status from reservation where id = ?', [
          reserved.data!.reserve.id,
        ]);
        return row.status === 'EXPIRED';
      });

      const dead = await eventually(
        async () => (await channel.get(names.deadLetterQueue, { noAck: true })) || undefined,
      );
      expect(dead.properties.messageId).toBe(poisonId);
      expect(dead.properties.headers?.[ATTEMPTS_HEADER]).toBe(5);
      expect(dead.properties.headers?.[FAILED_QUEUE_HEADER]).toBe(names.expiryQueue);
      expect(String(dead.properties.headers?.[FAILURE_REASON_HEADER])).toContain(
        'expected reservation.created',
      );

      // Replaying puts it back on its queue with a fresh attempt count; still poison, it
      // comes back after another 5 attempts.
      channel.sendToQueue(names.deadLetterQueue, dead.content, dead.properties);
      await channel.waitForConfirms();
      expect(await replayDeadLetters(connection, names)).toBe(1);
      const again = await eventually(
        async () => (await channel.get(names.deadLetterQueue, { noAck: true })) || undefined,
      );
      expect(again.properties.messageId).toBe(poisonId);
      expect(again.properties.headers?.[ATTEMPTS_HEADER]).toBe(5);
    } finally {
      await connection.close();
    }
  });

  it('has the sweeper expire holds no message expired', async () => {
    const session = await createSession(testApp);
    const token = await testApp.token(uniqueUser());
    const reserved = await testApp.graphql<{ reserve: { id: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[3].id] } },
      token,
    );
    const em = testApp.app.orm.em.fork();
    // Lose the expiry message: as if the broker had been down when the hold was made.
    await eventually(async () => {
      const [row] = await em.execute<{ published: boolean }[]>(
        `select published_at is not null as published from outbox_event
          where topic = 'reservation.created' and payload->>'reservationId' = ?`,
        [reserved.data!.reserve.id],
      );
      return row?.published;
    });
    const connection = await connect(TEST_AMQP_URL);
    try {
      const channel = await connection.createChannel();
      await channel.purgeQueue(testApp.app.topology.expiryDelay);
    } finally {
      await connection.close();
    }
    await sleep(HOLD_SECONDS * 1_000 + 100);
    await testApp.app.sweeper.sweep();
    const [row] = await em.execute<{ status: string }[]>('select status from reservation where id = ?', [
      reserved.data!.reserve.id,
    ]);
    expect(row.status).toBe('EXPIRED');
  });
});
