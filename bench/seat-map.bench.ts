import { report, scale } from './lib/bench-options';
import { constantRate, postGraphQL } from './lib/load';
import { type BenchServer, createSessions, startBenchServer, withResources } from './lib/server';
import { formatSummary } from './lib/stats';

const rate = scale(1_000, 100);
const seconds = scale(10, 1);

type Check = (json: { data?: Record<string, unknown> }) => boolean;

/** `body` at a constant rate against `server`, with the server's CPU and RSS. */
function measure(server: BenchServer, body: string, check: Check) {
  return withResources(server, () =>
    constantRate({
      rate,
      seconds,
      warmupSeconds: scale(2, 0.5),
      shot: async (agent) => check((await postGraphQL(agent, server.url, body)).json),
    }),
  );
}

/** The seat map of a 500-seat session on `server`. */
async function seatMap(server: BenchServer, label: string) {
  const [session] = await createSessions(server, 1, 20, 25);
  const body = JSON.stringify({
    query: 'query ($id: ID!) { session(id: $id) { seats { id label status version } } }',
    variables: { id: session.id },
  });
  const measured = await measure(
    server,
    body,
    (json) => ((json.data?.session as { seats?: unknown[] } | undefined)?.seats?.length ?? 0) === 500,
  );
  console.log(formatSummary(`500-seat map, ${label} @ ${rate}/s`, measured.result));
  console.log(`  server CPU ${measured.cpuPercent.toFixed(0)} %, RSS ${measured.rssMegabytes.toFixed(0)} MB`);
  return measured;
}

/**
 * The 500-seat `session { seats { id label status version } }` query at a constant rate, with
 * the session read cache as deployed and turned off (SESSION_CACHE_MAX_AGE_MS=0); baseline
 * `{ __typename }`, all in the same run.
 */
async function main(): Promise<void> {
  const server = await startBenchServer();
  const uncached = await startBenchServer({ SESSION_CACHE_MAX_AGE_MS: '0' });
  try {
    const baseline = await measure(server, JSON.stringify({ query: '{ __typename }' }), (json) => {
      return json.data?.__typename === 'Query';
    });
    console.log(formatSummary(`{ __typename } @ ${rate}/s`, baseline.result));
    const measured = await seatMap(server, 'cached');
    const before = await seatMap(uncached, 'cache off');
    const { throughput, p95 } = measured.result;
    console.log(
      `DESIGN §7 seat map: ${throughput.toFixed(0)} req/s (target ≥ 1,000 at full scale), ${(throughput / baseline.result.throughput).toFixed(2)} × { __typename } (target ≥ 0.9 ×), p95 ${p95.toFixed(1)} ms (target < 30 ms)`,
    );
    report('seat-map', {
      baseline: baseline.result,
      measured: measured.result,
      cpu: measured.cpuPercent,
      rss: measured.rssMegabytes,
      cacheOff: before.result,
    });
  } finally {
    await Promise.all([server.stop(), uncached.stop()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
