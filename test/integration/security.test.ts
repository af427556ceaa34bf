import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { exportJWK, importSPKI, SignJWT } from 'jose';
import WebSocket from 'ws';
import { generateKeyPair, signToken } from '../../src/infra/dev-keys';
import { createSession, sessionFootprint } from '../support/factories';
import { openClient, subscribe, websocketUrl } from '../support/subscriptions';
import { startTcpProxy } from '../support/tcp-proxy';
import { startTestApp, type TestApp, testPrivateKey, uniqueUser } from '../support/test-app';
import { eventually } from '../support/wait';

/** Fields nested `levels` deep, alternating seats and session from `first`, ending with `id`. */
function nestedSelection(levels: number, first: 'seats' | 'session'): string {
  const second = first === 'seats' ? 'session' : 'seats';
  const fields = Array.from({ length: levels - 1 }, (_, index) => (index % 2 === 0 ? first : second));
  return `${fields.map((field) => `${field} {`).join(' ')} id ${'}'.repeat(fields.length)}`;
}

describe('operation limits', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('refuses a query 25 levels deep before running it', async () => {
    const session = await createSession(testApp);
    // session(id) + 23 nested fields + id: 25 levels.
    const response = await testApp.graphql(
      `query ($id: ID!) { session(id: $id) { ${nestedSelection(24, 'seats')} } }`,
      {
        id: session.id,
      },
    );
    expect(response.data).toBeUndefined();
    // A refusal of the whole document is a client error (GraphQL over HTTP), never a 5xx.
    expect(response.status).toBe(400);
    expect(response.errors?.[0].extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      limit: 'depth',
      actual: 25,
    });
  });

  it('refuses 100 aliased reserve mutations, and nothing is created', async () => {
    const session = await createSession(testApp, { rows: 10, seatsPerRow: 10 });
    const fields = session.seats.map(
      (seat, index) =>
        `r${index}: reserve(input: { sessionId: "${session.id}", seatIds: ["${seat.id}"] }) { id }`,
    );
    const before = await sessionFootprint(testApp, session.id);
    const response = await testApp.graphql(
      `mutation { ${fields.join('\n')} }`,
      {},
      await testApp.token(uniqueUser()),
    );
    expect(response.status).toBe(400);
    expect(response.errors?.[0].extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      limit: 'aliases',
      actual: 100,
    });
    expect(await sessionFootprint(testApp, session.id)).toEqual(before);
  });

  it('refuses a document with too many selections before validating it, over HTTP and websocket', async () => {
    // graphql-js's overlapping-fields rule is quadratic: 400 repeated fields cost it a large part of a second.
    const query = `{ ${Array.from({ length: 400 }, () => 'sessions { edges { cursor } }').join(' ')} }`;
    const response = await testApp.graphql(query);
    expect(response.status).toBe(400);
    expect(response.errors?.[0].extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      limit: 'selections',
      max: 300,
    });
    const client = openClient(websocketUrl(testApp.url), undefined, testApp.app.subscriptionSignals);
    try {
      const refused = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query },
          { next: () => undefined, error: resolve, complete: () => resolve('complete') },
        );
      });
      expect((refused as { extensions: { limit: string } }[])[0].extensions.limit).toBe('selections');
    } finally {
      await client.dispose();
    }
  });

  it('refuses a too costly list query', async () => {
    const response = await testApp.graphql(
      `{ sessions(first: 100) { edges { node { seats { session { seats { id } } } } } } }`,
    );
    expect(response.status).toBe(400);
    expect(response.errors?.[0].extensions).toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      limit: 'cost',
    });
  });

  it('refuses documents with too many tokens, and oversized bodies', async () => {
    const padding = Array.from({ length: 2_600 }, () => '__typename').join(' ');
    const tokens = await testApp.graphql(`{ ${padding} ${padding} }`);
    expect(tokens.errors?.[0]).toMatchObject({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    expect(tokens.errors?.[0].message).toMatch(/tokens/);

    const oversized = await fetch(testApp.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }', variables: { filler: 'x'.repeat(200_000) } }),
    });
    expect(oversized.status).toBe(413);
    expect(
      ((await oversized.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code,
    ).toBe('BAD_REQUEST');
  });

  it('applies the same limits to websocket subscribe operations', async () => {
    const client = openClient(websocketUrl(testApp.url), undefined, testApp.app.subscriptionSignals);
    try {
      const session = await createSession(testApp);
      const deep = await subscribe(
        client,
        `subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { seats { ${nestedSelection(24, 'session')} } } }`,
        { id: session.id },
      );
      expect((await deep.next()).errors?.[0]).toMatchObject({
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'depth' },
      });
    } finally {
      await client.dispose();
    }
  });

  it('refuses batched HTTP requests', async () => {
    const response = await fetch(testApp.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(response.status).toBe(400);
  });

  it('runs database statements with statement and lock timeouts', async () => {
    const em = testApp.app.orm.em.fork();
    const [statement] = await em.execute<{ statement_timeout: string }[]>('show statement_timeout');
    const [lock] = await em.execute<{ lock_timeout: string }[]>('show lock_timeout');
    expect([statement.statement_timeout, lock.lock_timeout]).toEqual(['5s', '3s']);
  });
});

