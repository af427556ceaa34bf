import { Agent } from 'undici';
import { report, scale, shuffle, SMOKE } from './lib/bench-options';
import { constantRateOutcomes, postGraphQL } from './lib/load';
import { createSessions, startBenchServer, withResources } from './lib/server';
import { formatSummary, percentile, summarise } from './lib/stats';

const RESERVE = `mutation ($input: ReserveInput!) { reserve(input: $input) { id } }`;
/**
 * `--rate=<holds/s>` offers that rate instead of twice the measured capacity: a same-run compare
 * of two servers (`npm run bench:compare -- <ref> overload --rate=600`) then offers both the same
 * load, whatever each one's closed loop measured.
 */
const FIXED_RATE = Number(
  process.argv.find((argument) => argument.startsWith('--rate='))?.slice('--rate='.length),
);
const CLIENTS = 32;
/** DESIGN §7: nothing may stay unanswered longer than this. */
const ANSWER_WITHIN_SECONDS = 10;

/**
 * DESIGN §7, overload: measure `reserve`'s capacity (holds/s of a closed loop of 32 clients,
 * random free seats of many sessions), then offer twice that in an open loop (constant arrival
 * rate) and see what happens to the admitted requests (p99 < 50 ms), the goodput (OK/s ≥ 90 %
 * of the capacity), the refused ones (RATE_LIMITED with retryAfterSeconds, p99 < 50 ms), and
 * whether any request timed out, failed with 5xx or went unanswered for 10 s. The baseline is
 * the capacity measured in the same run, on the same server.
 */
