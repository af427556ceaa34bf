import { connect } from 'amqplib';
import { type Client } from 'graphql-ws';
import { Client as PostgresClient } from 'pg';
import { topologyNames } from '../../src/events/topology';
import { CONFIRM_PAYMENT, createSession, RESERVE } from '../support/factories';
import { messagesHandled, metricValue } from '../support/metrics';
import { type ServiceProcess, startService } from '../support/processes';
import { openClient, subscribe, websocketUrl } from '../support/subscriptions';
import { remoteApp, removeTopology, testEnvironment, uniqueUser } from '../support/test-app';
import { createTestDatabase } from '../support/test-databases';
import { TEST_AMQP_URL } from '../support/test-environment';
import { eventually } from '../support/wait';

const SEAT_CHANGES = `subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { seats { id status version } } }`;
type SeatChange = { seatStatusChanged: { seats: { id: string; status: string; version: number }[] } };

/** Real processes (`node dist/src/main.js`) sharing one database and one AMQP prefix. */
describe('several processes', () => {
  const started: ServiceProcess[] = [];
  const clients: Client[] = [];
  let database: PostgresClient;

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
    await Promise.all(started.splice(0).map((service) => service.stop('SIGKILL')));
  });

  afterAll(async () => {
    await database?.end();
  });

  async function start(env: Record<string, string>): Promise<ServiceProcess> {
    const service = await startService(env);
    started.push(service);
    return service;
  }

  function client(baseUrl: string): Client {
    const opened = openClient(websocketUrl(`${baseUrl}/graphql`));
    clients.push(opened);
    return opened;
  }

  it('two API processes and a worker: a change through one reaches the other, and expiry reaches both', async () => {
    const env = testEnvironment({ HOLD_SECONDS: '2', LOG_LEVEL: 'info' });
    try {
      const [first, second] = await Promise.all([
        start({ ...env, ROLE: 'api' }),
        start({ ...env, ROLE: 'api' }),
      ]);
      await start({ ...env, ROLE: 'worker' });
      const api = remoteApp(first.baseUrl);
      const session = await createSession(api);
      const onFirst = await subscribe<SeatChange>(client(first.baseUrl), SEAT_CHANGES, { id: session.id });
      const onSecond = await subscribe<SeatChange>(client(second.baseUrl), SEAT_CHANGES, { id: session.id });
      // Another process sends no "subscribed" signal here, and a round trip on the socket does
      // not prove the subscription is listening yet (its resolver reads the session first): wait
      // until each process counts it, or the change below could pass before it listens.
      await eventually(
        async () => {
          const counts = await Promise.all(
            [first, second].map((service) =>
              metricValue(`${service.baseUrl}/metrics`, 'poltrona_active_subscriptions'),
            ),
          );
          return counts.every((count) => count >= 1);
        },
        10_000,
        'both processes to count their subscription',
      );

      const reserved = await api.graphql(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
        await api.token(uniqueUser()),
      );
      expect(reserved.errors).toBeUndefined();
      for (const subscription of [onSecond, onFirst]) {
        expect((await subscription.next()).data!.seatStatusChanged.seats).toEqual([
          { id: session.seats[0].id, status: 'RESERVED', version: 2 },
        ]);
      }
      // The worker expires the hold; both API processes tell their subscribers.
      for (const subscription of [onFirst, onSecond]) {
        expect((await subscription.next()).data!.seatStatusChanged.seats).toEqual([
          { id: session.seats[0].id, status: 'AVAILABLE', version: 3 },
        ]);
      }
    } finally {
      await removeTopology(TEST_AMQP_URL, topologyNames(env.AMQP_PREFIX, 2));
    }
  });

  it('two API processes: subscribers of both resume after a version and see every change once, in order', async () => {
    const env = testEnvironment({ LOG_LEVEL: 'info' });
    try {
      const [first, second] = await Promise.all([
        start({ ...env, ROLE: 'api' }),
        start({ ...env, ROLE: 'api' }),
      ]);
      const [one, other] = [remoteApp(first.baseUrl), remoteApp(second.baseUrl)];
      const session = await createSession(one, { rows: 1, seatsPerRow: 10 });
      const reserveSeat = async (api: typeof one, seat: number) => {
        const answer = await api.graphql(
          RESERVE,
          { input: { sessionId: session.id, seatIds: [session.seats[seat].id] } },
          await api.token(uniqueUser()),
        );
        expect(answer.errors).toBeUndefined();
      };
      // Versions 1-3 through one process and the other, before anyone listens.
      await reserveSeat(one, 0);
      await reserveSeat(other, 1);
      await reserveSeat(one, 2);
      const resume = `subscription ($id: ID!) { seatStatusChanged(sessionId: $id, afterMapVersion: 1) { mapVersion } }`;
      type Versioned = { seatStatusChanged: { mapVersion: number } };
      const onFirst = await subscribe<Versioned>(client(first.baseUrl), resume, { id: session.id });
      const onSecond = await subscribe<Versioned>(client(second.baseUrl), resume, { id: session.id });
      await reserveSeat(other, 3);
      await reserveSeat(one, 4);
      for (const subscription of [onFirst, onSecond]) {
        const seen: number[] = [];
        while (seen.length < 4) {
          seen.push((await subscription.next()).data!.seatStatusChanged.mapVersion);
        }
        expect(seen).toEqual([2, 3, 4, 5]);
      }
    } finally {
      await removeTopology(TEST_AMQP_URL, topologyNames(env.AMQP_PREFIX, 30));
    }
  });

  it('a worker killed mid-message: the message is redelivered and its effect happens once', async () => {
    const env = testEnvironment({ HOLD_SECONDS: '1', LOG_LEVEL: 'info' });
    const names = topologyNames(env.AMQP_PREFIX, 1);
    await createTestDatabase(env.DATABASE_URL);
    database = new PostgresClient({ connectionString: env.DATABASE_URL });
    await database.connect();
    try {
      const apiProcess = await start({ ...env, ROLE: 'api' });
      // This worker commits, then waits 30 s before acking: killing it then is "mid-message".
      const doomed = await start({ ...env, ROLE: 'worker', FAULT_ACK_DELAY_MS: '30000' });
      const api = remoteApp(apiProcess.baseUrl);
      const session = await createSession(api);
      const token = await api.token(uniqueUser());

      const toExpire = await api.graphql<{ reserve: { id: string } }>(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
        token,
      );
      const toPay = await api.graphql<{ reserve: { id: string } }>(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [session.seats[1].id] } },
        token,
      );
      const paid = await api.graphql(CONFIRM_PAYMENT, { reservationId: toPay.data!.reserve.id }, token);
      expect(paid.errors).toBeUndefined();
      const expiredId = toExpire.data!.reserve.id;
      const paidId = toPay.data!.reserve.id;

      const count = async (sql: string, parameters: unknown[]) =>
        Number((await database.query<{ count: string }>(sql, parameters)).rows[0].count);
      const expiredEvents = () =>
        count(
          `select count(*) from outbox_event where topic = 'reservation.expired' and payload->>'reservationId' = $1`,
          [expiredId],
        );
      const receiptsRecorded = () =>
        count(
          `select count(*) from consumed_message cm join outbox_event o on o.id::text = cm.message_id
            where cm.consumer = 'receipts' and o.payload->>'reservationId' = $1`,
          [paidId],
        );
      // Both effects are committed by the doomed worker, which has not acked either message.
      await eventually(
        async () => (await expiredEvents()) === 1 && (await receiptsRecorded()) === 1,
        15_000,
        'effects',
      );
      expect(doomed.output()).toContain(paidId);
      expect(await doomed.stop('SIGKILL')).toBeNull();

      const survivor = await start({ ...env, ROLE: 'worker' });
      await eventually(
        () => (survivor.output().match(/Redelivered message/g) ?? []).length >= 2,
        15_000,
        'redeliveries',
      );
      await eventually(async () => {
        const connection = await connect(TEST_AMQP_URL);
        try {
          const channel = await connection.createChannel();
          const [expiry, receipts] = await Promise.all([
            channel.checkQueue(names.expiryQueue),
            channel.checkQueue(names.receiptsQueue),
          ]);
          return expiry.messageCount === 0 && receipts.messageCount === 0;
        } finally {
          await connection.close();
        }
      });

      // The survivor has finished handling them (its own counters): both expiry messages (the
      // doomed worker acked neither) and the one confirmation. Had it sent the receipt again,
      // the line would be in its output by now.
      const survivorMetrics = `${survivor.baseUrl}/metrics`;
      await eventually(
        async () =>
          (await messagesHandled(survivorMetrics, 'expiry')) >= 2 &&
          (await messagesHandled(survivorMetrics, 'receipts')) >= 1,
        15_000,
        'the survivor to handle the messages',
      );

      expect(await expiredEvents()).toBe(1);
      expect(await receiptsRecorded()).toBe(1);
      const seat = await database.query('select status, version from seat where id = $1', [
        session.seats[0].id,
      ]);
      expect(seat.rows).toEqual([{ status: 'AVAILABLE', version: 3 }]);
      // The survivor handled both messages again and did nothing: no second receipt line.
      expect(survivor.output()).not.toContain('"msg":"Receipt"');
    } finally {
      await removeTopology(TEST_AMQP_URL, names);
    }
  });
});
