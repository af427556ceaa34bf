import { SignJWT, importPKCS8 } from 'jose';
import WebSocket from 'ws';
import { createSession } from '../support/factories';
import { openClient, subscribe, websocketUrl } from '../support/subscriptions';
import { startTestApp, type TestApp, testPrivateKey, uniqueUser } from '../support/test-app';
import { eventually } from '../support/wait';

const SEAT_CHANGES = `subscription ($sessionId: ID!) { seatStatusChanged(sessionId: $sessionId) { sessionId } }`;

/** How a raw graphql-transport-ws connection attempt ended. */
type Handshake =
  | { outcome: 'open'; socket: WebSocket }
  | { outcome: 'refused'; status: number }
  | { outcome: 'closed'; code: number };

/**
 * Opens a websocket and, with `token`, sends connection_init: resolves once the server
 * acknowledged it (open), refused the upgrade (HTTP status) or closed the socket (close code).
 */
function handshake(
  url: string,
  options: { headers?: Record<string, string>; token?: string; origin?: string } = {},
): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = new WebSocket(websocketUrl(url), 'graphql-transport-ws', {
      headers: options.headers,
      origin: options.origin,
    });
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

async function closeAll(results: Handshake[]): Promise<void> {
  for (const result of results) {
    if (result.outcome === 'open') {
      result.socket.close();
    }
  }
}

describe('websocket connection and subscription caps', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({
      WS_MAX_CONNECTIONS_PER_CLIENT: '3',
      WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2',
      TRUSTED_PROXIES: '127.0.0.1',
    });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('refuses a fourth connection from one address at the upgrade with HTTP 429, and counts closes', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.7' };
    const opened = [await handshake(testApp.url, { headers }), await handshake(testApp.url, { headers })];
    opened.push(await handshake(testApp.url, { headers }));
    expect(opened.map((result) => result.outcome)).toEqual(['open', 'open', 'open']);
    expect(await handshake(testApp.url, { headers })).toEqual({ outcome: 'refused', status: 429 });
    // Another client (address) is not affected.
    const other = await handshake(testApp.url, { headers: { 'x-forwarded-for': '203.0.113.8' } });
    expect(other.outcome).toBe('open');

    await closeAll(opened.slice(0, 1));
    const again = await eventually(async () => {
      const result = await handshake(testApp.url, { headers });
      return result.outcome === 'open' ? result : false;
    });
    await closeAll([...opened, other, again]);
  });

  it('closes a fourth connection of one user with 4429 at connection_init, whatever the addresses', async () => {
    const token = await testApp.token(uniqueUser());
    const opened: Handshake[] = [];
    for (const address of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
      opened.push(await handshake(testApp.url, { headers: { 'x-forwarded-for': address }, token }));
    }
    expect(opened.map((result) => result.outcome)).toEqual(['open', 'open', 'open']);
    expect(await handshake(testApp.url, { headers: { 'x-forwarded-for': '198.51.100.4' }, token })).toEqual({
      outcome: 'closed',
      code: 4429,
    });
    await closeAll(opened);
  });

  it('counts signed-in users per user, not per address: many users may share one address', async () => {
    const headers = { 'x-forwarded-for': '198.51.100.50' };
    const opened: Handshake[] = [];
    for (let index = 0; index < 5; index += 1) {
      opened.push(await handshake(testApp.url, { headers, token: await testApp.token(uniqueUser()) }));
    }
    expect(opened.map((result) => result.outcome)).toEqual(['open', 'open', 'open', 'open', 'open']);
    await closeAll(opened);
  });

  it('gives the slot back when a client goes away in the middle of connection_init', async () => {
    const token = await testApp.token(uniqueUser());
    const headers = { 'x-forwarded-for': '198.51.100.60' };
    for (let attempt = 0; attempt < 8; attempt += 1) {
      // connection_init, then gone before the server could answer.
      await new Promise<void>((resolve) => {
        const socket = new WebSocket(websocketUrl(testApp.url), 'graphql-transport-ws', { headers });
        socket.on('error', () => undefined);
        socket.on('open', () => {
          socket.send(
            JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
          );
          socket.terminate();
        });
        socket.on('close', () => resolve());
      });
    }
    const again = await eventually(async () => {
      const result = await handshake(testApp.url, { headers, token });
      return result.outcome === 'open' ? result : false;
    });
    await closeAll([again]);
  });

  it('refuses bad variables of a subscribe message as BAD_USER_INPUT, like HTTP', async () => {
    const client = openClient(websocketUrl(testApp.url), undefined, testApp.app.subscriptionSignals);
    try {
      const errors = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: SEAT_CHANGES, variables: { sessionId: { not: 'an id' } } },
          { next: () => undefined, error: resolve, complete: () => resolve('complete') },
        );
      });
      expect((errors as { extensions: { code: string } }[])[0].extensions.code).toBe('BAD_USER_INPUT');
    } finally {
      await client.dispose();
    }
  });

  it('answers RATE_LIMITED to a subscription beyond the per-connection cap', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 2 });
    const client = openClient(websocketUrl(testApp.url), undefined, testApp.app.subscriptionSignals);
    try {
      const outcomes = await Promise.all(
        [0, 1, 2].map(
          (index) =>
            new Promise<string>((resolve) => {
              client.subscribe(
                { query: SEAT_CHANGES, variables: { sessionId: session.id } },
                {
                  next: () => undefined,
                  error: (error) =>
                    resolve(
                      Array.isArray(error)
                        ? String((error[0] as { extensions?: { code?: string } }).extensions?.code)
                        : 'socket error',
                    ),
                  complete: () => resolve('complete'),
                },
              );
              // The first two stay open: they never resolve by themselves.
              if (index < 2) {
                setTimeout(() => resolve('open'), 1_000).unref();
              }
            }),
        ),
      );
      expect(outcomes).toEqual(['open', 'open', 'RATE_LIMITED']);
    } finally {
      await client.dispose();
    }
  });
});

