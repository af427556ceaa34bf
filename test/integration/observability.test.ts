import { createSession, RESERVE } from '../support/factories';
import { captureLogs } from '../support/log-capture';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

describe('logs and metrics', () => {
  const logs = captureLogs();
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ LOG_LEVEL: 'info' }, logs.logger);
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('exposes the operational series at /metrics after a reserve', async () => {
    const session = await createSession(testApp);
    const token = await testApp.token(uniqueUser());
    await testApp.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      token,
    );
    await testApp.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      token,
    );
    const response = await fetch(testApp.url.replace('/graphql', '/metrics'));
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const series of [
      'poltrona_graphql_operation_duration_seconds_count{field="reserve",type="mutation",outcome="ok"} 1',
      'poltrona_graphql_operation_duration_seconds_count{field="reserve",type="mutation",outcome="SEAT_UNAVAILABLE"} 1',
      'poltrona_reserve_outcomes_total{outcome="held"} 1',
      'poltrona_reserve_outcomes_total{outcome="SEAT_UNAVAILABLE"} 1',
      'poltrona_seat_lock_conflicts_total 1',
      'poltrona_outbox_backlog ',
      'poltrona_outbox_oldest_age_seconds ',
      'poltrona_consumer_message_age_seconds',
      'poltrona_active_subscriptions ',
      'poltrona_websocket_connections ',
      'poltrona_sse_connections ',
      'poltrona_database_pool_used ',
      'poltrona_dependency_up{dependency="postgres"} 1',
      'poltrona_dependency_up{dependency="redis"} 1',
      'poltrona_dependency_up{dependency="rabbitmq"} 1',
      'poltrona_process_resident_memory_bytes ',
    ]) {
      expect(text).toContain(series);
    }
  });

  it('writes one JSON line per operation, with request id, operation, user and duration, never the token', async () => {
    const userId = uniqueUser('logged');
    const token = await testApp.token(userId);
    const response = await fetch(testApp.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'x-request-id': 'req-42',
      },
      body: JSON.stringify({ query: 'query Mine { myReservations { id } }' }),
    });
    expect(response.headers.get('x-request-id')).toBe('req-42');
    const line = logs.lines().find((entry) => entry.requestId === 'req-42');
    expect(line).toMatchObject({
      msg: 'GraphQL operation',
      operationName: 'Mine',
      operationType: 'query',
      userId,
      outcome: 'ok',
      durationMs: expect.any(Number),
    });
    const everything = logs
      .lines()
      .map((entry) => JSON.stringify(entry))
      .join('\n');
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.split('.')[2]);
  });

  it('labels metrics from closed sets only: client-chosen operation names and refused documents add no series', async () => {
    const metricsText = async () => (await fetch(testApp.url.replace('/graphql', '/metrics'))).text();
    const operationSeries = (text: string) =>
      text.split('\n').filter((line) => line.startsWith('poltrona_graphql_operation_duration_seconds'));
    // One of each kind first, so the series that legitimately exist are there already.
    await testApp.graphql('query Warm { __typename }');
    await testApp.graphql('query { __typename');
    await testApp.graphql('{ nope }');
    const before = operationSeries(await metricsText());
    for (let index = 0; index < 9; index += 1) {
      await testApp.graphql(`query Attacker${index}x${'y'.repeat(index * 10)} { __typename }`);
      await testApp.graphql(`query Broken${index} { __typename`);
      await testApp.graphql(`query Invalid${index} { field${index} }`);
    }
    const after = operationSeries(await metricsText());
    expect(after.length).toBe(before.length);
    expect(after.join('\n')).not.toContain('Attacker');
    expect(after.join('\n')).not.toContain('Broken');
    expect(after.join('\n')).not.toContain('field1');
  });
});
