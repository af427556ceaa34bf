import { Client as PostgresClient } from 'pg';
import { type Client } from 'graphql-ws';
import { createSession, lockedSeatCount, sessionFootprint } from '../support/factories';
import { statementsWaitingForLocks } from '../support/database-activity';
import { openClient, subscribe, websocketUrl } from '../support/subscriptions';
import { metricValue } from '../support/metrics';
import { eventually } from '../support/wait';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

const RESERVE = 'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }';

/** Reserves over plain HTTP, so the status and headers can be read. */
async function reserveOverHttp(testApp: TestApp, token: string, sessionId: string, seatId: string) {
  const response = await fetch(testApp.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: RESERVE, variables: { input: { sessionId, seatIds: [seatId] } } }),
  });
  const body = (await response.json()) as {
    data?: { reserve: { id: string } | null } | null;
    errors?: { extensions: Record<string, unknown> }[];
  };
  return { seatId, status: response.status, body };
}

type Answer = Awaited<ReturnType<typeof reserveOverHttp>>;

/** Resolves once `count` of `answers` have settled, with those. */
function firstSettled(answers: readonly Promise<Answer>[], count: number): Promise<Answer[]> {
  const settled: Answer[] = [];
  return new Promise((resolve, reject) => {
    for (const answer of answers) {
      answer.then((value) => {
        settled.push(value);
        if (settled.length === count) {
          resolve([...settled]);
        }
      }, reject);
    }
  });
}

/**
 * Admission control (DESIGN §7, overload): with room for one booking transaction at a time and
 * one more waiting, a burst of reserves of free seats gets RATE_LIMITED at once for all but
 * those two, the refused ones leave nothing behind (their seat locks are released), racers for
 * a held seat still lose with SEAT_UNAVAILABLE, and reads and subscriptions are served meanwhile. The
 * slot is held deterministically: the first reserve waits on a seat row a test transaction has
 * locked, and no answer is awaited by time.
 */