describe('tokens and long-lived connections', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });

  afterAll(async () => {
    await testApp.stop();
  });

  async function tokenWithoutExpiry(userId: string): Promise<string> {
    const key = await importPKCS8(testPrivateKey(), 'RS256');
    return new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt()
      .sign(key);
  }

  it('refuses a token without exp over HTTP and websocket', async () => {
    const token = await tokenWithoutExpiry(uniqueUser());
    const response = await testApp.graphql('{ myReservations { id } }', {}, token);
    expect(response.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await handshake(testApp.url, { token })).toEqual({ outcome: 'closed', code: 4403 });
  });

  it('refuses a token whose exp lies past the end of time', async () => {
    const key = await importPKCS8(testPrivateKey(), 'RS256');
    const token = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setSubject(uniqueUser())
      .setExpirationTime(9_469_076_175_469)
      .sign(key);
    expect((await testApp.graphql('{ myReservations { id } }', {}, token)).errors?.[0].extensions.code).toBe(
      'UNAUTHENTICATED',
    );
    expect(await handshake(testApp.url, { token })).toEqual({ outcome: 'closed', code: 4403 });
  });

  it('keeps a websocket open whose token is valid for longer than 24.8 days', async () => {
    const token = await testApp.token(uniqueUser(), { expiresIn: '60d' });
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 2 });
    const client = openClient(websocketUrl(testApp.url), token, testApp.app.subscriptionSignals);
    try {
      const subscription = await subscribe(client, SEAT_CHANGES, { sessionId: session.id });
      // Past the moment an overflowed timer would have fired, the connection still answers. A
      // check that nothing happens: Node runs a delay past 2^31 - 1 ms after 1 ms, so such a timer
      // (armed in this process when the connection was accepted) fires before this later, longer
      // one; waiting never fails a connection that stays open. The chaining itself is checked on
      // jest's fake timers in test/unit/long-timer.test.ts.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await expect(
        new Promise((resolve, reject) =>
          client.subscribe(
            { query: '{ __typename }' },
            { next: resolve, error: reject, complete: () => undefined },
          ),
        ),
      ).resolves.toEqual({ data: { __typename: 'Query' } });
      await subscription.close();
    } finally {
      await client.dispose();
    }
  });
});

describe('browser origins on the websocket', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ CORS_ORIGINS: 'http://localhost:5173' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it("always allows the API's own origin, adds the listed ones and refuses the rest", async () => {
    const own = await handshake(testApp.url, { origin: new URL(testApp.url).origin });
    expect(own.outcome).toBe('open');
    const listed = await handshake(testApp.url, { origin: 'http://localhost:5173' });
    expect(listed.outcome).toBe('open');
    expect(await handshake(testApp.url, { origin: 'https://evil.example' })).toEqual({
      outcome: 'refused',
      status: 401,
    });
    await closeAll([own, listed]);
  });
});

describe('client identity behind a load balancer', () => {
  const budget = { RATE_LIMIT_READS_PER_MINUTE: '2' };

  async function statuses(testApp: TestApp, forwardedFor: string[]): Promise<number[]> {
    const results: number[] = [];
    for (const address of forwardedFor) {
      const response = await fetch(testApp.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      results.push(response.status);
    }
    return results;
  }

  it('ignores X-Forwarded-For from a socket that is not a trusted proxy', async () => {
    const testApp = await startTestApp(budget);
    try {
      // Spoofed addresses change nothing: all three share the socket address's budget.
      expect(await statuses(testApp, ['192.0.2.1', '192.0.2.2', '192.0.2.3'])).toEqual([200, 200, 429]);
    } finally {
      await testApp.stop();
    }
  });

  it('counts per forwarded client behind a trusted proxy, believing only the right-most untrusted hop', async () => {
    const testApp = await startTestApp({ ...budget, TRUSTED_PROXIES: '127.0.0.0/8, ::1' });
    try {
      expect(await statuses(testApp, ['192.0.2.1', '192.0.2.2', '192.0.2.1', '192.0.2.2'])).toEqual([
        200, 200, 200, 200,
      ]);
      // A third request from each is over the budget of 2...
      expect(await statuses(testApp, ['192.0.2.1'])).toEqual([429]);
      // ...and prepending a made-up hop does not buy a new budget: the proxy appended the real one.
      expect(await statuses(testApp, ['10.9.9.9, 192.0.2.2', '10.9.9.8, 192.0.2.2'])).toEqual([429, 429]);
    } finally {
      await testApp.stop();
    }
  });
});
