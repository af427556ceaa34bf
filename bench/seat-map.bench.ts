import { report, scale } from './lib/bench-options';
import { constantRate, postGraphQL } from './lib/load';
import { createSessions, startBenchServer, withResources } from './lib/server';
import { formatSummary } from './lib/stats';

/** The 500-seat `session { seats { id label status version } }` query at a constant rate; baseline `{ __typename }`. */
async function main(): Promise<void> {
  const rate = scale(1_000, 100);
  const seconds = scale(10, 1);
  const server = await startBenchServer();
  try {
    const [session] = await createSessions(server, 1, 20, 25);
    const seatMap = JSON.stringify({
      query: 'query ($id: ID!) { session(id: $id) { seats { id label status version } } }',
      variables: { id: session.id },
    });
    const typename = JSON.stringify({ query: '{ __typename }' });
    const run = (body: string, check: (json: { data?: Record<string, unknown> }) => boolean) =>
      withResources(server, () =>
        constantRate({
          rate,
          seconds,
          warmupSeconds: scale(2, 0.5),
          shot: async (agent) => check((await postGraphQL(agent, server.url, body)).json),
        }),
      );
    const baseline = await run(typename, (json) => json.data?.__typename === 'Query');
    console.log(formatSummary(`{ __typename } @ ${rate}/s`, baseline.result));
    const measured = await run(
      seatMap,
      (json) => ((json.data?.session as { seats?: unknown[] } | undefined)?.seats?.length ?? 0) === 500,
    );
    console.log(formatSummary(`500-seat map @ ${rate}/s`, measured.result));
    console.log(
      `  server CPU ${measured.cpuPercent.toFixed(0)} % (baseline ${baseline.cpuPercent.toFixed(0)} %), RSS ${measured.rssMegabytes.toFixed(0)} MB`,
    );
    report('seat-map', {
      baseline: baseline.result,
      measured: measured.result,
      cpu: measured.cpuPercent,
      rss: measured.rssMegabytes,
    });
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
