import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { report, scale, shuffle, SMOKE } from './lib/bench-options';
import { constantRate, postGraphQL } from './lib/load';
import {
  addBenchProcess,
  type Measured,
  createSessions,
  scheduleSessions,
  startBenchServer,
  withResources,
} from './lib/server';
import { formatSummary, summarise } from './lib/stats';

const RESERVE = `mutation ($input: ReserveInput!) { reserve(input: $input) { id } }`;

/**
 * `reserve` of random free seats through the whole stack (many users, many sessions), at a
 * constant arrival rate, then at saturation; baseline: pgbench running a transaction with the
 * same writes (conditional seat update + reservation insert + outbox insert) at the same
 * concurrency, on the same database, in the same run.
 */
async function main(): Promise<void> {
  const rate = scale(1_000, 100);
  const seconds = scale(10, 1);
  const warmupSeconds = scale(2, 0.5);
  const saturationClients = 32;
  const saturationSeconds = scale(10, 1);
  const server = await startBenchServer();
  try {
    // Steady phase, then two closed-loop phases (one process, two API processes) of at most
    // 250 reserves per client each.
    const needed =
      Math.ceil(rate * (seconds + warmupSeconds) * 1.1) + 2 * saturationClients * (SMOKE ? 10 : 250);
    const sessions = await createSessions(server, Math.ceil(needed / 1_000) + 1, 20, 50);
    const seatsOf = (made: { id: string; seatIds: string[] }[]) =>
      shuffle(
        made.flatMap((session) => session.seatIds.map((seatId) => ({ sessionId: session.id, seatId }))),
      );
    // The last phase reserves seats of scheduled sessions (an auditorium, two price categories),
    // placed after the others so that its users hold nothing yet.
    const firstSeats = seatsOf(sessions);
    // A server from before scheduled sessions (a bench:compare baseline) has none: skip that phase.
    const scheduled = await scheduleSessions(
      server,
      Math.ceil((saturationClients * (SMOKE ? 10 : 250)) / 1_000) + 1,
      20,
      50,
    ).catch(() => null);
    // And one more phase on a single hot session: its seat changes commit one after the other
    // where they take the session's next map version.
    const [hot] = await createSessions(server, 1, SMOKE ? 10 : 50, 50);
    const scheduledSeats = seatsOf(scheduled ?? []);
    const seats = [...firstSeats, ...scheduledSeats, ...seatsOf([hot])];
    let limit = firstSeats.length;
    const users = await Promise.all(
      Array.from({ length: Math.ceil(seats.length / 5) + 1 }, (_, index) =>
        server.token(`bench-user-${index}`),
      ),
    );
    let next = 0;
    const shot = async (agent: Agent, url = server.url) => {
      const index = next++;
      const { seatId, sessionId } = seats[index];
      const { json } = await postGraphQL(
        agent,
        url,
        JSON.stringify({ query: RESERVE, variables: { input: { sessionId, seatIds: [seatId] } } }),
        users[Math.floor(index / 5)],
      );
      return json.data?.reserve !== undefined && json.data.reserve !== null;
    };

    const steady = await withResources(server, () =>
      constantRate({ rate, seconds, warmupSeconds, shot, connections: 256 }),
    );
    console.log(formatSummary(`reserve @ ${rate}/s`, steady.result));
    console.log(
      `  server CPU ${steady.cpuPercent.toFixed(0)} % of a core, RSS ${steady.rssMegabytes.toFixed(0)} MB`,
    );

    // Saturation: N clients in closed loops, to compare capacity with pgbench at the same
    // concurrency; client i talks to urls[i % urls.length].
    const saturate = (processes: readonly (Measured & { url: string })[]) =>
      withResources(processes, async () => {
        const latencies: number[] = [];
        let errors = 0;
        const agent = new Agent({ connections: saturationClients });
        const deadline = performance.now() + saturationSeconds * 1_000;
        await Promise.all(
          Array.from({ length: saturationClients }, async (_, client) => {
            const { url } = processes[client % processes.length];
            while (performance.now() < deadline && next < limit) {
              const sent = performance.now();
              const ok = await shot(agent, url).catch(() => false);
              if (ok) {
                latencies.push(performance.now() - sent);
              } else {
                errors += 1;
              }
            }
          }),
        );
        await agent.close();
        return summarise(latencies, errors, saturationSeconds);
      });

    const single = await saturate([server]);
    const saturated = single.result;
    console.log(formatSummary(`reserve, ${saturationClients} clients`, saturated));
    console.log(`  server CPU ${single.cpuPercent.toFixed(0)} % of a core`);

    // The same with a second API process of the same deployment (plan: two per 2-core box).
    const second = await addBenchProcess(server, { ROLE: 'api' });
    let scaled;
    try {
      scaled = await saturate([server, second]);
    } finally {
      await second.stop();
    }
    console.log(formatSummary(`reserve, ${saturationClients} clients, 2 processes`, scaled.result));
    console.log(`  servers' CPU ${scaled.cpuPercent.toFixed(0)} % of a core (both processes)`);

    // The same closed loop on scheduled sessions; baseline: the one-process loop above.
    let onScheduled: Awaited<ReturnType<typeof saturate>> | null = null;
    if (scheduled) {
      next = firstSeats.length;
      limit = seats.length;
      onScheduled = await saturate([server]);
      console.log(
        formatSummary(`reserve, ${saturationClients} clients, scheduled sessions`, onScheduled.result),
      );
      console.log(
        `  server CPU ${onScheduled.cpuPercent.toFixed(0)} % of a core; ${((onScheduled.result.throughput / saturated.throughput) * 100).toFixed(0)} % of the createSession sessions' holds/s (same run)`,
      );
    } else {
      console.log('reserve on scheduled sessions: this server has none (skipped)');
    }

    // One hot session: every hold of this loop changes the same session's seats.
    next = firstSeats.length + scheduledSeats.length;
    limit = seats.length;
    const onHot = await saturate([server]);
    console.log(formatSummary(`reserve, ${saturationClients} clients, one session`, onHot.result));
    console.log(
      `  server CPU ${onHot.cpuPercent.toFixed(0)} % of a core; ${((onHot.result.throughput / saturated.throughput) * 100).toFixed(0)} % of the many-sessions holds/s (same run)`,
    );

    const baseline = pgbenchBaseline(server.databaseUrl, saturationClients, saturationSeconds);
    console.log(
      `baseline pgbench, ${saturationClients} clients   ${baseline.tps.toFixed(0).padStart(6)} tx/s   p50 ${baseline.p50.toFixed(1)} ms  p99 ${baseline.p99.toFixed(1)} ms`,
    );
    const ratio = saturated.throughput / baseline.tps;
    console.log(
      `Poltrona / pgbench at ${saturationClients} clients: ${(ratio * 100).toFixed(0)} % (target ≥ 35 %); DESIGN §7 also asks ≥ 1,000 holds/s with p99 < 50 ms: offered ${rate}/s above, ${steady.result.throughput.toFixed(0)}/s served, p99 ${steady.result.p99.toFixed(0)} ms`,
    );
    console.log(
      `  with 2 API processes: ${((scaled.result.throughput / baseline.tps) * 100).toFixed(0)} % of pgbench`,
    );
    report('reserve', {
      steady: steady.result,
      steadyCpu: steady.cpuPercent,
      steadyRss: steady.rssMegabytes,
      saturated,
      saturatedCpu: single.cpuPercent,
      twoProcesses: scaled.result,
      twoProcessesCpu: scaled.cpuPercent,
      oneSession: onHot.result,
      scheduled: onScheduled?.result ?? null,
      scheduledCpu: onScheduled?.cpuPercent ?? null,
      baseline,
      ratio,
    });
  } finally {
    await server.stop();
  }
}

