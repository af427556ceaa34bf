import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { openEventStream, type RawEventStream, subscribeOverSse } from '../support/event-streams';
import { CONFIRM_PAYMENT, createSession, RESERVE } from '../support/factories';
import { metricValue } from '../support/metrics';
import { websocketUrl } from '../support/subscriptions';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';
import { eventually } from '../support/wait';

const SEAT_STATUS_CHANGED = `
  subscription ($sessionId: ID!) {
    seatStatusChanged(sessionId: $sessionId) { sessionId reservationId seats { id label status version } }
  }`;

const RESERVATION_UPDATED = `
  subscription ($reservationId: ID!) { reservationUpdated(reservationId: $reservationId) { id status sale { id } } }`;

interface SeatChange {
  seatStatusChanged: {
    sessionId: string;
    reservationId: string;
    seats: { id: string; label: string; status: string; version: number }[];
  };
}

/** Fields nested `levels` deep under a change's seats, alternating session and seats, ending with `id`. */
function nestedSelection(levels: number): string {
  const fields = Array.from({ length: levels - 1 }, (_, index) => (index % 2 === 0 ? 'session' : 'seats'));
  return `${fields.map((field) => `${field} {`).join(' ')} id ${'}'.repeat(fields.length)}`;
}

/** The events of a stream answered at once: one `next` carrying errors, then `complete`. */
async function refusedWith(stream: RawEventStream): Promise<Record<string, unknown>> {
  expect(stream.status).toBe(200);
  const events = await stream.rest();
  expect(events.map((event) => event.event)).toEqual(['next', 'complete']);
  const result = events[0].data as { data?: unknown; errors: { extensions: Record<string, unknown> }[] };
  expect(result.data).toBeUndefined();
  return result.errors[0].extensions;
}

/** Reserves one seat of `session` for `token`'s user; the reservation's id. */
async function reserveOne(
  testApp: TestApp,
  session: { id: string; seats: { id: string }[] },
  seat: number,
  token: string,
) {
  const reserved = await testApp.graphql(
    RESERVE,
    { input: { sessionId: session.id, seatIds: [session.seats[seat].id] } },
    token,
  );
  return reserved.data!.reserve.id;
}

describe('subscriptions over Server-Sent Events', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it("delivers a reserve's seat change to a graphql-sse client, as the websocket does", async () => {
    const session = await createSession(testApp);
    const watcher = await subscribeOverSse<SeatChange>(
      testApp.url,
      { query: SEAT_STATUS_CHANGED, variables: { sessionId: session.id } },
      { signals: testApp.app.subscriptionSignals },
    );
    const user = await testApp.token(uniqueUser());
    const reservationId = await reserveOne(testApp, session, 0, user);
    await testApp.graphql(CONFIRM_PAYMENT, { reservationId }, user);

    const first = (await watcher.next()).data!.seatStatusChanged;
    const second = (await watcher.next()).data!.seatStatusChanged;
    expect(first).toEqual({
      sessionId: session.id,
      reservationId,
      seats: [{ id: session.seats[0].id, label: 'A1', status: 'RESERVED', version: 2 }],
    });
    expect(second.seats[0]).toMatchObject({ status: 'SOLD', version: 3 });
    await watcher.close();
  });

  it('resumes after a map version over SSE, and answers RESYNC_REQUIRED as next + complete', async () => {
    const session = await createSession(testApp);
    const user = await testApp.token(uniqueUser());
    for (const seat of [0, 1, 2]) {
      await reserveOne(testApp, session, seat, user);
    }
    const resume = `subscription ($sessionId: ID!, $after: Int) {
      seatStatusChanged(sessionId: $sessionId, afterMapVersion: $after) { mapVersion }
    }`;
    const resumed = await subscribeOverSse<{ seatStatusChanged: { mapVersion: number } }>(
      testApp.url,
      { query: resume, variables: { sessionId: session.id, after: 1 } },
      { signals: testApp.app.subscriptionSignals },
    );
    await reserveOne(testApp, session, 3, user);
    const seen: number[] = [];
    while (seen.length < 3) {
      seen.push((await resumed.next()).data!.seatStatusChanged.mapVersion);
    }
    expect(seen).toEqual([2, 3, 4]);
    await resumed.close();
    const future = await openEventStream(testApp.url, {
      query: resume,
      variables: { sessionId: session.id, after: 99 },
    });
    expect(await refusedWith(future)).toMatchObject({ code: 'RESYNC_REQUIRED', mapVersion: 4 });
  });

  it('serves a GET stream, as a browser EventSource sends it', async () => {
    const session = await createSession(testApp);
    const stream = await openEventStream(
      testApp.url,
      { query: SEAT_STATUS_CHANGED, variables: { sessionId: session.id } },
      { method: 'GET', signals: testApp.app.subscriptionSignals },
    );
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('x-request-id')).toBeTruthy();
    await reserveOne(testApp, session, 1, await testApp.token(uniqueUser()));
    expect(await stream.next()).toMatchObject({
      event: 'next',
      data: {
        data: { seatStatusChanged: { sessionId: session.id, seats: [{ label: 'A2', status: 'RESERVED' }] } },
      },
    });
    stream.close();
  });

  it('tells the owner about their reservation, and refuses strangers and anonymous callers with next + complete', async () => {
    const session = await createSession(testApp);
    const ownerToken = await testApp.token(uniqueUser('owner'));
    const reservationId = await reserveOne(testApp, session, 2, ownerToken);

    const stranger = await openEventStream(
      testApp.url,
      { query: RESERVATION_UPDATED, variables: { reservationId } },
      { token: await testApp.token(uniqueUser('stranger')) },
    );
    expect(await refusedWith(stranger)).toEqual({ code: 'FORBIDDEN' });
    const anonymous = await openEventStream(testApp.url, {
      query: RESERVATION_UPDATED,
      variables: { reservationId },
    });
    expect(await refusedWith(anonymous)).toEqual({ code: 'UNAUTHENTICATED' });

    const owner = await subscribeOverSse<{
      reservationUpdated: { id: string; status: string; sale: { id: string } | null };
    }>(
      testApp.url,
      { query: RESERVATION_UPDATED, variables: { reservationId } },
      { token: ownerToken, signals: testApp.app.subscriptionSignals },
    );
    const sale = await testApp.graphql(CONFIRM_PAYMENT, { reservationId }, ownerToken);
    // The reservation's creation may still be on its way: it is answered with the state read then.
    let update = (await owner.next()).data!.reservationUpdated;
    while (update.status === 'PENDING') {
      update = (await owner.next()).data!.reservationUpdated;
    }
    expect(update).toEqual({
      id: reservationId,
      status: 'CONFIRMED',
      sale: { id: sale.data!.confirmPayment.id },
    });
    await owner.close();
  });

  it('answers NOT_FOUND for an unknown session and BAD_USER_INPUT for a malformed id, then completes', async () => {
    const unknown = await subscribeOverSse(testApp.url, {
      query: SEAT_STATUS_CHANGED,
      variables: { sessionId: randomUUID() },
    });
    expect((await unknown.next()).errors?.[0]).toMatchObject({
      message: expect.stringMatching(/does not exist/),
      extensions: { code: 'NOT_FOUND' },
    });
    await unknown.completed;
    const malformed = await openEventStream(testApp.url, {
      query: SEAT_STATUS_CHANGED,
      variables: { sessionId: 'seat-map-1' },
    });
    expect(await refusedWith(malformed)).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('refuses documents beyond the limits with the same codes as the websocket', async () => {
    const session = await createSession(testApp);
    const variables = { id: session.id };
    const deep = await openEventStream(testApp.url, {
      query: `subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { seats { ${nestedSelection(24)} } } }`,
      variables,
    });
    expect(await refusedWith(deep)).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'depth' });
    const aliases = Array.from({ length: 16 }, (_, index) => `a${index}: sessionId`).join(' ');
    const aliased = await openEventStream(testApp.url, {
      query: `subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { ${aliases} } }`,
      variables,
    });
    expect(await refusedWith(aliased)).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'aliases' });
    const costly = await openEventStream(testApp.url, {
      query: `subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { seats { session { seats { id } } } } }`,
      variables,
    });
    expect(await refusedWith(costly)).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'cost' });
    const unparsable = await openEventStream(testApp.url, { query: 'subscription {' });
    expect(await refusedWith(unparsable)).toMatchObject({ code: 'GRAPHQL_PARSE_FAILED' });
    const query = await openEventStream(testApp.url, { query: '{ __typename }' });
    expect(await refusedWith(query)).toEqual({ code: 'BAD_USER_INPUT', field: 'query' });
  });

  it('names both subscription transports when a subscription is POSTed to /graphql', async () => {
    const response = await testApp.graphql(SEAT_STATUS_CHANGED, { sessionId: randomUUID() });
    expect(response.status).toBe(400);
    expect(response.errors?.[0].message).toBe(
      'Subscriptions are not served over HTTP POST: use a websocket (graphql-transport-ws) on /graphql or Server-Sent Events (graphql-sse) on /graphql/stream.',
    );
  });

  it('closes the stream when its token expires: UNAUTHENTICATED, then complete', async () => {
    const session = await createSession(testApp);
    const token = await testApp.token(uniqueUser(), { expiresIn: '2s' });
    const stream = await openEventStream(
      testApp.url,
      { query: SEAT_STATUS_CHANGED, variables: { sessionId: session.id } },
      { token, signals: testApp.app.subscriptionSignals },
    );
    expect(stream.status).toBe(200);
    const events = await stream.rest();
    expect(events).toEqual([
      {
        event: 'next',
        data: {
          errors: [
            {
              message: 'The bearer token has expired: subscribe again with a new one.',
              extensions: { code: 'UNAUTHENTICATED' },
            },
          ],
        },
      },
      { event: 'complete', data: null },
    ]);
  });

  it('counts open streams in the metrics', async () => {
    const metricsUrl = testApp.url.replace(/\/graphql$/, '/metrics');
    const session = await createSession(testApp);
    const before = await metricValue(metricsUrl, 'poltrona_sse_connections');
    const stream = await openEventStream(
      testApp.url,
      { query: SEAT_STATUS_CHANGED, variables: { sessionId: session.id } },
      { signals: testApp.app.subscriptionSignals },
    );
    expect(await metricValue(metricsUrl, 'poltrona_sse_connections')).toBe(before + 1);
    stream.close();
    await eventually(async () => (await metricValue(metricsUrl, 'poltrona_sse_connections')) === before);
  });
});

