import { Agent } from 'undici';
import { scale } from './lib/bench-options';
import { postGraphQL } from './lib/load';
import { createSessions, startBenchServer, type BenchServer, withResources } from './lib/server';

const RESERVE = 'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }';
const TYPENAME = JSON.stringify({ query: '{ __typename }' });
const KINDS = ['{ __typename }', 'loser, cached token', 'loser, first-use token'] as const;

/** One server under measurement, with its requests of each kind ready to send. */
interface Subject {
  readonly label: string;
  readonly server: BenchServer;
  readonly shots: readonly (() => Promise<boolean>)[];
  /** CPU seconds and unexpected answers so far, per kind. */
  readonly totals: { cpuSeconds: number; requests: number; failures: number }[];
}

/**
 * `node dist/bench/loser-cost.js [--against <built checkout>]`: the server CPU one stampede
 * loser costs, beside one `{ __typename }`. The seat is taken first; then each kind of request
 * is sent a few at a time (no queueing, so the CPU is the request's own), and the server's CPU
 * seconds (from /proc) are divided by the count:
 *
 * - `{ __typename }`, anonymous: the floor every request pays (HTTP, express, Apollo);
 * - a loser with a token used before (verified from the token cache);
 * - a loser with a token of its own, first use (as in the stampede: one RS256 verification each).
 *
 * The gap between the last two is the token's verification; between `{ __typename }` and the
 * cached loser, the rest of the loser path (rate limit, context, locks, error). With
 * `--against`, that checkout's server is measured too, the two taking turns in every round, so
 * that the machine's drift (it is shared) falls on both alike.
 */
async function main(): Promise<void> {
  const count = scale(9_000, 100);
  const rounds = scale(9, 1);
  // The winner's hold must outlast the run, or a later request wins the freed seat.
  const environment = { HOLD_SECONDS: '600' };
  const perRound = Math.ceil(count / rounds);
  const against = process.argv.indexOf('--against');
  const subjects: Subject[] = [];
  try {
    if (against > 0) {
      subjects.push(
        await prepare('before', await startBenchServer(environment, process.argv[against + 1]), count),
      );
    }
    subjects.push(
      await prepare(against > 0 ? 'after' : 'this checkout', await startBenchServer(environment), count),
    );
    for (let round = 0; round < rounds; round += 1) {
      for (let kind = 0; kind < KINDS.length; kind += 1) {
        for (const subject of subjects) {
          const { result: failures, cpuSeconds } = await withResources(subject.server, () =>
            run(perRound, subject.shots[kind]),
          );
          const total = subject.totals[kind];
          total.cpuSeconds += cpuSeconds;
          total.requests += perRound;
          total.failures += failures;
        }
      }
    }
    for (const subject of subjects) {
      console.log(`${subject.label}:`);
      const perRequest = subject.totals.map((total) => (total.cpuSeconds * 1_000) / total.requests);
      for (const [kind, label] of KINDS.entries()) {
        const failures = subject.totals[kind].failures;
        console.log(
          `  ${label.padEnd(24)} ${perRequest[kind].toFixed(3)} ms of server CPU per request` +
            (kind > 0 ? `  (${(perRequest[kind] / perRequest[0]).toFixed(2)} × { __typename })` : '') +
            (failures > 0 ? `  ${failures} unexpected answers` : ''),
        );
      }
    }
  } finally {
    await Promise.all(subjects.map((subject) => subject.server.stop()));
  }
}

/** Takes the seat on `server`, mints the tokens and warms every kind of request up. */
async function prepare(label: string, server: BenchServer, count: number): Promise<Subject> {
  const [session] = await createSessions(server, 1, 10, 10);
  const body = JSON.stringify({
    query: RESERVE,
    variables: { input: { sessionId: session.id, seatIds: [session.seatIds[0]] } },
  });
  const agent = new Agent({ connections: 8, pipelining: 1 });
  const won = await postGraphQL(agent, server.url, body, await server.token('winner'));
  if (won.json.errors) {
    throw new Error(`the first reserve did not win: ${JSON.stringify(won.json.errors)}`);
  }
  const warmUp = Math.min(count, 300);
  const repeatToken = await server.token('repeat-loser');
  const freshTokens = await Promise.all(
    Array.from({ length: count + warmUp }, (_, index) => server.token(`fresh-loser-${index}`)),
  );
  let fresh = 0;
  const shots = [
    async () => (await postGraphQL(agent, server.url, TYPENAME)).status === 200,
    async () => isLoss(await postGraphQL(agent, server.url, body, repeatToken)),
    async () => isLoss(await postGraphQL(agent, server.url, body, freshTokens[fresh++])),
  ];
  // Warm-up: JIT and connections for every kind.
  for (const shot of shots) {
    await run(warmUp, shot);
  }
  return { label, server, shots, totals: KINDS.map(() => ({ cpuSeconds: 0, requests: 0, failures: 0 })) };
}

function isLoss(answer: Awaited<ReturnType<typeof postGraphQL>>): boolean {
  const code = answer.json.errors?.[0]?.extensions?.code;
  if (code !== 'SEAT_UNAVAILABLE') {
    console.error(`unexpected answer: ${code ?? 'no error'}`);
  }
  return code === 'SEAT_UNAVAILABLE';
}

/** Sends `count` requests, `concurrency` at a time; resolves with how many were unexpected. */
async function run(count: number, shot: () => Promise<boolean>, concurrency = 4): Promise<number> {
  let next = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        if (!(await shot())) {
          failures += 1;
        }
      }
    }),
  );
  return failures;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