async function main(): Promise<void> {
  const closedSeconds = scale(8, 1);
  const closedWarmupSeconds = scale(2, 0.5);
  const openSeconds = scale(10, 1);
  const openWarmupSeconds = scale(2, 0.5);
  // Capacity is the path's own, measured without admission control (as the reserve bench does);
  // the open loop then runs on a fresh server with admission control as deployed: the server's
  // defaults (empty means unset), unless ADMISSION_* variables of the bench's own environment
  // say otherwise (to try other limits).
  const gated = {
    ADMISSION_MUTATIONS_CONCURRENCY: '',
    ADMISSION_READS_CONCURRENCY: '',
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        (entry): entry is [string, string] => entry[0].startsWith('ADMISSION_') && entry[1] !== undefined,
      ),
    ),
  };
  let server = await startBenchServer();
  try {
    // Seats for the closed loop (at most 250 holds per client), then as many as the open loop
    // could hold at twice the measured capacity; a user holds at most 5 reservations.
    const seatsOf = (made: { id: string; seatIds: string[] }[]) =>
      shuffle(
        made.flatMap((session) => session.seatIds.map((seatId) => ({ sessionId: session.id, seatId }))),
      );
    let seats = seatsOf(
      await createSessions(server, Math.ceil((CLIENTS * (SMOKE ? 20 : 250)) / 1_000), 20, 50),
    );
    // Users of each phase are new: nobody starts with holds of an earlier phase.
    const tokensFor = (phase: string, count: number) =>
      Promise.all(
        Array.from({ length: count }, (_, index) => server.token(`overload-${phase}-user-${index}`)),
      );
    let users = await tokensFor('closed', Math.ceil(seats.length / 5) + 1);
    let next = 0;
    /** One reserve of the next free seat: OK, a code, or an HTTP status. */
    const shot = async (agent: Agent): Promise<{ outcome: string; retryAfter: boolean }> => {
      const index = next++;
      if (index >= seats.length) {
        return { outcome: 'no seat left (bench)', retryAfter: false };
      }
      const { seatId, sessionId } = seats[index];
      const { status, json } = await postGraphQL(
        agent,
        server.url,
        JSON.stringify({ query: RESERVE, variables: { input: { sessionId, seatIds: [seatId] } } }),
        users[Math.floor(index / 5)],
      );
      if (json.data?.reserve) {
        return { outcome: 'OK', retryAfter: false };
      }
      const extensions = json.errors?.[0]?.extensions as
        { code?: string; reason?: string; retryAfterSeconds?: unknown } | undefined;
      const outcome =
        status === 503
          ? 'TIMEOUT (503)'
          : status >= 500
            ? `${status}`
            : (extensions?.code ?? `HTTP ${status}`);
      return { outcome, retryAfter: typeof extensions?.retryAfterSeconds === 'number' };
    };

    // Capacity: 32 clients in closed loops. A refused client waits as told (Retry-After), as a
    // well-behaved client does, rather than spinning.
    const closedLoop = (seconds: number) =>
      withResources(server, async () => {
        const latencies: number[] = [];
        let errors = 0;
        let refused = 0;
        const agent = new Agent({ connections: CLIENTS });
        const deadline = performance.now() + seconds * 1_000;
        await Promise.all(
          Array.from({ length: CLIENTS }, async () => {
            while (performance.now() < deadline && next < seats.length) {
              const sent = performance.now();
              const { outcome } = await shot(agent).catch(() => ({ outcome: 'client error' }));
              if (outcome === 'OK') {
                latencies.push(performance.now() - sent);
              } else if (outcome === 'RATE_LIMITED') {
                refused += 1;
                await new Promise((resolve) =>
                  setTimeout(resolve, Math.min(1_000, Math.max(0, deadline - performance.now()))),
                );
              } else {
                errors += 1;
              }
            }
          }),
        );
        await agent.close();
        return { summary: summarise(latencies, errors, seconds), refused };
      });
    await closedLoop(closedWarmupSeconds);
    const closed = await closedLoop(closedSeconds);
    const capacity = closed.result.summary.throughput;
    console.log(formatSummary(`reserve capacity, ${CLIENTS} clients`, closed.result.summary));
    console.log(
      `  server CPU ${closed.cpuPercent.toFixed(0)} % of a core, admission control off${closed.result.refused ? `; ${closed.result.refused} refused RATE_LIMITED (clients waited Retry-After)` : ''}`,
    );

    // The open loop at twice the capacity, on a fresh server with admission control.
    await server.stop();
    server = await startBenchServer(gated);
    const rate = FIXED_RATE > 0 ? FIXED_RATE : Math.max(10, Math.round(2 * capacity));
    const openSeats = Math.ceil(rate * (openSeconds + openWarmupSeconds) * 1.05);
    seats = seatsOf(await createSessions(server, Math.ceil(openSeats / 1_000), 20, 50));
    next = 0;
    users = await tokensFor('open', Math.ceil(seats.length / 5) + 1);
    const withoutRetryAfter = { count: 0 };
    const open = await withResources(server, () =>
      constantRateOutcomes({
        rate,
        seconds: openSeconds,
        warmupSeconds: openWarmupSeconds,
        answerWithinSeconds: ANSWER_WITHIN_SECONDS,
        connections: 1_024,
        shot: async (agent) => {
          const { outcome, retryAfter } = await shot(agent);
          if (outcome === 'RATE_LIMITED' && !retryAfter) {
            withoutRetryAfter.count += 1;
          }
          return outcome;
        },
      }),
    );
    const run = open.result;
    const sorted = (outcome: string) => [...(run.latencies.get(outcome) ?? [])].sort((a, b) => a - b);
    const admitted = sorted('OK');
    const refused = sorted('RATE_LIMITED');
    const goodput = admitted.length / run.seconds;
    const offered = [...run.latencies.values()].reduce((sum, list) => sum + list.length, 0) + run.unanswered;
    const count = (predicate: (outcome: string) => boolean) =>
      [...run.latencies]
        .filter(([outcome]) => predicate(outcome))
        .reduce((sum, [, list]) => sum + list.length, 0);
    const timeouts = count((outcome) => outcome.startsWith('TIMEOUT'));
    const serverErrors = count((outcome) => /^5\d\d$/.test(outcome) || outcome === 'INTERNAL_SERVER_ERROR');
    const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : '—');
    const admittedP99 = percentile(admitted, 0.99);
    const refusedP99 = percentile(refused, 0.99);

    console.log(
      `overload: offered ${rate}/s (${FIXED_RATE > 0 ? `--rate, ${(rate / capacity).toFixed(1)}` : '2'} × capacity) for ${openSeconds} s, ${offered} requests measured, server CPU ${open.cpuPercent.toFixed(0)} % of a core`,
    );
    console.log(
      `  admitted (OK)       ${String(admitted.length).padStart(6)}   goodput ${goodput.toFixed(0)}/s = ${((goodput / capacity) * 100).toFixed(0)} % of capacity ${capacity.toFixed(0)}/s (target ≥ 90 %)`,
    );
    console.log(
      `                               p50 ${ms(percentile(admitted, 0.5))}  p95 ${ms(percentile(admitted, 0.95))}  p99 ${ms(admittedP99)} (target < 50 ms)`,
    );
    console.log(
      `  refused RATE_LIMITED ${String(refused.length).padStart(5)}   p50 ${ms(percentile(refused, 0.5))}  p99 ${ms(refusedP99)} (target < 50 ms); without retryAfterSeconds: ${withoutRetryAfter.count}`,
    );
    const others = [...run.latencies].filter(([outcome]) => outcome !== 'OK' && outcome !== 'RATE_LIMITED');
    console.log(
      `  other answers: ${others.length === 0 ? 'none' : others.map(([outcome, list]) => `${outcome} ${list.length}`).join(', ')}`,
    );
    console.log(
      `  TIMEOUT ${timeouts}, 5xx ${serverErrors}, unanswered after ${ANSWER_WITHIN_SECONDS} s ${run.unanswered} (target: none)`,
    );
    const met =
      admittedP99 < 50 &&
      goodput >= 0.9 * capacity &&
      (refused.length === 0 || refusedP99 < 50) &&
      withoutRetryAfter.count === 0 &&
      timeouts + serverErrors + run.unanswered === 0;
    console.log(
      `  DESIGN §7 overload target: ${met ? 'met' : 'NOT met'} (baseline: the capacity above, same run)`,
    );
    report('overload', {
      capacity: closed.result.summary,
      capacityCpu: closed.cpuPercent,
      capacityRefused: closed.result.refused,
      rate,
      seconds: run.seconds,
      goodput,
      goodputRatio: goodput / capacity,
      admitted: summarise(admitted, 0, run.seconds),
      refused: summarise(refused, 0, run.seconds),
      outcomes: Object.fromEntries([...run.latencies].map(([outcome, list]) => [outcome, list.length])),
      timeouts,
      serverErrors,
      unanswered: run.unanswered,
      withoutRetryAfter: withoutRetryAfter.count,
      cpu: open.cpuPercent,
      met,
    });
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