describe('rate limits over Server-Sent Events', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ RATE_LIMIT_READS_PER_MINUTE: '2' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('counts each subscribe against the read budget and answers RATE_LIMITED past it', async () => {
    const session = await createSession(testApp);
    const token = await testApp.token(uniqueUser());
    const request = { query: SEAT_STATUS_CHANGED, variables: { sessionId: session.id } };
    const open = [
      await openEventStream(testApp.url, request, { token, signals: testApp.app.subscriptionSignals }),
      await openEventStream(testApp.url, request, { token, signals: testApp.app.subscriptionSignals }),
    ];
    expect(open.map((stream) => stream.status)).toEqual([200, 200]);
    const limited = await refusedWith(await openEventStream(testApp.url, request, { token }));
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    for (const stream of open) {
      stream.close();
    }
  });
});

/** How a raw graphql-transport-ws connection attempt ended. */
type Handshake =
  | { outcome: 'open'; socket: WebSocket }
  | { outcome: 'refused'; status: number }
  | { outcome: 'closed'; code: number };

/** Opens a websocket and sends connection_init; resolves once acknowledged, refused or closed. */
function handshake(url: string, options: { headers?: Record<string, string>; token?: string } = {}) {
  return new Promise<Handshake>((resolve) => {
    const socket = new WebSocket(websocketUrl(url), 'graphql-transport-ws', { headers: options.headers });
    socket.on('unexpected-response', (_request, response) => {
      resolve({ outcome: 'refused', status: response.statusCode ?? 0 });
      socket.terminate();
    });
    socket.on('error', () => undefined);
    socket.on('close', (code) => resolve({ outcome: 'closed', code }));
    socket.on('open', () => {
      const payload = options.token ? { authorization: `Bearer ${options.token}` } : {};
      socket.send(JSON.stringify({ type: 'connection_init', payload }));
    });
    socket.on('message', (data) => {
      if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') {
        resolve({ outcome: 'open', socket });
      }
    });
  });
}

