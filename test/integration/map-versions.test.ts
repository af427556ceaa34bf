import { type Client } from 'graphql-ws';
import { type SessionFixture, createSession, RESERVE } from '../support/factories';
import { captureLogs } from '../support/log-capture';
import { openClient, subscribe, type TestSubscription, websocketUrl } from '../support/subscriptions';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';
import { eventually } from '../support/wait';

const SUBSCRIPTION = `subscription ($id: ID!, $after: Int) {
  seatStatusChanged(sessionId: $id, afterMapVersion: $after) { mapVersion seats { id status } }
}`;

interface Change {
  seatStatusChanged: { mapVersion: number; seats: { id: string; status: string }[] };
}

/** Guarantee 6 (DESIGN §6): consecutive map versions, and resuming converges with no gap or duplicate. */
describe('map versions and resumable seat maps', () => {
  let testApp: TestApp;
  let client: Client;

  beforeAll(async () => {
    testApp = await startTestApp();
    client = openClient(websocketUrl(testApp.url), undefined, testApp.app.subscriptionSignals);
  });

  afterAll(async () => {
    await client.dispose();
    await testApp.stop();
  });

  async function reserveSeats(session: SessionFixture, seats: number[]): Promise<number> {
    const answers = await Promise.all(
      seats.map(async (seat) =>
        testApp.graphql(
          RESERVE,
          { input: { sessionId: session.id, seatIds: [session.seats[seat].id] } },
          await testApp.token(uniqueUser()),
        ),
      ),
    );
    return answers.filter((answer) => !answer.errors).length;
  }

  async function versions(sessionId: string): Promise<{ current: number; logged: number[] }> {
    const em = testApp.app.orm.em.fork();
    const [{ current }] = await em.execute<{ current: number }[]>(
      'select map_version as current from session where id = ?',
      [sessionId],
    );
    const rows = await em.execute<{ map_version: number }[]>(
      'select map_version from seat_change where session_id = ? order by map_version',
      [sessionId],
    );
    return { current, logged: rows.map((row) => row.map_version) };
  }

  async function take(subscription: TestSubscription<Change>, count: number): Promise<number[]> {
    const seen: number[] = [];
    while (seen.length < count) {
      const result = await subscription.next();
      expect(result.errors).toBeUndefined();
      seen.push(result.data!.seatStatusChanged.mapVersion);
    }
    return seen;
  }

  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, index) => from + index);

  it('numbers concurrent changes of one session 1, 2, 3, … as the log stores them, and delivers them in order', async () => {
    const session = await createSession(testApp, { rows: 2, seatsPerRow: 10 });
    const watcher = await subscribe<Change>(client, SUBSCRIPTION, { id: session.id });
    // Twenty racers for twelve seats: the losers change nothing and take no version.
    const held = await reserveSeats(session, [...range(0, 11), ...range(0, 7)]);
    expect(held).toBe(12);
    expect(await versions(session.id)).toEqual({ current: 12, logged: range(1, 12) });
    expect(await take(watcher, 12)).toEqual(range(1, 12));
    await watcher.close();
  });

  it('replays from a middle version, then goes live; at the current version, only live', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 10 });
    await reserveSeats(session, [0]);
    await reserveSeats(session, [1]);
    await reserveSeats(session, [2]);
    const middle = await subscribe<Change>(client, SUBSCRIPTION, { id: session.id, after: 1 });
    const current = await subscribe<Change>(client, SUBSCRIPTION, { id: session.id, after: 3 });
    expect(await take(middle, 2)).toEqual([2, 3]);
    await reserveSeats(session, [3]);
    expect(await take(middle, 1)).toEqual([4]);
    expect(await take(current, 1)).toEqual([4]);
    await Promise.all([middle.close(), current.close()]);
  });

  it('answers RESYNC_REQUIRED for a version no longer kept or from the future', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 10 });
    for (const seat of [0, 1, 2, 3]) {
      await reserveSeats(session, [seat]);
    }
    // As the pruner would: versions 1 and 2 are gone.
    await testApp.app.orm.em
      .fork()
      .execute('delete from seat_change where session_id = ? and map_version <= 2', [session.id]);
    for (const after of [1, 5]) {
      const refused = await subscribe<Change>(client, SUBSCRIPTION, { id: session.id, after });
      const answer = await refused.next();
      expect(answer.errors?.[0]).toMatchObject({
        extensions: { code: 'RESYNC_REQUIRED', afterMapVersion: after, mapVersion: 4 },
      });
      // A graphql-ws `error` message (DESIGN §4.3), not a `next` carrying the error.
      expect(answer.extensions).toEqual({ message: 'error' });
    }
    const kept = await subscribe<Change>(client, SUBSCRIPTION, { id: session.id, after: 2 });
    expect(await take(kept, 2)).toEqual([3, 4]);
    await kept.close();
    const negative = await subscribe<Change>(client, SUBSCRIPTION, { id: session.id, after: -1 });
    expect((await negative.next()).errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('hands over from replay to live with no gap and no duplicate while changes commit', async () => {
    const session = await createSession(testApp, { rows: 4, seatsPerRow: 10 });
    await reserveSeats(session, range(0, 9));
    // Subscribe from 0 while twenty more changes commit.
    const [resumed] = await Promise.all([
      subscribe<Change>(client, SUBSCRIPTION, { id: session.id, after: 0 }),
      reserveSeats(session, range(10, 29)),
    ]);
    expect(await take(resumed, 30)).toEqual(range(1, 30));
    // The next change is the next thing delivered: nothing of the hand-over came twice.
    await reserveSeats(session, [30]);
    expect(await take(resumed, 1)).toEqual([31]);
    await resumed.close();
  });

  it('gives subscribers resuming at once, who share each change’s execution, each its own selection in order', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 10 });
    await reserveSeats(session, [0]);
    await reserveSeats(session, [1]);
    await reserveSeats(session, [2]);
    const labels = `subscription ($id: ID!, $after: Int) {
      seatStatusChanged(sessionId: $id, afterMapVersion: $after) { mapVersion reservationId seats { label } }
    }`;
    const others = openClient(websocketUrl(testApp.url), undefined, testApp.app.subscriptionSignals);
    // Ten at once, on two sockets (the server's signals take ten listeners without a warning).
    const [full, fromTwo, labelled] = await Promise.all([
      Promise.all(
        Array.from({ length: 4 }, (_, index) =>
          subscribe<Change>(index % 2 ? client : others, SUBSCRIPTION, { id: session.id, after: 0 }),
        ),
      ),
      Promise.all(
        Array.from({ length: 2 }, () =>
          subscribe<Change>(others, SUBSCRIPTION, { id: session.id, after: 2 }),
        ),
      ),
      Promise.all(
        Array.from({ length: 4 }, (_, index) =>
          subscribe<unknown>(index % 2 ? client : others, labels, { id: session.id, after: 0 }),
        ),
      ),
    ]);
    // One more change, live.
    await reserveSeats(session, [3]);
    const read = async <Data>(subscription: TestSubscription<Data>, count: number) => {
      const seen: unknown[] = [];
      while (seen.length < count) {
        seen.push(await subscription.next());
      }
      return seen;
    };
    const fulls = await Promise.all(full.map((subscription) => read(subscription, 4)));
    const tails = await Promise.all(fromTwo.map((subscription) => read(subscription, 2)));
    const labelleds = await Promise.all(labelled.map((subscription) => read(subscription, 4)));
    const expected = fulls[0] as { data: Change }[];
    expect(expected.map((result) => result.data.seatStatusChanged.mapVersion)).toEqual([1, 2, 3, 4]);
    expect(expected[3].data.seatStatusChanged.seats).toEqual([
      { id: session.seats[3].id, status: 'RESERVED' },
    ]);
    for (const seen of fulls) {
      expect(seen).toEqual(expected);
    }
    for (const seen of tails) {
      expect(seen).toEqual(expected.slice(2));
    }
    // Seat n is taken by version n + 1, each by a reservation of its own.
    const labelledExpected = [0, 1, 2, 3].map((seat) => ({
      data: {
        seatStatusChanged: {
          mapVersion: seat + 1,
          reservationId: expect.any(String) as unknown,
          seats: [{ label: session.seats[seat].label }],
        },
      },
    }));
    for (const seen of labelleds) {
      expect(seen).toEqual(labelledExpected);
      expect(seen).toEqual(labelleds[0]);
    }
    await Promise.all([...full, ...fromTwo, ...labelled].map((subscription) => subscription.close()));
    await others.dispose();
  });

  it('reads the seats and their map version as one snapshot', async () => {
    const session = await createSession(testApp, { rows: 2, seatsPerRow: 10 });
    const reads: Promise<void>[] = [];
    const writes = reserveSeats(session, range(0, 19));
    for (let read = 0; read < 20; read += 1) {
      reads.push(
        (async () => {
          const answer = await testApp.graphql<{
            session: { mapVersion: number; seats: { status: string }[] };
          }>(`query ($id: ID!) { session(id: $id) { mapVersion seats { status } } }`, { id: session.id });
          const { mapVersion, seats } = answer.data!.session;
          // Only single-seat holds happen here: a consistent snapshot holds one per version.
          expect(seats.filter((seat) => seat.status === 'RESERVED')).toHaveLength(mapVersion);
        })(),
      );
    }
    await Promise.all([writes, ...reads]);
    const alone = await testApp.graphql<{ session: { mapVersion: number } }>(
      `query ($id: ID!) { session(id: $id) { mapVersion } }`,
      { id: session.id },
    );
    expect(alone.data!.session.mapVersion).toBe(20);
  });
});

