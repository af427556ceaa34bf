import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { captureLogs } from '../support/log-capture';
import { startTestApp, type TestApp } from '../support/test-app';

/** POSTs a raw GraphQL request body and returns the status and the parsed answer. */
async function post(testApp: TestApp, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await fetch(testApp.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data?: unknown;
      errors?: { message: string; extensions: { code: string } }[];
    },
  };
}

describe('client mistakes get clear client errors', () => {
  const logs = captureLogs();
  let testApp: TestApp;

  beforeAll(async () => {
    // With the dev key (no AUTH_PUBLIC_KEY), as on a developer's machine.
    testApp = await startTestApp({ LOG_LEVEL: 'info', AUTH_PUBLIC_KEY: '' }, logs.logger);
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('refuses a subscription sent over HTTP POST with 400, naming the websocket transport', async () => {
    const answer = await post(testApp, {
      query: 'subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { sessionId } }',
      variables: { id: randomUUID() },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(answer.body.errors?.[0].message).toContain('websocket');
  });

  it('refuses an operationName the document does not contain with 400 BAD_USER_INPUT', async () => {
    const answer = await post(testApp, {
      query: 'query First { __typename } query Second { __typename }',
      operationName: 'Third',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    const ambiguous = await post(testApp, {
      query: 'query First { __typename } query Second { __typename }',
    });
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('answers 404 without internals for prototype names under /_assets and for unknown paths', async () => {
    const base = testApp.url.replace('/graphql', '');
    for (const path of ['/_assets/__proto__', '/_assets/constructor', '/_assets/toString', '/nowhere']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(404);
      const text = await response.text();
      expect(text).not.toMatch(/at .*\.js|node_modules|\/work\//);
    }
    expect(logs.lines().filter((line) => line.level === 50)).toEqual([]);
  });

  it('mints dev tokens only for loopback clients that no proxy relayed', async () => {
    const base = testApp.url.replace('/graphql', '');
    const mint = (headers: Record<string, string> = {}) =>
      fetch(`${base}/demo/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ userId: 'alice' }),
      });
    expect((await mint()).status).toBe(200);
    expect((await mint({ 'x-forwarded-for': '203.0.113.9' })).status).toBe(403);
    expect((await mint({ forwarded: 'for=203.0.113.9' })).status).toBe(403);
    // DNS rebinding: a page of another site whose name now points at 127.0.0.1.
    const rebound = await new Promise<number>((resolve, reject) => {
      const { port } = new URL(base);
      const outgoing = request(
        {
          host: '127.0.0.1',
          port,
          path: '/demo/token',
          method: 'POST',
          headers: { host: `evil.example:${port}`, 'content-type': 'application/json' },
        },
        (incoming) => {
          incoming.resume();
          resolve(incoming.statusCode ?? 0);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(JSON.stringify({ userId: 'alice' }));
    });
    expect(rebound).toBe(403);
  });

  it('answers a persisted query whose hash does not match with 400 BAD_REQUEST, logging nothing', async () => {
    const answer = await post(testApp, {
      query: '{ __typename }',
      extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0].extensions.code).toBe('BAD_REQUEST');
    expect(logs.lines().filter((line) => line.level === 50)).toEqual([]);
  });
});

describe('the dev-token endpoint without a dev key', () => {
  it('does not exist when a real key is configured', async () => {
    const testApp = await startTestApp();
    try {
      const response = await fetch(testApp.url.replace('/graphql', '/demo/token'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'alice' }),
      });
      expect(response.status).toBe(404);
    } finally {
      await testApp.stop();
    }
  });
});
