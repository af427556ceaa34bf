import { randomBytes } from 'node:crypto';
import { type Client } from 'graphql-ws';
import { topologyNames } from '../../src/events/topology';
import { createSession } from '../support/factories';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { freePort, type ServiceProcess, startService } from '../support/processes';
import { openClient, subscribe, websocketUrl } from '../support/subscriptions';
import {
  remoteApp,
  removeTopology,
  startTestApp,
  type TestApp,
  testEnvironment,
  uniqueUser,
} from '../support/test-app';
import { TEST_AMQP_URL } from '../support/test-environment';
import { eventually } from '../support/wait';

const SEAT_CHANGES = `subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { seats { id status } } }`;
type SeatChange = { seatStatusChanged: { seats: { id: string; status: string }[] } };
const RESERVE = `mutation ($input: ReserveInput!) { reserve(input: $input) { id } }`;
const HOLD_SECONDS = 1;

// OTLP span kinds.
const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

/**
 * The real server (`node dist/src/main.js`, as `npm start` runs it) with tracing on, exporting
 * to an OTLP/HTTP receiver in this test: jest's module registry would keep the
 * instrumentations from patching anything in process, so the process is the faithful unit.
 */
describe('tracing (OpenTelemetry)', () => {
  const receiver = new OtlpReceiver();
  let service: ServiceProcess;
  let client: Client;
  let env: Record<string, string>;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    env = testEnvironment({
      HOLD_SECONDS: String(HOLD_SECONDS),
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'poltrona-tracing-test',
      // Exported every 100 ms: the test polls the receiver, it never waits a fixed time.
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
    });
    service = await startService(env);
    client = openClient(websocketUrl(`${service.baseUrl}/graphql`));
  });

  afterAll(async () => {
    await client?.dispose();
    // A clean exit: the spans still batched are flushed on the way out.
    expect(await service?.stop('SIGTERM')).toBe(0);
    await receiver.stop();
    await removeTopology(TEST_AMQP_URL, topologyNames(env.AMQP_PREFIX, HOLD_SECONDS)).catch(() => undefined);
  });

  it('one reserve is one trace: HTTP, GraphQL, the Redis lock, the transaction and its outbox rows, the relay, the expiry consumer and the live delivery to a subscriber', async () => {
    const api = remoteApp(service.baseUrl);
    const session = await createSession(api);
    const seatMap = await subscribe<SeatChange>(client, SEAT_CHANGES, { id: session.id });
    const token = await api.token(uniqueUser());
    // A first change proves the subscription is registered (the server is another process).
    const probe = await api.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      token,
    );
    expect(probe.errors).toBeUndefined();
    expect((await seatMap.next()).data?.seatStatusChanged.seats[0]).toEqual({
      id: session.seats[0].id,
      status: 'RESERVED',
    });

    // The caller starts the trace (as a traced front end or gateway would): its id is known.
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const seatId = session.seats[1].id;
    const response = await fetch(api.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        traceparent: `00-${traceId}-${callerSpanId}-01`,
      },
      body: JSON.stringify({
        query: RESERVE,
        variables: { input: { sessionId: session.id, seatIds: [seatId] } },
      }),
    });
    const reserved = (await response.json()) as { data?: { reserve: { id: string } }; errors?: unknown };
    expect(reserved.errors).toBeUndefined();
    // Held, then (HOLD_SECONDS later, through the delay queue and the expiry consumer) free again.
    const changes: string[] = [];
    while (!changes.includes('AVAILABLE')) {
      const { seats } = (await seatMap.next()).data!.seatStatusChanged;
      changes.push(...seats.filter((seat) => seat.id === seatId).map((seat) => seat.status));
    }
    expect(changes).toEqual(['RESERVED', 'AVAILABLE']);

    const has = (spans: ReceivedSpan[], predicate: (span: ReceivedSpan) => boolean) => spans.some(predicate);
    const expected: Record<string, (span: ReceivedSpan) => boolean> = {
      'HTTP server span': (span) => span.kind === SERVER && span.parentSpanId === callerSpanId,
      'GraphQL execution': (span) =>
        span.name === 'mutation' && span.attributes['graphql.operation.type'] === 'mutation',
      'reserve use case': (span) => span.name === 'reserve',
      'Redis lock': (span) => span.name === 'seat locks acquire',
      'Redis script (ioredis)': (span) =>
        span.attributes['db.system'] === 'redis' || span.attributes['db.system.name'] === 'redis',
      'booking transaction': (span) => span.name === 'booking transaction',
      'outbox row insert (pg)': (span) => /insert into "?outbox_event/i.test(statementOf(span)),
      'relay publish of reservation.created': (span) =>
        span.kind === PRODUCER && span.name === 'reservation.created publish',
      'relay publish of the seat change': (span) =>
        span.kind === PRODUCER && span.name === 'seat.status-changed publish',
      'expiry consumer': (span) => span.kind === CONSUMER && span.name === 'expiry process',
      'relay publish of reservation.expired': (span) =>
        span.kind === PRODUCER && span.name === 'reservation.expired publish',
      'live fan-out consumer': (span) =>
        span.kind === CONSUMER && span.name === 'live fan-out seat.status-changed',
      'delivery to subscribers': (span) => span.name === 'subscription deliver',
    };
    let trace: ReceivedSpan[] = [];
    const missing = () =>
      Object.entries(expected)
        .filter(([, predicate]) => !has(trace, predicate))
        .map(([name]) => name);
    try {
      await eventually(
        () => {
          trace = receiver.trace(traceId);
          return missing().length === 0 && orphans(trace, callerSpanId).length === 0;
        },
        20_000,
        'the whole trace',
      );
    } catch (error) {
      // What did arrive, to tell which hop broke the trace.
      console.log(
        trace
          .map(
            (span) =>
              `${span.name} kind=${span.kind} ${span.spanId}<-${span.parentSpanId} ${JSON.stringify(span.attributes)}`,
          )
          .join('\n'),
      );
      throw error;
    }
    expect(missing()).toEqual([]);
    // MikroORM inlines values into its SQL: the pg spans carry the statements' shape, no data.
    const isPostgres = (span: ReceivedSpan) =>
      [span.attributes['db.system'], span.attributes['db.system.name']].includes('postgresql');
    const statements = trace.filter(isPostgres).map(statementOf);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement).not.toContain(session.id);
      expect(statement).not.toContain(seatId);
    }
    // One tree: every span's parent is the caller's span or another span of the trace.
    expect(orphans(trace, callerSpanId)).toEqual([]);
    // The hops are nested as the story goes: through the outbox and the broker, and back again.
    const lineage = (span: ReceivedSpan) => ancestors(trace, span).map((ancestor) => ancestor.name);
    const expiry = trace.find((span) => span.name === 'expiry process')!;
    expect(lineage(expiry)).toEqual(
      expect.arrayContaining(['reservation.created publish', 'booking transaction', 'reserve', 'mutation']),
    );
    const deliveries = trace.filter((span) => span.name === 'subscription deliver').map(lineage);
    // Two deliveries reached the subscriber in this trace: the hold, and its expiry.
    expect(deliveries).toEqual(
      expect.arrayContaining([
        expect.arrayContaining([
          'live fan-out seat.status-changed',
          'seat.status-changed publish',
          'reserve',
        ]),
        expect.arrayContaining([
          'live fan-out seat.status-changed',
          'seat.status-changed publish',
          'booking transaction',
          'expiry process',
          'reserve',
        ]),
      ]),
    );
    expect(deliveries.filter((names) => names.includes('expiry process'))).toHaveLength(1);
    expect(new Set(trace.map((span) => span.serviceName))).toEqual(new Set(['poltrona-tracing-test']));
  });
});

