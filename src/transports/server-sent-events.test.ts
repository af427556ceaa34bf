import { createServer } from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { GraphQLInt, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { openEventStream } from '../../test/support/event-streams';
import { eventually } from '../../test/support/wait';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { createErrorFormatter } from '../errors/graphql-error-formatter';
import { createLogger } from '../infra/logger';
import { Metrics } from '../infra/metrics';
import { createOperationPipeline, type OperationPipeline } from '../pipeline/operation-pipeline';
import { type Context } from '../resolvers/context';
import { ConnectionCounter } from '../security/connection-limits';
import { mountServerSentEvents } from './server-sent-events';
import { SubscriptionSignals } from './subscription-signals';

const never = new Promise<never>(() => undefined);

/** Subscriptions that fail in each way a source can. */
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLInt, resolve: () => 1 } } }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      ticks: {
        type: GraphQLInt,
        subscribe: async function* () {
          yield 1;
          await never;
        },
        resolve: (value: number) => value,
      },
      failsLater: {
        type: GraphQLInt,
        subscribe: async function* () {
          yield 1;
          throw new DomainError(ErrorCode.Forbidden, 'No longer yours.', { reservationId: 'r1' });
        },
        resolve: (value: number) => value,
      },
      breaksLater: {
        type: GraphQLInt,
        subscribe: async function* () {
          yield 1;
          throw new Error('connect ECONNREFUSED 10.0.0.5:5432 (/srv/poltrona/dist/secret.js:12)');
        },
        resolve: (value: number) => value,
      },
      breaksAtOnce: {
        type: GraphQLInt,
        subscribe: () => {
          throw new Error('password=hunter2 in /srv/poltrona/dist/secret.js');
        },
      },
    },
  }),
});

/** A pipeline on the schema above; with `gate`, contexts are built once it opens (`waiting` counts the callers). */
const pipelineFor = (gate?: Promise<void>, waiting = { count: 0 }) =>
  createOperationPipeline({
    schema,
    limits: { maxTokens: 1_000, maxSelections: 100, introspection: false },
    guard: async () => [],
    createContext: async (origin) => {
      waiting.count += 1;
      await gate;
      return { viewer: null, clientAddress: origin.clientAddress } as Context;
    },
  });

