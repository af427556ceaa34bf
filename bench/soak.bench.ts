import WebSocket from 'ws';
import { Agent } from 'undici';
import { report, scale, shuffle } from './lib/bench-options';
import { postGraphQL } from './lib/load';
import { createSessions, readResources, startBenchServer } from './lib/server';

/**
 * Soak: reserves at a steady rate plus live subscribers for several minutes, sampling the
 * server's RSS every 10 s to show whether memory grows without bound.
 */
async function main(): Promise<void> {
  const minutes = scale(5, 0.2);
  const rate = scale(150, 20);
  const subscribersCount = scale(500, 10);
  const server = await startBenchServer();
  const agent = new Agent({ connections: 64 });
  try {
    const seatsNeeded = Math.ceil(rate * minutes * 60 * 1.05);
    const sessions = await createSessions(server, Math.ceil(seatsNeeded / 1_000) + 1, 20, 50);
    const seats = shuffle(
      sessions.flatMap((session) => session.seatIds.map((seatId) => ({ sessionId: session.id, seatId }))),
    );
    const wsUrl = server.url.replace(/^http/, 'ws');
    let delivered = 0;
    const subscribers = Array.from({ length: subscribersCount }, (_, index) => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
      socket.on('message', (raw: Buffer) => {
        const message = JSON.parse(raw.toString()) as { type: string };
        if (message.type === 'connection_ack') {
          socket.send(
            JSON.stringify({
              id: '1',
              type: 'subscribe',
              payload: {
                query:
                  'subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { seats { id status version } } }',
                variables: { id: sessions[index % sessions.length].id },
              },
            }),
          );
        } else if (message.type === 'next') {
          delivered += 1;
        }
      });
      return socket;
    });
    const tokenCount = Math.ceil(seats.length / 5) + 1;
    const tokens = await Promise.all(
      Array.from({ length: tokenCount }, (_, index) => server.token(`soak-${index}`)),
    );
    const samples: { second: number; rssMegabytes: number; reserved: number; delivered: number }[] = [];
    const started = Date.now();
    let next = 0;
    let failures = 0;
    const timer = setInterval(() => {
      const index = next++;
      if (index >= seats.length) {
        return;
      }
      const { sessionId, seatId } = seats[index];
      postGraphQL(
        agent,
        server.url,
        JSON.stringify({
          query: 'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }',
          variables: { input: { sessionId, seatIds: [seatId] } },
        }),
        tokens[Math.floor(index / 5)],
      ).then(
        ({ json }) => {
          if (json.errors) {
            failures += 1;
          }
        },
        () => (failures += 1),
      );
    }, 1_000 / rate);
    const sampleEvery = scale(10_000, 2_000);
    while (Date.now() - started < minutes * 60_000) {
      await new Promise((resolve) => setTimeout(resolve, sampleEvery));
      const sample = {
        second: Math.round((Date.now() - started) / 1_000),
        rssMegabytes: Math.round(readResources(server.pid).rssBytes / 1_048_576),
        reserved: next,
        delivered,
      };
      samples.push(sample);
      console.log(
        `t=${String(sample.second).padStart(4)} s  RSS ${sample.rssMegabytes} MB  reserves ${sample.reserved}  deliveries ${sample.delivered}`,
      );
    }
    clearInterval(timer);
    for (const socket of subscribers) {
      socket.terminate();
    }
    console.log(`soak: ${next} reserves (${failures} failed), ${delivered} deliveries over ${minutes} min`);
    report('soak', { minutes, rate, subscribers: subscribersCount, samples, failures, delivered });
  } finally {
    await agent.close();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