/** Guarantee 6, across an outage of the broker longer than any live queue's lifetime. */
describe('map versions across a broker outage', () => {
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

  it("fills a process's subscribers in from the log when the broker lost the events", async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 10 });
    const plain = await subscribe<Change>(client, SUBSCRIPTION, { id: session.id });
    const resumed = await subscribe<Change>(client, SUBSCRIPTION, { id: session.id, after: 0 });
    await proxy.cut();
    const answers = await Promise.all(
      [0, 1, 2, 3, 4].map(async (seat) =>
        testApp.graphql(
          RESERVE,
          { input: { sessionId: session.id, seatIds: [session.seats[seat].id] } },
          await testApp.token(uniqueUser()),
        ),
      ),
    );
    expect(answers.filter((answer) => answer.errors)).toEqual([]);
    // As if they had been published to an exchange while this process's queue had expired:
    // they will never come through the broker.
    await testApp.app.orm.em
      .fork()
      .execute(
        `update outbox_event set published_at = now() where published_at is null and payload->>'sessionId' = ?`,
        [session.id],
      );
    await proxy.restore();
    const versionsOf = async (subscription: TestSubscription<Change>, count: number) => {
      const seen: number[] = [];
      while (seen.length < count) {
        seen.push((await subscription.next()).data!.seatStatusChanged.mapVersion);
      }
      return seen;
    };
    expect(await versionsOf(plain, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(await versionsOf(resumed, 5)).toEqual([1, 2, 3, 4, 5]);
    // And the next change, through the broker again, follows on.
    await eventually(
      async () => {
        const health = (await (await fetch(testApp.url.replace('/graphql', '/healthz'))).json()) as {
          checks: { rabbitmq: boolean };
        };
        return health.checks.rabbitmq;
      },
      15_000,
      'the broker connection',
    );
    await testApp.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[9].id] } },
      await testApp.token(uniqueUser()),
    );
    expect(await versionsOf(plain, 1)).toEqual([6]);
    await Promise.all([plain.close(), resumed.close()]);
  });
});
