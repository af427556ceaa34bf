import { Agent } from 'undici';
import { report, scale, shuffle, SMOKE } from './lib/bench-options';
import { postGraphQL } from './lib/load';
import { scheduleSessions, type ScheduledBenchSession, startBenchServer, withResources } from './lib/server';
import { formatSummary, summarise } from './lib/stats';

const RESERVE = `mutation ($input: ReserveInput!) { reserve(input: $input) { id } }`;
const BEST = `mutation ($input: BestAvailableInput!) { reserveBestAvailable(input: $input) { id } }`;

/**
 * `reserveBestAvailable(quantity: 2)` on random scheduled sessions (gap rule on), 32 clients in
 * closed loops; baseline: `reserve` of 2 adjacent seats on the same kind of sessions, the same
 * clients, in the same run. The pairs reserved are aligned in rows of even sections, so the gap
 * rule never refuses them and both sides do the same writes.
 */
async function main(): Promise<void> {
  const clients = 32;
  const seconds = scale(10, 1);
  const server = await startBenchServer();
  try {
    const holdsPerPhase = SMOKE ? 400 : 4_000;
    // 20 rows of 2 x 10 seats: 200 pairs per session.
    const sessionsPerPhase = Math.ceil(holdsPerPhase / 200) + 1;
    const [pairSessions, bestSessions] = [
      await scheduleSessions(server, sessionsPerPhase, 20, 20, 'NO_SINGLE_SEAT'),
      await scheduleSessions(server, sessionsPerPhase, 20, 20, 'NO_SINGLE_SEAT'),
    ];
    const pairs = shuffle(pairSessions.flatMap(alignedPairs));
    let user = 0;
    // Five holds per user at most: a fresh user every five requests.
    const tokenFor = async (index: number) => server.token(`bench-best-${Math.floor(index / 5)}`);
    const tokens = await Promise.all(
      Array.from({ length: Math.ceil((2 * holdsPerPhase) / 5) + 2 }, (_, index) => tokenFor(index * 5)),
    );
    const nextToken = () => tokens[Math.floor(user++ / 5)];

    const closedLoop = (shot: (agent: Agent) => Promise<boolean>) =>
      withResources(server, async () => {
        const latencies: number[] = [];
        let errors = 0;
        let sent = 0;
        const agent = new Agent({ connections: clients });
        const deadline = performance.now() + seconds * 1_000;
        await Promise.all(
          Array.from({ length: clients }, async () => {
            while (performance.now() < deadline && sent < holdsPerPhase) {
              sent += 1;
              const started = performance.now();
              const ok = await shot(agent).catch(() => false);
              if (ok) {
                latencies.push(performance.now() - started);
              } else {
                errors += 1;
              }
            }
          }),
        );
        await agent.close();
        return summarise(latencies, errors, seconds);
      });

    let nextPair = 0;
    const pairPhase = await closedLoop(async (agent) => {
      const pair = pairs[nextPair++];
      const { json } = await postGraphQL(
        agent,
        server.url,
        JSON.stringify({ query: RESERVE, variables: { input: pair } }),
        nextToken(),
      );
      return Boolean(json.data?.reserve);
    });
    console.log(formatSummary(`reserve of 2 adjacent, ${clients} clients`, pairPhase.result));
    console.log(`  server CPU ${pairPhase.cpuPercent.toFixed(0)} % of a core`);

    const bestPhase = await closedLoop(async (agent) => {
      const session = bestSessions[Math.floor(Math.random() * bestSessions.length)];
      const { json } = await postGraphQL(
        agent,
        server.url,
        JSON.stringify({ query: BEST, variables: { input: { sessionId: session.id, quantity: 2 } } }),
        nextToken(),
      );
      return Boolean(json.data?.reserveBestAvailable);
    });
    console.log(formatSummary(`reserveBestAvailable(2), ${clients} clients`, bestPhase.result));
    console.log(`  server CPU ${bestPhase.cpuPercent.toFixed(0)} % of a core`);
    const ratio = bestPhase.result.throughput / pairPhase.result.throughput;
    console.log(`best available / reserve of 2 adjacent: ${(ratio * 100).toFixed(0)} % (target ≥ 50 %)`);
    report('best-available', {
      pairs: pairPhase.result,
      pairsCpu: pairPhase.cpuPercent,
      best: bestPhase.result,
      bestCpu: bestPhase.cpuPercent,
      ratio,
    });
  } finally {
    await server.stop();
  }
}

/** The session's seats as pairs at even positions of their row sections (x = 0-1, 2-3, …; 11-12, …). */
function alignedPairs(session: ScheduledBenchSession): { sessionId: string; seatIds: string[] }[] {
  const byPlace = new Map(session.seats.map((seat) => [`${seat.y}:${seat.x}`, seat.id]));
  const pairs = [];
  for (const seat of session.seats) {
    // Sections start at x = 0 and just after the aisle (x = 11 in a 2 x 10 row).
    const offset = seat.x > 10 ? seat.x - 11 : seat.x;
    const partner = byPlace.get(`${seat.y}:${seat.x + 1}`);
    if (offset % 2 === 0 && partner) {
      pairs.push({ sessionId: session.id, seatIds: [seat.id, partner] });
    }
  }
  return pairs;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
