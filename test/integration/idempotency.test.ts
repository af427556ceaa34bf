import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { statementsWaitingForLocks } from '../support/database-activity';
import { createSession, RESERVE, sessionFootprint } from '../support/factories';
import { eventually } from '../support/wait';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

const CONCURRENT_USES = 8;

describe('idempotencyKey', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    // A short request timeout for the retry-after-503 case; lock waits end only by that deadline.
    testApp = await startTestApp({ GRAPHQL_TIMEOUT_MS: '1000', DATABASE_LOCK_TIMEOUT_MS: '5000' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('gives every concurrent first use of one key the same reservation', async () => {
    const session = await createSession(testApp);
    const token = await testApp.token(uniqueUser());
    const input = {
      sessionId: session.id,
      seatIds: [session.seats[0].id, session.seats[1].id],
      idempotencyKey: randomUUID(),
    };

    const answers = await Promise.all(
      Array.from({ length: CONCURRENT_USES }, () => testApp.graphql(RESERVE, { input }, token)),
    );

    expect(answers.map((answer) => answer.errors)).toEqual(Array(CONCURRENT_USES).fill(undefined));
    const ids = new Set(answers.map((answer) => answer.data!.reserve.id));
    expect(ids.size).toBe(1);
    const footprint = await sessionFootprint(testApp, session.id);
    expect(footprint.reservations).toBe(1);
    expect(footprint.links).toBe(2);
  });

  it('refuses the key for a different seat selection, also when both are first uses at once', async () => {
    const session = await createSession(testApp);
    const token = await testApp.token(uniqueUser());
    const idempotencyKey = randomUUID();
    const [first, second] = await Promise.all(
      [session.seats[0].id, session.seats[1].id].map((seatId) =>
        testApp.graphql(
          RESERVE,
          { input: { sessionId: session.id, seatIds: [seatId], idempotencyKey } },
          token,
        ),
      ),
    );
    const codes = [first, second].map((answer) => answer.errors?.[0].extensions.code ?? 'OK').sort();
    expect(codes).toEqual(['BAD_USER_INPUT', 'OK']);

    const again = await testApp.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[2].id], idempotencyKey } },
      token,
    );
    expect(again.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    expect((await sessionFootprint(testApp, session.id)).reservations).toBe(1);
  });

  it('does the work once when retried right after a 503, while the timed-out use is still being undone', async () => {
    const session = await createSession(testApp);
    const seatId = session.seats[0].id;
    const token = await testApp.token(uniqueUser());
    const input = { sessionId: session.id, seatIds: [seatId], idempotencyKey: randomUUID() };
    const blocker = new Client({ connectionString: testApp.app.orm.config.get('clientUrl') });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select id from seat where id = $1 for update', [seatId]);
      const timedOut = await fetch(testApp.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: 'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }',
          variables: { input },
        }),
      });
      expect(timedOut.status).toBe(503);

      // The row is freed once the retry waits for it: early in the retry's own time budget, so
      // a slow machine cannot turn the retry into a second timeout.
      const retrying = testApp.graphql(RESERVE, { input }, token);
      await eventually(
        async () => (await statementsWaitingForLocks(testApp.app.orm)) > 0,
        5_000,
        'the retry to wait for the row',
      );
      await blocker.query('commit');
      const retried = await retrying;
      expect(retried.errors).toBeUndefined();
      const again = await testApp.graphql(RESERVE, { input }, token);
      expect(again.data?.reserve.id).toBe(retried.data!.reserve.id);

      const footprint = await sessionFootprint(testApp, session.id);
      expect(footprint.reservations).toBe(1);
      expect(footprint.links).toBe(1);
    } finally {
      await blocker.end();
    }
  });
});
