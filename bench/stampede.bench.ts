import { report, scale } from './lib/bench-options';
import { burst, postGraphQL } from './lib/load';
import { createSessions, startBenchServer, withResources } from './lib/server';
import { formatSummary } from './lib/stats';

/**
 * 2,000 clients racing for one seat: exactly one winner, the rest SEAT_UNAVAILABLE (turned
 * away by the Redis lock); losers' latency beside the same burst of `{ __typename }`.
 */
async function main(): Promise<void> {
  const clients = scale(2_000, 100);
  const server = await startBenchServer();
  try {
    const [session] = await createSessions(server, 1, 10, 10);
    const tokens = await Promise.all(
      Array.from({ length: clients }, (_, index) => server.token(`racer-${index}`)),
    );
    const typename = JSON.stringify({ query: '{ __typename }' });
    // Warm-up: connections, JIT.
    await burst(Math.min(clients, 200), (agent) => postGraphQL(agent, server.url, typename).then(() => true));

    const baselineRun = await withResources(server, () =>
      burst(clients, async (agent) => (await postGraphQL(agent, server.url, typename)).status === 200),
    );
    const baseline = baselineRun.result;
    console.log(formatSummary(`{ __typename } burst of ${clients}`, baseline.summary));

    const body = JSON.stringify({
      query: 'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }',
      variables: { input: { sessionId: session.id, seatIds: [session.seatIds[0]] } },
    });
    const codes: string[] = [];
    let index = 0;
    const race = await withResources(server, () =>
      burst(clients, async (agent) => {
        const { json } = await postGraphQL(agent, server.url, body, tokens[index++]);
        const code = json.errors?.[0]?.extensions?.code ?? 'WON';
        codes.push(code);
        return code === 'WON';
      }),
    );
    const winners = codes.filter((code) => code === 'WON').length;
    const unavailable = codes.filter((code) => code === 'SEAT_UNAVAILABLE').length;
    const others = codes.length - winners - unavailable;
    // Losers' latency: the summary covers all; the winner's single sample does not move p99.
    console.log(formatSummary(`reserve race of ${clients}`, race.result.summary));
    console.log(`  winners ${winners} (must be 1), SEAT_UNAVAILABLE ${unavailable}, other ${others}`);
    const ratio = race.result.summary.p99 / baseline.summary.p99;
    console.log(
      `  losers' p99 / __typename p99 = ${ratio.toFixed(2)} (target ≤ 1.5); server CPU ${race.cpuPercent.toFixed(0)} %`,
    );
    // Less at the mercy of the shared machine than latency: what the server spent per request.
    const cpuPerRequest = (run: { cpuSeconds: number }) => (run.cpuSeconds * 1_000) / clients;
    const baselineCpu = cpuPerRequest(baselineRun);
    const raceCpu = cpuPerRequest(race);
    console.log(
      `  server CPU per request: __typename ${baselineCpu.toFixed(2)} ms, race ${raceCpu.toFixed(2)} ms (${(raceCpu / baselineCpu).toFixed(2)} ×)`,
    );
    report('stampede', {
      clients,
      baseline: baseline.summary,
      race: race.result.summary,
      winners,
      unavailable,
      others,
      ratio,
      cpuMillisecondsPerRequest: { baseline: baselineCpu, race: raceCpu },
    });
    if (winners !== 1 || others !== 0) {
      process.exitCode = 1;
    }
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