describe('admission control under a burst of reserves', () => {
  let testApp: TestApp;
  let blocker: PostgresClient;
  const clients: Client[] = [];

  beforeAll(async () => {
    testApp = await startTestApp({
      ADMISSION_MUTATIONS_CONCURRENCY: '1',
      ADMISSION_MUTATIONS_QUEUE: '1',
      // Reads have a lane of their own, just as small: booking load never fills it.
      ADMISSION_READS_CONCURRENCY: '1',
      // Long enough that the queued reserve outlasts the test's own steps.
      ADMISSION_QUEUE_TIMEOUT_MS: '8000',
      GRAPHQL_TIMEOUT_MS: '20000',
      DATABASE_LOCK_TIMEOUT_MS: '15000',
    });
    blocker = new PostgresClient({ connectionString: testApp.app.orm.config.get('clientUrl') });
    await blocker.connect();
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await blocker.end();
    await testApp.stop();
  });

  it('refuses all but the running and the queued one with RATE_LIMITED; the refused leave nothing behind', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 12 });
    const [first, ...others] = session.seats.map((seat) => seat.id);
    const burstSeats = others.slice(0, 8);
    const websocketSeat = others[8];
    const token = await testApp.token(uniqueUser());
    const tokens = await Promise.all(burstSeats.map(() => testApp.token(uniqueUser())));

    // The first reserve takes the only slot and waits on a row the test holds.
    await blocker.query('begin');
    await blocker.query('select id from seat where id = $1 for update', [first]);
    const running = reserveOverHttp(testApp, token, session.id, first);
    await eventually(
      async () => (await statementsWaitingForLocks(testApp.app.orm)) > 0,
      10_000,
      'the first reserve to wait for its row',
    );

    // A burst of 8: one waits for the slot, the other 7 are refused at once.
    const burst = burstSeats.map((seatId, index) =>
      reserveOverHttp(testApp, tokens[index], session.id, seatId),
    );
    const refused = await firstSettled(burst, 7);
    for (const answer of refused) {
      // Refused by its booking transaction, so answered like any other execution error.
      expect(answer.status).toBe(200);
      expect(answer.body.data ?? null).toBeNull();
      expect(answer.body.errors?.[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    }

    // Racers for the running reserve's seat are losers, not overload: the seat lock answers
    // them SEAT_UNAVAILABLE before they ask for a slot (DESIGN §6), full lane or not.
    const racers = await Promise.all(
      Array.from({ length: 5 }, async () =>
        reserveOverHttp(testApp, await testApp.token(uniqueUser()), session.id, first),
      ),
    );
    for (const racer of racers) {
      expect(racer.body.errors?.[0].extensions).toMatchObject({ code: 'SEAT_UNAVAILABLE' });
    }

    // Meanwhile reads are served, and so are subscriptions; a mutation over websocket is refused too.
    const read = await testApp.graphql<{ session: { id: string } }>(
      'query ($id: ID!) { session(id: $id) { id seats { id status } } }',
      { id: session.id },
      token,
    );
    expect(read.errors).toBeUndefined();
    expect(read.data?.session.id).toBe(session.id);
    const client = openClient(websocketUrl(testApp.url), token, testApp.app.subscriptionSignals);
    clients.push(client);
    const seatChanges = await subscribe(
      client,
      'subscription ($sessionId: ID!) { seatStatusChanged(sessionId: $sessionId) { seat { id } } }',
      { sessionId: session.id },
    );
    const overWebsocket = await subscribe(client, RESERVE, {
      input: { sessionId: session.id, seatIds: [websocketSeat] },
    });
    const websocketAnswer = await overWebsocket.next();
    expect(websocketAnswer.errors?.[0]).toMatchObject({
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 1 },
    });
    await seatChanges.close();

    // The row is freed: the running reserve and then the queued one succeed.
    await blocker.query('commit');
    const [runningAnswer, ...burstAnswers] = await Promise.all([running, ...burst]);
    expect(runningAnswer.status).toBe(200);
    expect(runningAnswer.body.data?.reserve?.id).toEqual(expect.any(String));
    const admitted = burstAnswers.filter((answer) => answer.body.errors === undefined);
    expect(admitted).toHaveLength(1);
    expect(admitted[0].body.data?.reserve?.id).toEqual(expect.any(String));

    // Only the two admitted reserves changed anything: no hold, seat change or lock of the refused.
    const refusedSeats = [...refused.map((answer) => answer.seatId), websocketSeat];
    expect(await sessionFootprint(testApp, session.id)).toMatchObject({
      reservations: 2,
      links: 2,
      changed: 2,
    });
    expect(await lockedSeatCount(testApp, session.id, refusedSeats)).toBe(0);
    const [{ count }] = await testApp.app.orm.em
      .fork()
      .execute<{ count: number }[]>(
        `select count(*)::int as count from seat where id in (${refusedSeats.map(() => '?').join(', ')}) and status = 'AVAILABLE' and version = 1`,
        refusedSeats,
      );
    expect(count).toBe(refusedSeats.length);

    // The gate is empty again and its refusals are in the metrics (7 over HTTP, 1 over websocket).
    const metricsUrl = testApp.url.replace('/graphql', '/metrics');
    expect(await metricValue(metricsUrl, 'poltrona_admission_refused_total', { class: 'mutation' })).toBe(8);
    expect(await metricValue(metricsUrl, 'poltrona_admission_operations', { class: 'mutation' })).toBe(0);
  });

  it('gives the slot back once answered: reserves one after another all pass', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 4 });
    for (const seat of session.seats) {
      const answer = await reserveOverHttp(testApp, await testApp.token(uniqueUser()), session.id, seat.id);
      expect(answer.status).toBe(200);
      expect(answer.body.data?.reserve?.id).toEqual(expect.any(String));
    }
  });
});
