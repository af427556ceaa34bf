import { spawn } from 'node:child_process';
import { join } from 'node:path';
import WebSocket from 'ws';
import { report, scale } from './lib/bench-options';
import { createSessions, readResources, startBenchServer } from './lib/server';
import { percentile } from './lib/stats';

const SUBSCRIPTION =
  'subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { sessionId reservationId changedAt seats { id label status version } } }';

interface Receiver {
  readonly latencies: number[];
  received: number;
}

/** Opens `count` sockets with `open`, at most `parallel` handshakes at a time. */
async function openAll(
  count: number,
  parallel: number,
  open: () => Promise<WebSocket>,
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let start = 0; start < count; start += parallel) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(parallel, count - start) }, open))));
  }
  return sockets;
}

function waitFor(condition: () => boolean, timeoutMilliseconds: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMilliseconds;
  return new Promise((resolve) => {
    const check = () => {
      if (condition()) {
        resolve(true);
      } else if (Date.now() > deadline) {
        resolve(false);
      } else {
        setTimeout(check, 20);
      }
    };
    check();
  });
}

/** Waits until the server reports `count` open subscriptions (its /metrics gauge). */
async function allSubscribed(baseUrl: string, count: number): Promise<boolean> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    if (Number(/^poltrona_active_subscriptions (\d+)/m.exec(metrics)?.[1] ?? 0) >= count) {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

function summarise(receiver: Receiver, expected: number, firstSent: number, lastReceived: number) {
  const sorted = [...receiver.latencies].sort((left, right) => left - right);
  return {
    delivered: receiver.received,
    expected,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    deliveriesPerSecond: receiver.received / ((lastReceived - firstSent) / 1_000),
  };
}

/**
 * 5,000 graphql-ws subscribers of one session on one API process, a burst of seat changes:
 * latency from commit (the event's `changedAt`, database clock) to each delivery, deliveries/s
 * and RSS; baseline: a plain `ws` broadcast of the same bytes to the same number of clients.
 */
async function main(): Promise<void> {
  const subscribers = scale(5_000, 100);
  const changes = scale(20, 3);
  // Every subscriber connects from this one address: lift the per-client websocket cap.
  const server = await startBenchServer({ WS_MAX_CONNECTIONS_PER_CLIENT: '100000' });
  try {
    const [session] = await createSessions(server, 1, 5, 10);
    const receiver: Receiver = { latencies: [], received: 0 };
    let lastReceived = 0;
    const wsUrl = server.url.replace(/^http/, 'ws');
    const sockets = await openAll(
      subscribers,
      200,
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
          socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
          socket.on('message', (raw: Buffer) => {
            const message = JSON.parse(raw.toString()) as {
              type: string;
              payload?: { data?: { seatStatusChanged?: { changedAt: string } } };
            };
            if (message.type === 'connection_ack') {
              socket.send(
                JSON.stringify({
                  id: '1',
                  type: 'subscribe',
                  payload: { query: SUBSCRIPTION, variables: { id: session.id } },
                }),
              );
              resolve(socket);
            } else if (message.type === 'next' && message.payload?.data?.seatStatusChanged) {
              const now = Date.now();
              receiver.latencies.push(now - Date.parse(message.payload.data.seatStatusChanged.changedAt));
              receiver.received += 1;
              lastReceived = now;
            }
          });
          socket.on('error', reject);
        }),
    );
    // Subscriptions are registered when the server has processed the subscribe messages.
    const subscribed = await allSubscribed(server.baseUrl, subscribers);
    const rssWithSubscribers = readResources(server.pid).rssBytes / 1_048_576;
    const tokens = await Promise.all(
      Array.from({ length: changes }, (_, index) => server.token(`changer-${index}`)),
    );
    const firstSent = Date.now();
    await Promise.all(
      tokens.map((token, index) =>
        fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({
            query: 'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }',
            variables: { input: { sessionId: session.id, seatIds: [session.seatIds[index]] } },
          }),
        }),
      ),
    );
    const expected = subscribers * changes;
    await waitFor(() => receiver.received >= expected, 60_000);
    const measured = summarise(receiver, expected, firstSent, lastReceived);
    const rssAfter = readResources(server.pid).rssBytes / 1_048_576;
    for (const socket of sockets) {
      socket.terminate();
    }
    console.log(
      `fan-out to ${subscribers} subscribers × ${changes} changes: delivered ${measured.delivered}/${expected}, p50 ${measured.p50} ms, p99 ${measured.p99} ms, ${measured.deliveriesPerSecond.toFixed(0)} deliveries/s, server RSS ${rssWithSubscribers.toFixed(0)} → ${rssAfter.toFixed(0)} MB (all subscribed: ${subscribed})`,
    );

    // Baseline: the same bytes through a plain ws broadcast server, same clients, same count.
    const sample = JSON.stringify({
      id: '1',
      type: 'next',
      payload: {
        data: {
          seatStatusChanged: {
            sessionId: session.id,
            reservationId: session.id,
            changedAt: '"SENT_AT"',
            seats: [{ id: session.seatIds[0], label: 'A1', status: 'RESERVED', version: 2 }],
          },
        },
      },
    });
    const broadcaster = spawn(process.execPath, [join(__dirname, 'lib', 'broadcast-server.js')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve) =>
      broadcaster.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString()))),
    );
    const plain: Receiver = { latencies: [], received: 0 };
    let plainLast = 0;
    const plainSockets = await openAll(
      subscribers,
      200,
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${port}`);
          socket.on('open', () => resolve(socket));
          socket.on('message', (raw: Buffer) => {
            const message = JSON.parse(raw.toString()) as {
              payload: { data: { seatStatusChanged: { changedAt: number } } };
            };
            const now = Date.now();
            plain.latencies.push(now - message.payload.data.seatStatusChanged.changedAt);
            plain.received += 1;
            plainLast = now;
          });
          socket.on('error', reject);
        }),
    );
    const plainFirst = Date.now();
    await Promise.all(
      Array.from({ length: changes }, () =>
        fetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          // The event's time is when it is created, like a commit's: a burst queues after it.
          body: JSON.stringify({ payload: sample.replace('"\\"SENT_AT\\""', String(Date.now())) }),
        }),
      ),
    );
    await waitFor(() => plain.received >= expected, 60_000);
    const baseline = summarise(plain, expected, plainFirst, plainLast);
    for (const socket of plainSockets) {
      socket.terminate();
    }
    broadcaster.kill();
    console.log(
      `baseline plain ws broadcast: delivered ${baseline.delivered}/${expected}, p50 ${baseline.p50} ms, p99 ${baseline.p99} ms, ${baseline.deliveriesPerSecond.toFixed(0)} deliveries/s`,
    );
    console.log(
      `  p99 ratio ${(measured.p99 / Math.max(1, baseline.p99)).toFixed(2)} (target ≤ 1.2), deliveries/s ratio ${(measured.deliveriesPerSecond / baseline.deliveriesPerSecond).toFixed(2)} (target ≥ 0.8), RSS ${rssAfter.toFixed(0)} MB (target < 500)`,
    );
    report('fan-out', { subscribers, changes, measured, baseline, rssWithSubscribers, rssAfter });
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