/** pgbench with the same writes as a reserve, against seats of the same schema. */
function pgbenchBaseline(databaseUrl: string, clients: number, seconds: number) {
  const psql = (sql: string) => execFileSync('psql', [databaseUrl, '-qAtc', sql], { encoding: 'utf8' });
  psql(`drop table if exists bench_seat;
        create table bench_seat as
          select row_number() over () as n, id, session_id from seat where status = 'AVAILABLE';
        alter table bench_seat add primary key (n);`);
  const count = Number(psql('select count(*) from bench_seat'));
  const directory = mkdtempSync(join(tmpdir(), 'poltrona-pgbench-'));
  const script = join(directory, 'reserve.sql');
  writeFileSync(
    script,
    `\\set n random(1, ${count})
BEGIN;
UPDATE seat SET status = 'RESERVED', version = version + 1, hold_expires_at = now() + interval '30 seconds'
 WHERE id = (SELECT id FROM bench_seat WHERE n = :n) AND status = 'AVAILABLE';
INSERT INTO reservation (id, user_id, session_id, status, expires_at, created_at, updated_at, total_cents)
 SELECT gen_random_uuid(), 'pgbench', session_id, 'PENDING', now() + interval '30 seconds', now(), now(), 1000
   FROM bench_seat WHERE n = :n;
INSERT INTO outbox_event (id, topic, payload) VALUES (gen_random_uuid(), 'bench', '{"seat": 1}');
END;
`,
  );
  try {
    const output = execFileSync(
      'pgbench',
      [
        '-n',
        '-c',
        String(clients),
        '-j',
        '2',
        '-T',
        String(seconds),
        '-f',
        script,
        '-l',
        '--log-prefix',
        join(directory, 'log'),
        databaseUrl,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const tps = Number(/tps = ([\d.]+)/.exec(output)?.[1] ?? 0);
    const latencies = readdirSync(directory)
      .filter((file) => file.startsWith('log'))
      .flatMap((file) =>
        readFileSync(join(directory, file), 'utf8')
          .trim()
          .split('\n')
          .map((line) => Number(line.split(' ')[2]) / 1_000),
      );
    const summary = summarise(latencies, 0, seconds);
    return { tps, p50: summary.p50, p99: summary.p99 };
  } finally {
    rmSync(directory, { recursive: true, force: true });
    psql('drop table if exists bench_seat');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
