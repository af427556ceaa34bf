import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createSession, RESERVE, type SessionFixture } from '../support/factories';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { type GraphQLResponse, startTestApp, type TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

/**
 * Guarantee (docs/contract.md): any number of concurrent reserves over overlapping seats leave each seat
 * with at most one live reservation, every loser gets SEAT_UNAVAILABLE, and nothing else
 * fails — also when Redis is flushed or unreachable, because PostgreSQL decides.
 */

const RACERS = 320;

type ReserveResponse = GraphQLResponse<{ reserve: { id: string; seats: { id: string }[] } }>;

function pick<Item>(items: readonly Item[], count: number): Item[] {
  const pool = [...items];
  const chosen: Item[] = [];
  while (chosen.length < count && pool.length > 0) {
    chosen.push(pool.splice(Math.floor(Math.random() * pool.length), 1)[0]);
  }
  return chosen;
}

async function race(
  testApp: TestApp,
  requests: { seatIds: string[]; sessionId: string }[],
): Promise<ReserveResponse[]> {
  const tokens = await Promise.all(requests.map(() => testApp.token(`racer-${randomUUID()}`)));
  return Promise.all(
    requests.map(
      (input, index) => testApp.graphql(RESERVE, { input }, tokens[index]) as Promise<ReserveResponse>,
    ),
  );
}

/** Checks the responses and the database agree and that no seat is held twice. */
async function expectSingleHolders(testApp: TestApp, session: SessionFixture, responses: ReserveResponse[]) {
  const winners = responses.filter((response) => response.data?.reserve);
  const losers = responses.filter((response) => !response.data?.reserve);
  for (const loser of losers) {
    expect(loser.errors?.map((error) => error.extensions.code)).toEqual(['SEAT_UNAVAILABLE']);
  }
  const wonSeats = winners.flatMap((winner) => winner.data!.reserve.seats.map((seat) => seat.id));
  expect(new Set(wonSeats).size).toBe(wonSeats.length);

  const em = testApp.app.orm.em.fork();
  const doubles = await em.execute(
    `select rs.seat_id from reservation_seat rs join reservation r on r.id = rs.reservation_id
      where r.status in ('PENDING', 'CONFIRMED') and r.session_id = ?
      group by rs.seat_id having count(*) > 1`,
    [session.id],
  );
  expect(doubles).toEqual([]);
  const reserved = await em.execute<{ id: string }[]>(
    `select id from seat where session_id = ? and status = 'RESERVED' order by id`,
    [session.id],
  );
  expect(reserved.map((row) => row.id)).toEqual([...wonSeats].sort());
  const [{ reservations }] = await em.execute<{ reservations: number }[]>(
    `select count(*)::int as reservations from reservation where session_id = ?`,
    [session.id],
  );
  expect(reservations).toBe(winners.length);
  return winners.length;
}

function overlappingRequests(session: SessionFixture) {
  const contested = session.seats.slice(0, 12).map((seat) => seat.id);
  return Array.from({ length: RACERS }, () => ({
    sessionId: session.id,
    seatIds: pick(contested, 1 + Math.floor(Math.random() * 3)),
  }));
}

function oneSeatRequests(session: SessionFixture) {
  return Array.from({ length: RACERS }, () => ({ sessionId: session.id, seatIds: [session.seats[0].id] }));
}

describe('reserve races with Redis up', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it(`${RACERS} reserves over overlapping seats: every seat held at most once`, async () => {
    const session = await createSession(testApp, { rows: 4, seatsPerRow: 5 });
    const winners = await expectSingleHolders(
      testApp,
      session,
      await race(testApp, overlappingRequests(session)),
    );
    expect(winners).toBeGreaterThanOrEqual(4);
  });

  it(`${RACERS} reserves for one seat: exactly one winner`, async () => {
    const session = await createSession(testApp);
    expect(await expectSingleHolders(testApp, session, await race(testApp, oneSeatRequests(session)))).toBe(
      1,
    );
  });
});