/** The transport alone on an express app of its own, on a free port. */
async function startTransport(
  options: { pipeline?: OperationPipeline; maxConnectionsPerClient?: number } = {},
) {
  const logged: string[] = [];
  const metrics = new Metrics();
  const logger = createLogger(
    'error',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    }),
  );
  const app = express();
  const signals = new SubscriptionSignals();
  const maxConnectionsPerClient = options.maxConnectionsPerClient ?? 10;
  const dispose = mountServerSentEvents(app, {
    path: '/graphql/stream',
    graphqlPath: '/graphql',
    pipeline: options.pipeline ?? pipelineFor(),
    clientAddress: (request) => request.socket.remoteAddress ?? 'unknown',
    corsOrigins: [],
    maxBodyBytes: 1_024,
    connections: new ConnectionCounter(maxConnectionsPerClient),
    maxConnectionsPerClient,
    formatError: createErrorFormatter((error, level, message) => logger[level]({ err: error }, message)),
    signals,
    logger,
    metrics,
  });
  const server = createServer(app);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const read = async (name: string) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    logged,
    signals,
    read,
    /** Waits until the gauge `name` reads `value`, and returns what it reads. */
    settle: async (name: string, value: number) => {
      await eventually(async () => (await read(name)) === value, 10_000, `${name} to read ${value}`);
      return read(name);
    },
    /** Client connections the server still has open (closed ones leave once it has seen them go). */
    openSockets: () => sockets.size,
    dispose,
    close: async () => {
      await dispose();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('GraphQL over Server-Sent Events (transport)', () => {
  let transport: Awaited<ReturnType<typeof startTransport>>;
  let url: string;

  beforeAll(async () => {
    transport = await startTransport();
    url = transport.url;
  });

  afterAll(async () => {
    await transport.close();
  });

  it("ends with a next carrying a source's domain error, then complete", async () => {
    const stream = await openEventStream(url, { query: 'subscription { failsLater }' });
    expect(stream.status).toBe(200);
    expect(await stream.rest()).toEqual([
      { event: 'next', data: { data: { failsLater: 1 } } },
      {
        event: 'next',
        data: {
          errors: [{ message: 'No longer yours.', extensions: { code: 'FORBIDDEN', reservationId: 'r1' } }],
        },
      },
      { event: 'complete', data: null },
    ]);
  });

  it('masks unknown errors, at subscribe time and from the source, and logs them', async () => {
    const masked = { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    const later = await (await openEventStream(url, { query: 'subscription { breaksLater }' })).rest();
    expect(later).toEqual([
      { event: 'next', data: { data: { breaksLater: 1 } } },
      { event: 'next', data: { errors: [masked] } },
      { event: 'complete', data: null },
    ]);
    const atOnce = await (await openEventStream(url, { query: 'subscription { breaksAtOnce }' })).rest();
    expect(atOnce).toEqual([
      { event: 'next', data: { errors: [{ ...masked, path: ['breaksAtOnce'] }] } },
      { event: 'complete', data: null },
    ]);
    expect(JSON.stringify(later) + JSON.stringify(atOnce)).not.toMatch(/secret|ECONNREFUSED|hunter2/);
    expect(transport.logged.join('')).toMatch(/ECONNREFUSED/);
    expect(transport.logged.join('')).toMatch(/hunter2/);
  });

  it('refuses queries, naming HTTP POST, and answers what is not a stream request plainly', async () => {
    const query = await openEventStream(url, { query: '{ ok }' });
    expect(query.status).toBe(200);
    expect(await query.rest()).toEqual([
      {
        event: 'next',
        data: {
          errors: [
            {
              message:
                'Only subscriptions are served on /graphql/stream: send queries and mutations with HTTP POST to /graphql.',
              extensions: { code: 'BAD_USER_INPUT', field: 'query' },
            },
          ],
        },
      },
      { event: 'complete', data: null },
    ]);
    const noAccept = await openEventStream(
      url,
      { query: 'subscription { ticks }' },
      { headers: { accept: '*/*' } },
    );
    expect(noAccept.status).toBe(406);
    expect(noAccept.json).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
    const put = await fetch(`${url}/stream`, { method: 'PUT', headers: { accept: 'text/event-stream' } });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET, POST']);
    const noQuery = await openEventStream(url, { query: undefined as unknown as string });
    expect(noQuery.status).toBe(400);
    expect(noQuery.json).toEqual({
      errors: [{ message: 'Missing query', extensions: { code: 'BAD_REQUEST' } }],
    });
    const tooLarge = await openEventStream(url, { query: `subscription { ticks } # ${'x'.repeat(2_000)}` });
    expect(tooLarge.status).toBe(413);
  });

  it('serves GET requests (EventSource) and counts open streams and subscriptions', async () => {
    const stream = await openEventStream(url, { query: 'subscription { ticks }' }, { method: 'GET' });
    expect(await stream.next()).toEqual({ event: 'next', data: { data: { ticks: 1 } } });
    expect(await transport.read('poltrona_sse_connections')).toBe(1);
    expect(await transport.read('poltrona_active_subscriptions')).toBe(1);
    stream.close();
    expect(await transport.settle('poltrona_sse_connections', 0)).toBe(0);
    expect(await transport.settle('poltrona_active_subscriptions', 0)).toBe(0);
  });

  it('ends open streams without complete when disposed, and refuses new ones', async () => {
    const stream = await openEventStream(url, { query: 'subscription { ticks }' });
    expect(await stream.next()).toEqual({ event: 'next', data: { data: { ticks: 1 } } });
    await transport.dispose();
    expect(await stream.rest()).toEqual([]);
    const refused = await openEventStream(url, { query: 'subscription { ticks }' });
    expect(refused.status).toBe(503);
  });
});

describe('connection slots of the Server-Sent Events transport', () => {
  it('gives the slot back when the client leaves before its stream started', async () => {
    let open!: () => void;
    const waiting = { count: 0 };
    const transport = await startTransport({
      pipeline: pipelineFor(new Promise<void>((resolve) => (open = resolve)), waiting),
      maxConnectionsPerClient: 1,
    });
    try {
      const controller = new AbortController();
      const requestId = 'leaving-client';
      const subscribed = new Promise<void>((resolve) =>
        transport.signals.on('subscribed', (id) => id === requestId && resolve()),
      );
      const leaving = fetch(`${transport.url}/stream`, {
        method: 'POST',
        headers: {
          accept: 'text/event-stream',
          'content-type': 'application/json',
          'x-request-id': requestId,
        },
        body: JSON.stringify({ query: 'subscription { ticks }' }),
        signal: controller.signal,
      }).catch(() => 'left');
      await eventually(() => waiting.count > 0, 10_000, 'the stream to wait for its context');
      expect(waiting.count).toBe(1);
      controller.abort();
      // The server sees the client go before the pipeline goes on.
      await eventually(() => transport.openSockets() === 0, 10_000, 'the server to see the client go');
      expect(await leaving).toBe('left');
      // The pipeline finishes after the client left: its slot and subscription must not stay.
      open();
      await subscribed;
      expect(await transport.settle('poltrona_active_subscriptions', 0)).toBe(0);
      expect(await transport.settle('poltrona_sse_connections', 0)).toBe(0);
      const next = await openEventStream(transport.url, { query: 'subscription { ticks }' });
      expect(next.status).toBe(200);
      expect(await next.next()).toEqual({ event: 'next', data: { data: { ticks: 1 } } });
      const refused = await openEventStream(transport.url, { query: 'subscription { ticks }' });
      expect(refused.status).toBe(429);
      expect(refused.json).toMatchObject({ errors: [{ extensions: { code: 'RATE_LIMITED', limit: 1 } }] });
      next.close();
    } finally {
      await transport.close();
    }
  });
});
