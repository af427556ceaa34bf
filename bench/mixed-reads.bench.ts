import { report, scale } from './lib/bench-options';
import { constantRate, postGraphQL } from './lib/load';
import { type BenchServer, createSessions, startBenchServer, withResources } from './lib/server';
import { formatSummary } from './lib/stats';

const rate = scale(1_000, 100);
const seconds = scale(10, 1);

/** Mixed reads at a constant rate against `server`: 60 % seat maps, 25 % session lists, 15 % my reservations (authenticated). */
async function mixedReads(server: BenchServer, label: string) {
  const sessions = await createSessions(server, 10, 20, 25);
  const users = await Promise.all(Array.from({ length: 50 }, (_, index) => server.token(`reader-${index}`)));
  // Each user holds a couple of seats, so "my reservations" returns something.
  for (const [index, token] of users.entries()) {
    const session = sessions[index % sessions.length];
    await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: 'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }',
        variables: {
          input: { sessionId: session.id, seatIds: session.seatIds.slice(index * 2, index * 2 + 2) },
        },
      }),
    });
  }
  const seatMaps = sessions.map((session) =>
    JSON.stringify({
      query: 'query ($id: ID!) { session(id: $id) { movie seats { id label status version } } }',
      variables: { id: session.id },
    }),
  );
  const list = JSON.stringify({
    query:
      '{ sessions(first: 20) { edges { node { id movie startsAt availableSeats } } pageInfo { hasNextPage } } }',
  });
  const mine = JSON.stringify({
    query: '{ myReservations { id status expiresAt seats { label } session { movie } } }',
  });
  let counter = 0;
  const measured = await withResources(server, () =>
    constantRate({
      rate,
      seconds,
      warmupSeconds: scale(2, 0.5),
      shot: async (agent) => {
        const pick = counter++ % 20;
        const [body, token] =
          pick < 12
            ? [seatMaps[pick % seatMaps.length], undefined]
            : pick < 17
              ? [list, undefined]
              : [mine, users[pick % users.length]];
        const { status, json } = await postGraphQL(agent, server.url, body, token);
        return status === 200 && !json.errors;
      },
    }),
  );
  console.log(formatSummary(`mixed reads, ${label} @ ${rate}/s`, measured.result));
  const errorRate = measured.result.errors / (measured.result.count + measured.result.errors);
  console.log(
    `  DESIGN §7: ${measured.result.throughput.toFixed(0)} req/s (target ≥ 1,000 at full scale), p95 ${measured.result.p95.toFixed(1)} ms (target < 50 ms), p99 ${measured.result.p99.toFixed(1)} ms (target < 150 ms), errors ${(errorRate * 100).toFixed(2)} % (target < 0.1 %); server CPU ${measured.cpuPercent.toFixed(0)} %, RSS ${measured.rssMegabytes.toFixed(0)} MB`,
  );
  return { measured: measured.result, errorRate, cpu: measured.cpuPercent, rss: measured.rssMegabytes };
}

/** Mixed reads with the session read cache as deployed, then turned off, in the same run. */
async function main(): Promise<void> {
  const server = await startBenchServer();
  const uncached = await startBenchServer({ SESSION_CACHE_MAX_AGE_MS: '0' });
  try {
    const measured = await mixedReads(server, 'cached');
    const before = await mixedReads(uncached, 'cache off');
    report('mixed-reads', { ...measured, cacheOff: before.measured });
  } finally {
    await Promise.all([server.stop(), uncached.stop()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
