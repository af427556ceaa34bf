import { Agent } from 'undici';
import WebSocket from 'ws';
import { report, scale } from './lib/bench-options';
import { postGraphQL } from './lib/load';
import { createSessions, startBenchServer, withResources } from './lib/server';
import { formatSummary, summarise } from './lib/stats';

const RESUME =
  'subscription ($id: ID!, $after: Int) { seatStatusChanged(sessionId: $id, afterMapVersion: $after) { mapVersion seats { id label status version } } }';
const SEAT_MAP = 'query ($id: ID!) { session(id: $id) { mapVersion seats { id label status version } } }';

/** An error as graphql-ws carries it (in a `next` payload's `errors`, or as an `error` message's payload). */
interface ErrorPayload {
  readonly extensions?: { readonly code?: string };
}

/** A graphql-ws client past `connection_init`, told each change's map version. */
interface ResumingClient {
  readonly socket: WebSocket;
  /** The highest map version received. */
  last: number;
  caughtUpAt: number | null;
  /** The error code its subscription was refused with (e.g. RATE_LIMITED when the pool is busy). */
  refused: string | null;
}

/**
 * 1,000 subscribers of one session reconnecting at once, each 100 changes behind: resuming
 * with `afterMapVersion` (replay, then live) until each has the 100 changes — time to caught-up,
 * server CPU and RSS; baseline: the same 1,000 re-reading the 500-seat map instead.
 */
async function main(): Promise<void> {
  const clients = scale(1_000, 50);
  const behind = scale(100, 10);
  const server = await startBenchServer({ WS_MAX_CONNECTIONS_PER_CLIENT: '100000' });
  try {
    const [session] = await createSessions(server, 1, 20, 25);
    // `behind` changes, one seat each, by users holding five each at most.
    for (let change = 0; change < behind; change += 1) {
      const token = await server.token(`resume-changer-${Math.floor(change / 5)}`);
      await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: 'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }',
          variables: { input: { sessionId: session.id, seatIds: [session.seatIds[change]] } },
        }),
      });
    }

    // Baseline: every client re-reads the whole map.
    const agent = new Agent({ connections: 256 });
    const reread = await withResources(server, async () => {
      const latencies: number[] = [];
      const started = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          const { json } = await postGraphQL(
            agent,
            server.url,
            JSON.stringify({ query: SEAT_MAP, variables: { id: session.id } }),
          );
          if (json.data) {
            latencies.push(performance.now() - started);
          }
        }),
      );
      return summarise(latencies, clients - latencies.length, (performance.now() - started) / 1_000);
    });
    await agent.close();
    console.log(formatSummary(`${clients} clients re-reading the map`, reread.result));
    console.log(`  server CPU ${reread.cpuPercent.toFixed(0)} %, RSS ${reread.rssMegabytes.toFixed(0)} MB`);

    // Resume: the same number of clients, connected, subscribe at once from `behind` versions ago.
    const wsUrl = server.url.replace(/^http/, 'ws');
    const resuming: ResumingClient[] = [];
    for (let start = 0; start < clients; start += 200) {
      resuming.push(
        ...(await Promise.all(Array.from({ length: Math.min(200, clients - start) }, () => connect(wsUrl)))),
      );
    }
    const resumed = await withResources(server, async () => {
      const started = performance.now();
      for (const client of resuming) {
        client.socket.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: { query: RESUME, variables: { id: session.id, after: 0 } },
          }),
        );
      }
      const deadline = started + 60_000;
      // A refused subscription will never catch up: waiting for it would only stretch the run.
      while (
        resuming.some((client) => client.caughtUpAt === null && client.refused === null) &&
        performance.now() < deadline
      ) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const latencies = resuming
        .filter((client) => client.caughtUpAt !== null)
        .map((client) => (client.caughtUpAt as number) - started);
      return summarise(latencies, clients - latencies.length, (performance.now() - started) / 1_000);
    });
    for (const client of resuming) {
      client.socket.terminate();
    }
    console.log(formatSummary(`${clients} clients resuming ${behind} behind`, resumed.result));
    const refusals = new Map<string, number>();
    for (const { refused } of resuming) {
      if (refused !== null) {
        refusals.set(refused, (refusals.get(refused) ?? 0) + 1);
      }
    }
    if (refusals.size > 0) {
      console.log(`  of the errors, subscriptions refused: ${JSON.stringify(Object.fromEntries(refusals))}`);
    }
    console.log(`  server CPU ${resumed.cpuPercent.toFixed(0)} %, RSS ${resumed.rssMegabytes.toFixed(0)} MB`);
    console.log(
      `time to caught-up p99: resume ${resumed.result.p99.toFixed(0)} ms vs re-read ${reread.result.p99.toFixed(0)} ms`,
    );
    report('resume', {
      reread: reread.result,
      rereadCpu: reread.cpuPercent,
      rereadRss: reread.rssMegabytes,
      resumed: resumed.result,
      resumedCpu: resumed.cpuPercent,
      resumedRss: resumed.rssMegabytes,
    });

    function connect(url: string): Promise<ResumingClient> {
      return new Promise((resolve, reject) => {
        const client: ResumingClient = {
          socket: new WebSocket(url, 'graphql-transport-ws'),
          last: 0,
          caughtUpAt: null,
          refused: null,
        };
        client.socket.on('open', () =>
          client.socket.send(JSON.stringify({ type: 'connection_init', payload: {} })),
        );
        client.socket.on('message', (raw: Buffer) => {
          const message = JSON.parse(raw.toString()) as {
            type: string;
            payload?:
              | { data?: { seatStatusChanged?: { mapVersion: number } }; errors?: ErrorPayload[] }
              | ErrorPayload[];
          };
          const errors = Array.isArray(message.payload) ? message.payload : message.payload?.errors;
          if (errors && errors.length > 0 && client.caughtUpAt === null) {
            client.refused ??= errors[0].extensions?.code ?? 'UNKNOWN';
          } else if (message.type === 'connection_ack') {
            resolve(client);
          } else if (
            message.type === 'next' &&
            !Array.isArray(message.payload) &&
            message.payload?.data?.seatStatusChanged
          ) {
            client.last = message.payload.data.seatStatusChanged.mapVersion;
            if (client.last >= behind && client.caughtUpAt === null) {
              client.caughtUpAt = performance.now();
            }
          }
        });
        client.socket.on('error', reject);
      });
    }
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
