import { Client } from 'pg';
import { createSession, lockedSeatCount, RESERVE, sessionFootprint } from '../support/factories';
import { busyConnections, statementsWaitingForLocks } from '../support/database-activity';
import { eventually } from '../support/wait';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

/** A PostgreSQL connection of its own, outside the app's pool, to hold locks the app must wait for. */
async function connectBlocker(testApp: TestApp): Promise<Client> {
  const blocker = new Client({ connectionString: testApp.app.orm.config.get('clientUrl') });
  await blocker.connect();
  return blocker;
}

/** Locks one seat's row in an open transaction until `commit()` is called. */
async function holdSeatRow(blocker: Client, seatId: string): Promise<{ commit: () => Promise<void> }> {
  await blocker.query('begin');
  await blocker.query('select id from seat where id = $1 for update', [seatId]);
  return {
    commit: async () => {
      await blocker.query('commit');
    },
  };
}

/** Reserves over plain HTTP, so the status and headers can be read. */
async function reserveOverHttp(
  testApp: TestApp,
  token: string,
  input: { sessionId: string; seatIds: string[]; idempotencyKey?: string },
) {
  const response = await fetch(testApp.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }',
      variables: { input },
    }),
  });
  const body = (await response.json()) as {
    data?: { reserve: { id: string } | null } | null;
    errors?: { extensions: Record<string, unknown> }[];
  };
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
}