/**
 * A collector that cannot be reached: the exporter retries for longer than Docker waits
 * between SIGTERM and SIGKILL, and the process must not wait for it, nor call that unclean.
 */
describe('tracing with an unreachable collector', () => {
  let env: Record<string, string>;

  afterAll(async () => {
    await removeTopology(TEST_AMQP_URL, topologyNames(env.AMQP_PREFIX, HOLD_SECONDS)).catch(() => undefined);
  });

  it('still exits 0 on SIGTERM, giving up on the last spans', async () => {
    // Bound a moment ago and closed again: nothing listens there.
    const port = await freePort();
    env = testEnvironment({
      HOLD_SECONDS: String(HOLD_SECONDS),
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_TRACES_SAMPLER: 'always_on',
      // Nothing exported before the shutdown: the spans below are all left for it to flush.
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    });
    const service = await startService(env);
    try {
      // Traced work (HTTP, GraphQL, SQL), so the shutdown has spans to export.
      await createSession(remoteApp(service.baseUrl));
    } finally {
      // A generous deadline for the wait itself: it is the exit code that is tested.
      const code = await Promise.race([
        service.stop('SIGTERM'),
        new Promise<string>((resolve) => setTimeout(() => resolve('no exit within 30 s'), 30_000).unref()),
      ]);
      if (code !== 0) {
        service.child.kill('SIGKILL');
        console.log(service.output());
      }
      expect(code).toBe(0);
    }
    expect(service.output()).not.toContain('Unclean shutdown');
  });
});

/** The default: no `OTEL_*` variable, so no trace, and nothing of one stored or sent. */
describe('tracing off', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });

  afterAll(async () => {
    await testApp?.stop();
  });

  it('a reserve writes its outbox rows without a trace context', async () => {
    const session = await createSession(testApp);
    const reserved = await testApp.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      await testApp.token(uniqueUser()),
    );
    expect(reserved.errors).toBeUndefined();
    const rows = await testApp.app.orm.em
      .fork()
      .execute<{ topic: string; trace_context: unknown }[]>(
        `select topic, trace_context from outbox_event where payload->>'sessionId' = ? order by id`,
        [session.id],
      );
    expect(rows.map((row) => row.topic)).toEqual(
      expect.arrayContaining(['reservation.created', 'seat.status-changed']),
    );
    expect(rows.every((row) => row.trace_context === null)).toBe(true);
  });
});

function statementOf(span: ReceivedSpan): string {
  return String(span.attributes['db.query.text'] ?? span.attributes['db.statement'] ?? '');
}

/** The span's parent, its parent's parent, … up to the root of the trace. */
function ancestors(trace: ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const byId = new Map(trace.map((each) => [each.spanId, each]));
  const found: ReceivedSpan[] = [];
  for (let parent = byId.get(span.parentSpanId ?? ''); parent; parent = byId.get(parent.parentSpanId ?? '')) {
    found.push(parent);
  }
  return found;
}

function orphans(trace: ReceivedSpan[], rootParent: string): ReceivedSpan[] {
  const ids = new Set(trace.map((span) => span.spanId));
  return trace.filter((span) => span.parentSpanId !== rootParent && !ids.has(span.parentSpanId ?? ''));
}
