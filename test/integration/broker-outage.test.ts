import { type Client } from 'graphql-ws';
import { createSession, RESERVE } from '../support/factories';
import { captureLogs } from '../support/log-capture';
import { openClient, subscribe, websocketUrl } from '../support/subscriptions';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';
import { eventually } from '../support/wait';

/** Guarantee (docs/contract.md): RabbitMQ away for a while loses nothing; subscribers converge. */
describe('RabbitMQ outage', () => {
  let proxy: TcpProxy;
  let testApp: TestApp;
  let client: Client;
  const logs = captureLogs();

  beforeAll(async () => {
    proxy = await startTcpProxy(5672);
    testApp = await startTestApp({ AMQP_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}` }, logs.logger);
    client = openClient(websocketUrl(testApp.url), undefined, testApp.app.subscriptionSignals);
  });

  afterAll(async () => {
    await client.dispose();
    await proxy.restore().catch(() => undefined);
    await testApp.stop();
    await proxy.close();
  });

  it('keeps reserving while the broker is cut off, then delivers every event', async () => {
    const session = await createSession(testApp, { rows: 3, seatsPerRow: 10 });
    const watcher = await subscribe<{ seatStatusChanged: { seats: { id: string; status: string }[] } }>(
      client,
      `subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { seats { id status } } }`,
      { id: session.id },
    );
    await proxy.cut();

    const burst = await Promise.all(
      session.seats
        .slice(0, 30)
        .map(async (seat) =>
          testApp.graphql(
            RESERVE,
            { input: { sessionId: session.id, seatIds: [seat.id] } },
            await testApp.token(uniqueUser()),
          ),
        ),
    );
    expect(burst.filter((response) => response.errors)).toEqual([]);
    const readiness = await fetch(testApp.url.replace('/graphql', '/readyz'));
    expect(readiness.status).toBe(200);
    expect(((await readiness.json()) as { checks: { rabbitmq: boolean } }).checks.rabbitmq).toBe(false);
    const health = await fetch(testApp.url.replace('/graphql', '/healthz'));
    expect(((await health.json()) as { status: string }).status).toBe('degraded');

    const em = testApp.app.orm.em.fork();
    const waiting = async () => {
      const [{ count }] = await em.execute<{ count: number }[]>(
        `select count(*)::int as count from outbox_event where published_at is null and payload->>'sessionId' = ?`,
        [session.id],
      );
      return count;
    };
    expect(await waiting()).toBe(60);
    // Away for a while: the app has failed to reconnect several times, backing off each time.
    await eventually(
      () =>
        logs
          .lines()
          .some((line) => line.msg === 'Cannot reach RabbitMQ; retrying' && Number(line.attempt) >= 4),
      15_000,
      'failed reconnections',
    );

    await proxy.restore();
    const received = new Set<string>();
    while (received.size < 30) {
      const change = await watcher.next();
      for (const seat of change.data!.seatStatusChanged.seats) {
        expect(seat.status).toBe('RESERVED');
        received.add(seat.id);
      }
    }
    expect([...received].sort()).toEqual(
      session.seats
        .slice(0, 30)
        .map((seat) => seat.id)
        .sort(),
    );
    await eventually(async () => (await waiting()) === 0, 10_000, 'the outbox to drain');
  });
});