describe('timeouts', () => {
  it('answers 503 when a request takes longer than GRAPHQL_TIMEOUT_MS, and the lock wait itself times out', async () => {
    const testApp = await startTestApp({ GRAPHQL_TIMEOUT_MS: '300', DATABASE_LOCK_TIMEOUT_MS: '1000' });
    const blocker = testApp.app.orm.em.fork();
    try {
      const session = await createSession(testApp);
      const seatId = session.seats[0].id;
      // Another transaction holds the seat's row lock (and Redis has no lock): reserve must wait.
      await blocker.begin();
      await blocker.execute('select id from seat where id = ? for update', [seatId]);
      const response = await fetch(testApp.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await testApp.token(uniqueUser())}`,
        },
        body: JSON.stringify({
          query: 'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }',
          variables: { input: { sessionId: session.id, seatIds: [seatId] } },
        }),
      });
      expect(response.status).toBe(503);
      // TIMEOUT is not a contract code: it is answered as INTERNAL_SERVER_ERROR with its reason.
      expect(
        ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions,
      ).toEqual({ code: 'INTERNAL_SERVER_ERROR', reason: 'TIMEOUT' });
      // Behind the answer, lock_timeout ends the wait: nothing is left held.
      await eventually(async () => {
        const em = testApp.app.orm.em.fork();
        const [row] = await em.execute<{ count: number }[]>(
          'select count(*)::int as count from reservation where session_id = ?',
          [session.id],
        );
        const locks = await testApp.app.redis.exists(`seat:{${session.id}}:${seatId}`);
        return row.count === 0 && locks === 0;
      }, 5_000);
    } finally {
      await blocker.rollback().catch(() => undefined);
      await testApp.stop();
    }
  });
});

describe('rate limits', () => {
  const mutation = `mutation ($id: ID!) { cancelReservation(reservationId: $id) { id } }`;

  async function burst(testApp: TestApp, token: string | undefined, count: number, query = mutation) {
    const codes: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const response = await testApp.graphql(query, { id: randomUUID() }, token);
      codes.push(response.errors?.[0].extensions.code ?? 'OK');
    }
    return codes;
  }

  it('limits mutations per user, with a retry-after hint, without affecting other users', async () => {
    const testApp = await startTestApp({
      RATE_LIMIT_MUTATIONS_PER_MINUTE: '5',
      RATE_LIMIT_READS_PER_MINUTE: '20',
    });
    try {
      const greedy = await testApp.token(uniqueUser('greedy'));
      const codes = await burst(testApp, greedy, 8);
      expect(codes).toEqual([...Array(5).fill('NOT_FOUND'), ...Array(3).fill('RATE_LIMITED')]);
      const limited = await testApp.graphql(mutation, { id: randomUUID() }, greedy);
      expect(limited.status).toBe(429);
      expect(limited.errors?.[0].extensions.retryAfterSeconds).toBeGreaterThan(0);
      expect(limited.errors?.[0].extensions.retryAfterSeconds).toBeLessThanOrEqual(60);

      const polite = await testApp.token(uniqueUser('polite'));
      expect(await burst(testApp, polite, 1)).toEqual(['NOT_FOUND']);
      // Reads have their own, larger budget.
      expect(await burst(testApp, greedy, 3, '{ myReservations { id } }')).toEqual(['OK', 'OK', 'OK']);
    } finally {
      await testApp.stop();
    }
  });

  it('limits anonymous reads per address', async () => {
    const testApp = await startTestApp({ RATE_LIMIT_READS_PER_MINUTE: '10' });
    try {
      const codes = await burst(
        testApp,
        undefined,
        12,
        '{ sessions(first: 1) { pageInfo { hasNextPage } } }',
      );
      expect(codes).toEqual([...Array(10).fill('OK'), 'RATE_LIMITED', 'RATE_LIMITED']);
    } finally {
      await testApp.stop();
    }
  });

  it('keeps limiting with Redis down (in-memory fallback)', async () => {
    const proxy = await startTcpProxy(6379);
    const testApp = await startTestApp({
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      RATE_LIMIT_MUTATIONS_PER_MINUTE: '4',
    });
    try {
      await proxy.cut();
      const greedy = await testApp.token(uniqueUser('greedy'));
      expect(await burst(testApp, greedy, 6)).toEqual([
        ...Array(4).fill('NOT_FOUND'),
        'RATE_LIMITED',
        'RATE_LIMITED',
      ]);
      const polite = await testApp.token(uniqueUser('polite'));
      expect(await burst(testApp, polite, 1)).toEqual(['NOT_FOUND']);
    } finally {
      await testApp.stop();
      await proxy.close();
    }
  });
});

describe('token edge cases', () => {
  const query = '{ myReservations { id } }';
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });

  afterAll(async () => {
    await testApp.stop();
  });

  async function code(token: string) {
    return (await testApp.graphql(query, {}, token)).errors?.[0]?.extensions.code ?? 'OK';
  }

  it('accepts a good token', async () => {
    expect(await code(await testApp.token(uniqueUser()))).toBe('OK');
  });

  it('refuses alg none, HS256 signed with the public key, not-yet-valid and expired tokens', async () => {
    const now = Math.floor(Date.now() / 1_000);
    const claims = { sub: 'mallory', roles: ['admin'], iat: now, exp: now + 600 };
    const none = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
    const hmac = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(process.env.TEST_AUTH_PUBLIC_KEY));
    const notYet = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('early')
      .setNotBefore('10m')
      .setExpirationTime('20m')
      .sign(await (await import('jose')).importPKCS8(testPrivateKey(), 'RS256'));
    const expired = await testApp.token('late', { expiresIn: -1 });
    for (const token of [none, hmac, notYet, expired]) {
      expect(await code(token)).toBe('UNAUTHENTICATED');
    }
  });
});

describe('key rotation through JWKS', () => {
  const first = generateKeyPair();
  const second = generateKeyPair();
  let served = [{ pem: first.publicKeyPem, kid: 'key-1' }];
  let jwks: Server;
  let testApp: TestApp;

  beforeAll(async () => {
    jwks = createServer((_request, response) => {
      void (async () => {
        const keys = await Promise.all(
          served.map(async ({ pem, kid }) => ({
            ...(await exportJWK(await importSPKI(pem, 'RS256'))),
            kid,
            alg: 'RS256',
          })),
        );
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys }));
      })();
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    testApp = await startTestApp({
      AUTH_PUBLIC_KEY: '',
      AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      AUTH_JWKS_COOLDOWN_SECONDS: '0',
    });
  });

  afterAll(async () => {
    await testApp.stop();
    jwks.close();
  });

  it('picks up a new key by its kid without a restart, and refuses unknown kids', async () => {
    const query = '{ myReservations { id } }';
    const oldToken = await signToken(first.privateKeyPem, { userId: uniqueUser(), keyId: 'key-1' });
    expect((await testApp.graphql(query, {}, oldToken)).errors).toBeUndefined();

    const newToken = await signToken(second.privateKeyPem, { userId: uniqueUser(), keyId: 'key-2' });
    expect((await testApp.graphql(query, {}, newToken)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    served = [
      { pem: first.publicKeyPem, kid: 'key-1' },
      { pem: second.publicKeyPem, kid: 'key-2' },
    ];
    await eventually(
      async () => (await testApp.graphql(query, {}, newToken)).errors === undefined,
      5_000,
      'the new key',
    );

    const forged = await signToken(generateKeyPair().privateKeyPem, { userId: 'mallory', keyId: 'key-3' });
    expect((await testApp.graphql(query, {}, forged)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('browser-facing safety', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ CORS_ORIGINS: 'https://app.poltrona.test' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('refuses form-encoded and header-less simple requests (CSRF), and serves JSON POSTs', async () => {
    const form = await fetch(testApp.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=mutation%20%7B%20__typename%20%7D',
    });
    expect(form.status).toBe(400);
    const getMutation = await fetch(`${testApp.url}?query=${encodeURIComponent('mutation { __typename }')}`);
    expect(getMutation.status).toBe(400);
    const getQuery = await fetch(`${testApp.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(getQuery.status).toBe(400);
    expect(await getQuery.text()).toMatch(/CSRF/i);
    expect((await testApp.graphql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('answers CORS preflights only for allowed origins', async () => {
    const preflight = (origin: string) =>
      fetch(testApp.url, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const allowed = await preflight('https://app.poltrona.test');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.poltrona.test');
    const refused = await preflight('https://evil.test');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses websocket handshakes from origins not in the list', async () => {
    const open = (origin: string) =>
      new Promise<number | 'open'>((resolve) => {
        const socket = new WebSocket(websocketUrl(testApp.url), 'graphql-transport-ws', { origin });
        socket.on('open', () => {
          socket.close();
          resolve('open');
        });
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.on('error', () => undefined);
      });
    expect(await open('https://evil.test')).toBe(401);
    expect(await open('https://app.poltrona.test')).toBe('open');
  });

  it('closes a websocket when its token expires (4401) and refuses a bad token (4403)', async () => {
    const closeCode = (token: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(websocketUrl(testApp.url), 'graphql-transport-ws');
        socket.on('open', () =>
          socket.send(
            JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
          ),
        );
        socket.on('close', (code) => resolve(code));
      });
    expect(await closeCode(await testApp.token(uniqueUser(), { expiresIn: '2s' }))).toBe(4401);
    expect(await closeCode('not-a-token')).toBe(4403);
  });
});

describe('introspection in production', () => {
  const introspection = '{ __schema { queryType { name } } }';
  const production = { NODE_ENV: 'production' };

  it('is off by default and can be enabled explicitly', async () => {
    const closed = await startTestApp(production);
    try {
      const response = await closed.graphql(introspection);
      expect(response.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    } finally {
      await closed.stop();
    }
    const open = await startTestApp({ ...production, GRAPHQL_INTROSPECTION: 'true' });
    try {
      expect((await open.graphql(introspection)).data).toEqual({
        __schema: { queryType: { name: 'Query' } },
      });
    } finally {
      await open.stop();
    }
  });
});
