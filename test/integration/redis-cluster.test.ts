import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { closeRedisClient, createRedisClient, type RedisClient } from '../../src/infra/redis';
import { SeatLocks } from '../../src/infra/seat-locks';
import {
  CANCEL_RESERVATION,
  createSession,
  lockedSeatCount,
  RESERVE,
  type SessionFixture,
} from '../support/factories';
import { metricValue } from '../support/metrics';
import { type LocalRedisCluster, startRedisCluster } from '../support/redis-cluster';
import { type GraphQLResponse, startTestApp, type TestApp, uniqueUser } from '../support/test-app';
import { eventually, sleep } from '../support/wait';

/**
 * REDIS_CLUSTER_NODES (docs/configuration.md, README "Redis Cluster"): seat locks and rate
 * limits go through a real three-master Redis Cluster started for this file, every script's
 * keys stay in one hash slot, and when the cluster's nodes stop, bookings go on through
 * PostgreSQL alone and pick the fast path up again once the nodes are back.
 */

type ReserveResponse = GraphQLResponse<{ reserve: { id: string; seats: { id: string }[] } }>;

const CONFLICTS = 'poltrona_seat_lock_conflicts_total';

async function reserveAs(
  testApp: TestApp,
  userId: string,
  sessionId: string,
  seatIds: string[],
): Promise<ReserveResponse> {
  return (await testApp.graphql(
    RESERVE,
    { input: { sessionId, seatIds } },
    await testApp.token(userId),
  )) as ReserveResponse;
}

/** `count` users racing, each for `seatIdsOf(index)` of `session`, all at once. */
async function race(
  testApp: TestApp,
  session: SessionFixture,
  count: number,
  seatIdsOf: (index: number) => string[],
): Promise<ReserveResponse[]> {
  const tokens = await Promise.all(Array.from({ length: count }, () => testApp.token(uniqueUser('racer'))));
  return Promise.all(
    tokens.map(
      (token, index) =>
        testApp.graphql(
          RESERVE,
          { input: { sessionId: session.id, seatIds: seatIdsOf(index) } },
          token,
        ) as Promise<ReserveResponse>,
    ),
  );
}

/**
 * Every loser got SEAT_UNAVAILABLE and no seat has two live holds, in the answers and in
 * PostgreSQL. Returns the winners.
 */
async function expectOneHoldPerSeat(
  testApp: TestApp,
  session: SessionFixture,
  responses: ReserveResponse[],
): Promise<ReserveResponse[]> {
  const winners = responses.filter((response) => response.data?.reserve);
  for (const loser of responses.filter((response) => !response.data?.reserve)) {
    expect(loser.errors?.map((error) => error.extensions.code)).toEqual(['SEAT_UNAVAILABLE']);
  }
  const wonSeats = winners.flatMap((winner) => winner.data!.reserve.seats.map((seat) => seat.id));
  expect(new Set(wonSeats).size).toBe(wonSeats.length);
  const doubles = await testApp.app.orm.em.fork().execute(
    `select rs.seat_id from reservation_seat rs join reservation r on r.id = rs.reservation_id
      where r.status in ('PENDING', 'CONFIRMED') and r.session_id = ?
      group by rs.seat_id having count(*) > 1`,
    [session.id],
  );
  expect(doubles).toEqual([]);
  return winners;
}

/** Whether `client` is a cluster client that is ready, connected to every node. */
function connected(client: RedisClient): boolean {
  return (
    client instanceof Cluster &&
    client.status === 'ready' &&
    client.nodes('master').length === 3 &&
    client.nodes().every((node) => node.status === 'ready')
  );
}

/** Creates sessions until their lock keys live on every master; one session per master. */
async function sessionsOnEveryMaster(
  testApp: TestApp,
  cluster: LocalRedisCluster,
  seatsPerRow = 4,
): Promise<Map<number, SessionFixture>> {
  const byOwner = new Map<number, SessionFixture>();
  for (let attempt = 0; byOwner.size < cluster.ports.length; attempt += 1) {
    if (attempt >= 60) {
      throw new Error(`Sessions landed on only ${byOwner.size} masters after ${attempt} tries`);
    }
    const session = await createSession(testApp, { rows: 1, seatsPerRow });
    const owner = await cluster.ownerOf(SeatLocks.key(session.id, session.seats[0].id));
    if (!byOwner.has(owner)) {
      byOwner.set(owner, session);
    }
  }
  return byOwner;
}