describe('one connection cap for websockets and Server-Sent Events', () => {
  let testApp: TestApp;
  let sessionId: string;

  beforeAll(async () => {
    testApp = await startTestApp({ WS_MAX_CONNECTIONS_PER_CLIENT: '2', TRUSTED_PROXIES: '127.0.0.1' });
    sessionId = (await createSession(testApp)).id;
  });

  afterAll(async () => {
    await testApp.stop();
  });

  const stream = (headers: Record<string, string>, token?: string) =>
    openEventStream(
      testApp.url,
      { query: SEAT_STATUS_CHANGED, variables: { sessionId } },
      { headers, token, signals: testApp.app.subscriptionSignals },
    );

  it('counts an address: one websocket and one stream, then either is refused with 429', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.20' };
    const socket = await handshake(testApp.url, { headers });
    expect(socket.outcome).toBe('open');
    const first = await stream(headers);
    expect(first.status).toBe(200);

    const refused = await stream(headers);
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ errors: [{ extensions: { code: 'RATE_LIMITED', limit: 2 } }] });
    expect(await handshake(testApp.url, { headers })).toEqual({ outcome: 'refused', status: 429 });
    // Another address is not affected.
    const other = await stream({ 'x-forwarded-for': '203.0.113.21' });
    expect(other.status).toBe(200);

    // A closed stream gives its slot back.
    first.close();
    const again = await eventually(async () => {
      const result = await handshake(testApp.url, { headers });
      return result.outcome === 'open' ? result : false;
    });
    for (const each of [socket, again]) {
      if (each.outcome === 'open') {
        each.socket.close();
      }
    }
    other.close();
  });

  it('counts a user across addresses and transports: the third connection is refused', async () => {
    const token = await testApp.token(uniqueUser());
    const socket = await handshake(testApp.url, { headers: { 'x-forwarded-for': '198.51.100.31' }, token });
    expect(socket.outcome).toBe('open');
    const first = await stream({ 'x-forwarded-for': '198.51.100.32' }, token);
    expect(first.status).toBe(200);

    expect((await stream({ 'x-forwarded-for': '198.51.100.33' }, token)).status).toBe(429);
    expect(await handshake(testApp.url, { headers: { 'x-forwarded-for': '198.51.100.34' }, token })).toEqual({
      outcome: 'closed',
      code: 4429,
    });
    // Users sharing an address each have their own budget.
    const neighbour = await stream({ 'x-forwarded-for': '198.51.100.32' }, await testApp.token(uniqueUser()));
    expect(neighbour.status).toBe(200);
    first.close();
    neighbour.close();
    if (socket.outcome === 'open') {
      socket.socket.close();
    }
  });
});

describe('stopping the server', () => {
  it('ends open streams itself (without complete, so clients reconnect), so its drain has nothing to wait for', async () => {
    const testApp = await startTestApp();
    const session = await createSession(testApp);
    const streams = await Promise.all(
      [0, 1].map(() =>
        openEventStream(
          testApp.url,
          { query: SEAT_STATUS_CHANGED, variables: { sessionId: session.id } },
          { signals: testApp.app.subscriptionSignals },
        ),
      ),
    );
    await testApp.stop();
    for (const each of streams) {
      expect(await each.rest()).toEqual([]);
      // Finished by the server (its last chunk sent), not cut: a stream the drain did not end
      // would be destroyed with its connection once Apollo's 10 s grace period ran out.
      expect(each.ending()).toBe('finished');
    }
  });
});