describe('a request that times out', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    // Only the request's deadline can stop the wait: the lock timeout is far longer.
    testApp = await startTestApp({ GRAPHQL_TIMEOUT_MS: '1000', DATABASE_LOCK_TIMEOUT_MS: '5000' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('answers 503 TIMEOUT and leaves no reservation, seat change, event or Redis lock, even once the seat is free', async () => {
    const session = await createSession(testApp);
    const seatId = session.seats[0].id;
    const blocker = await connectBlocker(testApp);
    try {
      const held = await holdSeatRow(blocker, seatId);

      const answer = await reserveOverHttp(testApp, await testApp.token(uniqueUser()), {
        sessionId: session.id,
        seatIds: [seatId],
      });
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBe('1');
      expect(answer.body.errors?.[0].extensions).toMatchObject({
        code: 'INTERNAL_SERVER_ERROR',
        reason: 'TIMEOUT',
      });

      // The seat is held past the answer, then freed.
      await held.commit();
      // Had the reserve only been abandoned, it would take the freed row and commit now: wait
      // until nothing is left running or open on the database.
      await eventually(async () => (await busyConnections(testApp.app.orm)) === 0, 5_000, 'a quiet database');
      expect(await sessionFootprint(testApp, session.id)).toEqual({
        reservations: 0,
        links: 0,
        sales: 0,
        outbox: 0,
        changed: 0,
      });
      expect(await lockedSeatCount(testApp, session.id, [seatId])).toBe(0);
    } finally {
      await blocker.end();
    }
  });

  it('answers normally when the work commits within the time', async () => {
    const session = await createSession(testApp);
    const seatId = session.seats[0].id;
    const blocker = await connectBlocker(testApp);
    try {
      const held = await holdSeatRow(blocker, seatId);
      // The row is freed once the reserve waits for it.
      const released = eventually(
        async () => (await statementsWaitingForLocks(testApp.app.orm)) > 0,
        5_000,
        'the reserve to wait for the row',
      ).then(held.commit);
      const answer = await reserveOverHttp(testApp, await testApp.token(uniqueUser()), {
        sessionId: session.id,
        seatIds: [seatId],
      });
      await released;
      expect(answer.status).toBe(200);
      expect(answer.body.data?.reserve?.id).toEqual(expect.any(String));
      expect((await sessionFootprint(testApp, session.id)).reservations).toBe(1);
    } finally {
      await blocker.end();
    }
  });

  it('waits for a pooled connection and idles in a transaction only for a bounded time', async () => {
    // The pg Pool bounds a queued wait for a connection by its connectionTimeoutMillis.
    const pool = (await testApp.app.orm.em.getConnection().getNativeClient()) as unknown as {
      options: { connectionTimeoutMillis: number };
    };
    // DATABASE_POOL_ACQUIRE_TIMEOUT_MS defaults to half the request timeout here.
    expect(pool.options.connectionTimeoutMillis).toBe(500);
    const [setting] = await testApp.app.orm.em
      .fork()
      .execute<{ idle_in_transaction_session_timeout: string }[]>('show idle_in_transaction_session_timeout');
    expect(setting.idle_in_transaction_session_timeout).toBe('30s');
  });
});

describe('lock waits', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ DATABASE_LOCK_TIMEOUT_MS: '300' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  // Without a key the hold statement waits for the user's lock itself; with one, a statement of
  // its own takes the lock first (the key's re-check runs under it).
  it.each([
    ['without an idempotency key', {}],
    ['with an idempotency key', { idempotencyKey: 'queued-key' }],
  ])(
    "answers RATE_LIMITED when the user's own reserves queue past lock_timeout, and leaves nothing (%s)",
    async (_, key) => {
      const session = await createSession(testApp);
      const seatId = session.seats[0].id;
      const userId = uniqueUser();
      const token = await testApp.token(userId);
      const blocker = await connectBlocker(testApp);
      try {
        // The per-user lock (entities/user-holds-lock.ts), as another reserve of this user holds it.
        await blocker.query('begin');
        await blocker.query('select pg_advisory_xact_lock(7204, hashtext($1))', [userId]);
        const refused = await testApp.graphql(
          RESERVE,
          { input: { sessionId: session.id, seatIds: [seatId], ...key } },
          token,
        );
        expect(refused.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
        expect(await sessionFootprint(testApp, session.id)).toMatchObject({ reservations: 0, changed: 0 });
        expect(await lockedSeatCount(testApp, session.id, [seatId])).toBe(0);
        await blocker.query('rollback');

        const retried = await testApp.graphql(
          RESERVE,
          { input: { sessionId: session.id, seatIds: [seatId] } },
          token,
        );
        expect(retried.errors).toBeUndefined();
      } finally {
        await blocker.end();
      }
    },
  );

  it("still answers SEAT_UNAVAILABLE when a seat's row stays locked past lock_timeout", async () => {
    const session = await createSession(testApp);
    const seatId = session.seats[0].id;
    const blocker = await connectBlocker(testApp);
    try {
      const held = await holdSeatRow(blocker, seatId);
      const refused = await testApp.graphql(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [seatId] } },
        await testApp.token(uniqueUser()),
      );
      await held.commit();
      expect(refused.errors?.[0].extensions).toMatchObject({ code: 'SEAT_UNAVAILABLE', seatIds: [seatId] });
    } finally {
      await blocker.end();
    }
  });
});

describe('no pooled connection in time', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ DATABASE_POOL_SIZE: '1', DATABASE_POOL_ACQUIRE_TIMEOUT_MS: '100' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('answers RATE_LIMITED with retryAfterSeconds (load, not a fault), and serves again once a connection frees', async () => {
    const token = await testApp.token(uniqueUser());
    const query = '{ myReservations { id } }';
    let release!: () => void;
    const freed = new Promise<void>((resolve) => (release = resolve));
    let taken!: () => void;
    const holding = new Promise<void>((resolve) => (taken = resolve));
    // Keeps the pool's only connection busy until released.
    const hog = testApp.app.orm.em.fork().transactional(async (tx) => {
      await tx.execute('select 1');
      taken();
      await freed;
    });
    await holding;
    try {
      const refused = await testApp.graphql(query, {}, token);
      expect(refused.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    } finally {
      release();
      await hog;
    }
    const served = await testApp.graphql(query, {}, token);
    expect(served.errors).toBeUndefined();
  });
});