describe('Redis Cluster', () => {
  let cluster: LocalRedisCluster;
  let testApp: TestApp;
  /** Holds for 1 s and allows 3 mutations a minute per caller. */
  let strictApp: TestApp;
  /** A client of the test's own, built like the app's. */
  let inspector: RedisClient;
  let metricsUrl: string;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    testApp = await startTestApp({ REDIS_CLUSTER_NODES: cluster.seeds });
    strictApp = await startTestApp({
      REDIS_URL: `redis+cluster://${cluster.seeds}`,
      HOLD_SECONDS: '1',
      RATE_LIMIT_MUTATIONS_PER_MINUTE: '3',
    });
    inspector = createRedisClient({
      kind: 'cluster',
      nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
    });
    metricsUrl = testApp.url.replace('/graphql', '/metrics');
    await eventually(
      () => [testApp.app.redis, strictApp.app.redis, inspector].every(connected),
      30_000,
      'the cluster clients to be connected to every node',
    );
  });

  afterAll(async () => {
    await Promise.allSettled([testApp?.stop(), strictApp?.stop()]);
    if (inspector) {
      await closeRedisClient(inspector);
    }
    await cluster?.stop();
  });

  it('uses the cluster client, and says Redis is up', async () => {
    expect(testApp.app.redis).toBeInstanceOf(Cluster);
    expect(strictApp.app.redis).toBeInstanceOf(Cluster);
    const health = await fetch(testApp.url.replace('/graphql', '/healthz'));
    expect(await health.json()).toEqual({
      status: 'ok',
      checks: { postgres: true, redis: true, rabbitmq: true },
    });
  });

  it("keeps a session's lock keys in one slot; the same scripts fail with CROSSSLOT once keys lose the tag", async () => {
    const locks = new SeatLocks(inspector);
    const sessionId = randomUUID();
    const seatIds = Array.from({ length: 10 }, () => randomUUID());
    const keys = seatIds.map((seatId) => SeatLocks.key(sessionId, seatId));
    const slots = await Promise.all(keys.map((key) => inspector.cluster('KEYSLOT', key)));
    expect(new Set(slots).size).toBe(1);

    const taken = await locks.acquire(sessionId, seatIds, 60_000);
    if (!taken.acquired) {
      throw new Error('the locks were not taken');
    }
    expect(await inspector.exists(...keys)).toBe(10);
    expect(await locks.acquire(sessionId, [seatIds[9], seatIds[0]], 60_000)).toEqual({
      acquired: false,
      heldSeatIds: [seatIds[9], seatIds[0]],
    });
    expect(await locks.extend(sessionId, seatIds, taken.token, 120_000)).toBe(10);
    expect(await locks.release(sessionId, seatIds, taken.token)).toBe(10);
    expect(await inspector.exists(...keys)).toBe(0);

    // The control: without the hash tag ten seats' keys spread over slots, which a cluster refuses.
    const untagged = jest
      .spyOn(SeatLocks, 'key')
      .mockImplementation((session: string, seat: string) => `seat:${session}:${seat}`);
    try {
      await expect(locks.acquire(sessionId, seatIds, 60_000)).rejects.toThrow(/CROSSSLOT/);
      await expect(locks.extend(sessionId, seatIds, taken.token, 60_000)).rejects.toThrow(/CROSSSLOT/);
      await expect(locks.release(sessionId, seatIds, taken.token)).rejects.toThrow(/CROSSSLOT/);
    } finally {
      untagged.mockRestore();
    }
  });

  it('120 concurrent reserves of the same three seats: one hold, turned away by the cluster locks', async () => {
    const session = await createSession(testApp, { rows: 2, seatsPerRow: 5 });
    const contested = session.seats.slice(0, 3).map((seat) => seat.id);
    const conflictsBefore = await metricValue(metricsUrl, CONFLICTS);

    const responses = await race(testApp, session, 120, () => contested);
    const winners = await expectOneHoldPerSeat(testApp, session, responses);

    expect(winners).toHaveLength(1);
    expect(winners[0].data!.reserve.seats.map((seat) => seat.id).sort()).toEqual([...contested].sort());
    // Every loser was turned away by the winner's locks, before PostgreSQL.
    expect((await metricValue(metricsUrl, CONFLICTS)) - conflictsBefore).toBe(responses.length - 1);
    expect(await lockedSeatCount(testApp, session.id, contested)).toBe(3);
    expect(await inspector.exists(...contested.map((seatId) => SeatLocks.key(session.id, seatId)))).toBe(3);
  });

  it('120 concurrent reserves of overlapping seats: every seat held at most once', async () => {
    const session = await createSession(testApp, { rows: 2, seatsPerRow: 5 });
    const contested = session.seats.slice(0, 6).map((seat) => seat.id);
    const responses = await race(testApp, session, 120, (index) => {
      const first = index % contested.length;
      return index % 2 === 0
        ? [contested[first]]
        : [contested[first], contested[(first + 1) % contested.length]];
    });
    const winners = await expectOneHoldPerSeat(testApp, session, responses);
    const wonSeats = winners.flatMap((winner) => winner.data!.reserve.seats.map((seat) => seat.id));
    expect(wonSeats.length).toBeGreaterThanOrEqual(3);
    expect(await lockedSeatCount(testApp, session.id, wonSeats)).toBe(wonSeats.length);
  });

  it('holds several seats at once on every master, and turns contenders away on each', async () => {
    const sessions = await sessionsOnEveryMaster(testApp, cluster);
    expect([...sessions.keys()].sort()).toEqual([...cluster.ports].sort());
    for (const [owner, session] of sessions) {
      const seatIds = session.seats.map((seat) => seat.id);
      const held = await reserveAs(testApp, uniqueUser('holder'), session.id, seatIds);
      expect(held.errors).toBeUndefined();
      // The locks are on the master that serves the session's slot.
      for (const seatId of seatIds) {
        expect((await cluster.cli(owner, 'EXISTS', SeatLocks.key(session.id, seatId))).trim()).toBe('1');
      }
      const conflictsBefore = await metricValue(metricsUrl, CONFLICTS);
      const contender = await reserveAs(testApp, uniqueUser('contender'), session.id, [seatIds[2]]);
      expect(contender.errors?.[0].extensions).toMatchObject({
        code: 'SEAT_UNAVAILABLE',
        seatIds: [seatIds[2]],
      });
      expect(await metricValue(metricsUrl, CONFLICTS)).toBe(conflictsBefore + 1);
    }
  });

  it('releases the locks on the cluster when a hold is cancelled; the seats can be held again', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 4 });
    const seatIds = session.seats.slice(0, 3).map((seat) => seat.id);
    const owner = uniqueUser('owner');
    const held = await reserveAs(testApp, owner, session.id, seatIds);
    expect(await lockedSeatCount(testApp, session.id, seatIds)).toBe(3);

    const cancelled = await testApp.graphql(
      CANCEL_RESERVATION,
      { reservationId: held.data!.reserve.id },
      await testApp.token(owner),
    );
    expect(cancelled.data?.cancelReservation.status).toBe('CANCELLED');
    expect(await inspector.exists(...seatIds.map((seatId) => SeatLocks.key(session.id, seatId)))).toBe(0);

    const again = await reserveAs(testApp, uniqueUser('next'), session.id, seatIds);
    expect(again.errors).toBeUndefined();
    expect(await lockedSeatCount(testApp, session.id, seatIds)).toBe(3);
  });

  it('lets the locks of an ended hold end with it; the seats can be held again', async () => {
    const session = await createSession(strictApp, { rows: 1, seatsPerRow: 3 });
    const seatIds = session.seats.slice(0, 2).map((seat) => seat.id);
    const keys = seatIds.map((seatId) => SeatLocks.key(session.id, seatId));
    const first = uniqueUser('first');
    const held = await reserveAs(strictApp, first, session.id, seatIds);
    expect(held.errors).toBeUndefined();
    // The locks end by themselves with the hold (HOLD_SECONDS=1): never a lock without a TTL
    // (-1), nor one outliving the hold. Gone already (-2) is fine too: this read may come after
    // the hold's second on a loaded machine (the tests above check that holds take locks).
    const ttl = await inspector.pttl(keys[0]);
    expect(ttl).not.toBe(-1);
    expect(ttl).toBeLessThanOrEqual(1_000);

    await eventually(async () => (await inspector.exists(...keys)) === 0, 15_000, 'the locks to end');
    // The expiry worker has marked it EXPIRED and freed its seats (no reserve races it then).
    await eventually(
      async () => {
        const [row] = await strictApp.app.orm.em
          .fork()
          .execute<{ status: string }[]>('select status from reservation where id = ?', [
            held.data!.reserve.id,
          ]);
        return row.status === 'EXPIRED';
      },
      15_000,
      'the hold to be expired',
    );
    const again = await reserveAs(strictApp, uniqueUser('second'), session.id, seatIds);
    expect(again.errors).toBeUndefined();
    expect(await inspector.exists(...keys)).toBe(2);
  });

  it('counts rate budgets on the cluster: the 4th mutation of a minute is RATE_LIMITED', async () => {
    // Budgets are per minute of the clock: start well inside one.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) {
      await sleep(60_000 - intoMinute + 100);
    }
    const window = Math.floor(Date.now() / 60_000);
    const userId = uniqueUser('eager');
    const token = await strictApp.token(userId);
    const cancel = () => strictApp.graphql(CANCEL_RESERVATION, { reservationId: randomUUID() }, token);
    for (let count = 1; count <= 3; count += 1) {
      expect((await cancel()).errors?.[0].extensions.code).toBe('NOT_FOUND');
    }
    const refused = await cancel();
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused.errors?.[0].extensions.retryAfterSeconds).toBeGreaterThan(0);
    // The counter is the cluster's, not the in-process fallback's.
    const key = `ratelimit:${strictApp.app.config.amqp.prefix}:mutation:user:${userId}:${window}`;
    expect(await inspector.get(key)).toBe('4');
  });

  it('goes on through PostgreSQL alone while the nodes are down, and takes locks again once they are back', async () => {
    const sessions = await sessionsOnEveryMaster(testApp, cluster, 8);
    const base = testApp.url.replace('/graphql', '');
    const health = async () => (await fetch(`${base}/healthz`)).json() as Promise<unknown>;
    const degraded = { status: 'degraded', checks: { postgres: true, redis: false, rabbitmq: true } };
    const [stopped, ...others] = cluster.ports;

    const conflictsBefore = await metricValue(metricsUrl, CONFLICTS);

    // One master down: the keys of its slots cannot be reached.
    await cluster.stopNode(stopped);
    await eventually(
      async () => JSON.stringify(await health()) === JSON.stringify(degraded),
      15_000,
      'healthz to say degraded',
    );
    const orphan = sessions.get(stopped)!;
    const oneNodeDown = await race(testApp, orphan, 40, () => [orphan.seats[0].id]);
    expect(await expectOneHoldPerSeat(testApp, orphan, oneNodeDown)).toHaveLength(1);
    // The other masters still serve their slots (the test cluster does not require full
    // coverage): a session whose keys they hold still gets its locks there.
    for (const port of others) {
      const session = sessions.get(port)!;
      const seatId = session.seats[3].id;
      const held = await reserveAs(testApp, uniqueUser('live'), session.id, [seatId]);
      expect(held.errors).toBeUndefined();
      expect((await cluster.cli(port, 'EXISTS', SeatLocks.key(session.id, seatId))).trim()).toBe('1');
    }

    // Every node down.
    for (const port of others) {
      await cluster.stopNode(port);
    }
    for (const session of sessions.values()) {
      const responses = await race(testApp, session, 40, () => [session.seats[1].id, session.seats[2].id]);
      expect(await expectOneHoldPerSeat(testApp, session, responses)).toHaveLength(1);
    }
    // No lock turned anyone away: PostgreSQL alone decided every race.
    expect(await metricValue(metricsUrl, CONFLICTS)).toBe(conflictsBefore);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await health()).toEqual(degraded);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain(
      'poltrona_dependency_up{dependency="redis"} 0',
    );

    // Back: the client reconnects by itself and reserves take cluster locks again.
    for (const port of cluster.ports) {
      await cluster.startNode(port);
    }
    await cluster.waitUntilHealthy();
    const healthy = { status: 'ok', checks: { postgres: true, redis: true, rabbitmq: true } };
    await eventually(
      async () => JSON.stringify(await health()) === JSON.stringify(healthy),
      30_000,
      'healthz to say ok again',
    );
    for (const [owner, session] of sessions) {
      // A reserve racing the reconnection may still go through PostgreSQL alone: try a few seats.
      let locked = false;
      for (const seat of session.seats.slice(4)) {
        const response = await reserveAs(testApp, uniqueUser('back'), session.id, [seat.id]);
        expect(response.errors).toBeUndefined();
        locked = (await cluster.cli(owner, 'EXISTS', SeatLocks.key(session.id, seat.id))).trim() === '1';
        if (locked) {
          break;
        }
      }
      expect(locked).toBe(true);
    }
  });
});