describe('reserve races through the deployed admission gate', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    // The defaults (8 running, 8 queued): the losers are stopped by the winner's Redis lock
    // before they ask for a slot, so none of them is refused with RATE_LIMITED (ADR 0013).
    testApp = await startTestApp({ ADMISSION_MUTATIONS_CONCURRENCY: '8', ADMISSION_MUTATIONS_QUEUE: '8' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it(`${RACERS} reserves for one seat: exactly one winner, every loser SEAT_UNAVAILABLE`, async () => {
    const session = await createSession(testApp);
    expect(await expectSingleHolders(testApp, session, await race(testApp, oneSeatRequests(session)))).toBe(
      1,
    );
  });
});

describe('reserve races while Redis is flushed over and over', () => {
  // A Redis database of its own, so flushing it touches no other test.
  const redisUrl = 'redis://127.0.0.1:6379/9';
  let testApp: TestApp;
  let flusher: Redis;

  beforeAll(async () => {
    testApp = await startTestApp({ REDIS_URL: redisUrl });
    flusher = new Redis(redisUrl);
  });

  afterAll(async () => {
    flusher.disconnect();
    await testApp.stop();
  });

  async function whileFlushing<Result>(
    work: () => Promise<Result>,
  ): Promise<{ result: Result; flushes: number }> {
    let running = true;
    let flushes = 0;
    const loop = (async () => {
      while (running) {
        await flusher.flushdb();
        flushes += 1;
        // Pace, not a wait for anything: a flush every few milliseconds while the race runs,
        // leaving Redis room to answer the reserves in between. How many fit is not asserted
        // beyond a few (the race takes far longer than four of these turns on any machine).
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    try {
      return { result: await work(), flushes };
    } finally {
      running = false;
      await loop;
    }
  }

  it('overlapping seats: PostgreSQL still decides', async () => {
    const session = await createSession(testApp, { rows: 4, seatsPerRow: 5 });
    const { result, flushes } = await whileFlushing(() => race(testApp, overlappingRequests(session)));
    expect(flushes).toBeGreaterThan(3);
    await expectSingleHolders(testApp, session, result);
  });

  it('one seat: exactly one winner', async () => {
    const session = await createSession(testApp);
    const { result } = await whileFlushing(() => race(testApp, oneSeatRequests(session)));
    expect(await expectSingleHolders(testApp, session, result)).toBe(1);
  });
});

describe('reserve while Redis is unreachable', () => {
  let proxy: TcpProxy;
  let testApp: TestApp;

  beforeAll(async () => {
    proxy = await startTcpProxy(6379);
    testApp = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${proxy.port}/8` });
  });

  afterAll(async () => {
    await testApp.stop();
    await proxy.close();
  });

  it('serves reserves through PostgreSQL alone, never double-holds, and recovers when Redis returns', async () => {
    const session = await createSession(testApp, { rows: 2, seatsPerRow: 10 });
    await proxy.cut();

    const responses = await race(testApp, oneSeatRequests(session).slice(0, 100));
    expect(await expectSingleHolders(testApp, session, responses)).toBe(1);

    // Degraded, not down: bookings go on, so the process stays ready and says why it is degraded.
    const base = testApp.url.replace('/graphql', '');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: 'degraded',
      checks: { postgres: true, redis: false, rabbitmq: true },
    });
    expect(await (await fetch(`${base}/metrics`)).text()).toContain(
      'poltrona_dependency_up{dependency="redis"} 0',
    );

    await proxy.restore();
    const direct = new Redis('redis://127.0.0.1:6379/8');
    try {
      // Once the client has reconnected (backoff, no restart), reserves take Redis locks again.
      let locked = 0;
      for (let attempt = 1; attempt <= 50 && locked === 0; attempt += 1) {
        await eventually(() => testApp.app.redis.status === 'ready', 15_000, 'the Redis client to reconnect');
        const seat = session.seats[attempt];
        const [response] = await race(testApp, [{ sessionId: session.id, seatIds: [seat.id] }]);
        expect(response.errors).toBeUndefined();
        locked = await direct.exists(`seat:{${session.id}}:${seat.id}`);
      }
      expect(locked).toBe(1);
    } finally {
      direct.disconnect();
    }
  });
});
