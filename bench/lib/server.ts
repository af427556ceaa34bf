import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { Client } from 'pg';
import { deleteTopology, topologyNames } from '../../src/events/topology';
import { generateKeyPair, signToken } from '../../src/infra/dev-keys';

// Compiled to dist/bench/lib: the project root is three levels up. BENCH_SERVER_ROOT runs the
// server of another checkout instead (a built one: `npm run bench:compare` uses it).
const ROOT = process.env.BENCH_SERVER_ROOT ?? join(__dirname, '..', '..', '..');
const CLOCK_TICKS_PER_SECOND = 100;

/** A Poltrona process started for one benchmark, with its own database and AMQP prefix. */
export interface BenchServer {
  readonly url: string;
  readonly baseUrl: string;
  readonly pid: number;
  readonly databaseUrl: string;
  readonly prefix: string;
  token(userId: string, admin?: boolean): Promise<string>;
  /** The environment its process was started with (more processes of it reuse it). */
  readonly environment: Readonly<Record<string, string>>;
  /** CPU seconds used and RSS now, read from /proc. */
  resources(): { cpuSeconds: number; rssBytes: number };
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function readResources(pid: number): { cpuSeconds: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKilobytes = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: cpuTicks / CLOCK_TICKS_PER_SECOND, rssBytes: rssKilobytes * 1_024 };
}

/** One more process of a deployment: same database, AMQP prefix and token key. */
export interface BenchProcess {
  readonly url: string;
  readonly pid: number;
  resources(): { cpuSeconds: number; rssBytes: number };
  stop(): Promise<void>;
}

/** Spawns `node dist/src/main.js` of `root` with `environment` and waits until it is ready. */
async function spawnServer(
  environment: Record<string, string>,
  root: string = ROOT,
): Promise<{ child: ChildProcess; baseUrl: string }> {
  const port = await freePort();
  // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/profiles" to profile the server.
  const nodeArguments = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArguments, join(root, 'dist', 'src', 'main.js')],
    {
      env: { ...environment, PORT: String(port) },
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      if ((await fetch(`${baseUrl}/readyz`)).ok) {
        break;
      }
    } catch {
      // not yet
    }
    if (attempt > 300 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error('benchmark server did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, baseUrl };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

/** `KEY=VALUE` pairs separated by spaces (values without spaces), as BENCH_SERVER_ENV holds them. */
export function serverEnvironmentFromBench(pairs: string | undefined): Record<string, string> {
  return Object.fromEntries(
    (pairs ?? '')
      .split(' ')
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}

/**
 * Starts `node dist/src/main.js` of ROOT, or of another built checkout `root`, (run `npm run
 * build` first) on a database and AMQP prefix of its own, and waits until it is ready.
 */
export async function startBenchServer(
  env: Record<string, string> = {},
  root: string = ROOT,
): Promise<BenchServer> {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 10);
  const keys = generateKeyPair();
  // BENCH_DATABASE_SOCKET=/var/run/postgresql: the server reaches PostgreSQL over its Unix
  // socket instead of loopback TCP (how a deployment with a local PostgreSQL or PgBouncer can).
  const socket = process.env.BENCH_DATABASE_SOCKET;
  const databaseUrl = socket
    ? `postgres://postgres@${encodeURIComponent(socket)}/poltrona_bench_${suffix}`
    : `postgres://postgres@127.0.0.1:5432/poltrona_bench_${suffix}`;
  const prefix = `bench-${suffix}`;
  const environment = {
    PATH: process.env.PATH ?? '',
    // As deployed: graphql-js skips its development-mode checks in production.
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '20',
    AMQP_PREFIX: prefix,
    AUTH_PUBLIC_KEY: keys.publicKeyPem,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000',
    RATE_LIMIT_READS_PER_MINUTE: '1000000',
    GRAPHQL_MAX_COST: '1000000',
    // Every benchmark client connects from this one address.
    WS_MAX_CONNECTIONS_PER_CLIENT: '100000',
    // Bursts and saturation loops measure the paths themselves: admission control (which would
    // refuse most of a 2,000-client burst) is off, like the rate limits; the overload scenario
    // turns it on with the server's defaults.
    ADMISSION_MUTATIONS_CONCURRENCY: '0',
    ADMISSION_READS_CONCURRENCY: '0',
    // e.g. BENCH_SERVER_ENV="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318" (tracing on).
    ...serverEnvironmentFromBench(process.env.BENCH_SERVER_ENV),
    ...env,
  };
  const { child, baseUrl } = await spawnServer(environment, root);
  return {
    url: `${baseUrl}/graphql`,
    baseUrl,
    pid: child.pid!,
    databaseUrl,
    prefix,
    environment,
    token: (userId, admin = false) => signToken(keys.privateKeyPem, { userId, admin, expiresIn: '2h' }),
    resources: () => readResources(child.pid!),
    stop: async () => {
      await stopProcess(child);
      const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await admin.connect();
      await admin.query(`drop database if exists "poltrona_bench_${suffix}" with (force)`);
      await admin.end();
      // Durable queues and exchanges outlive the server: remove this run's from the broker.
      const broker = await connect('amqp://guest:guest@127.0.0.1:5672');
      try {
        const holdSeconds = Number((environment as Record<string, string>).HOLD_SECONDS ?? 30);
        await deleteTopology(await broker.createChannel(), topologyNames(prefix, holdSeconds));
      } finally {
        await broker.close();
      }
    },
  };
}

/** Starts another process of `server`'s deployment (e.g. `ROLE=api`); stop it before `server`. */
export async function addBenchProcess(
  server: BenchServer,
  env: Record<string, string>,
): Promise<BenchProcess> {
  const { child, baseUrl } = await spawnServer({ ...server.environment, ...env });
  return {
    url: `${baseUrl}/graphql`,
    pid: child.pid!,
    resources: () => readResources(child.pid!),
    stop: () => stopProcess(child),
  };
}

/** Something whose CPU and RSS can be read: a benchmark server or one more process of it. */
export type Measured = Pick<BenchServer, 'resources'>;

/**
 * Measures the CPU (seconds, and % of one core) and RSS of `processes` across `work`; with
 * several, all are their sums.
 */
export async function withResources<Result>(
  processes: Measured | readonly Measured[],
  work: () => Promise<Result>,
): Promise<{ result: Result; cpuSeconds: number; cpuPercent: number; rssMegabytes: number }> {
  const measured = Array.isArray(processes) ? processes : [processes as Measured];
  const before = measured.map((member) => member.resources().cpuSeconds);
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1_000;
  const after = measured.map((member) => member.resources());
  const cpuSeconds = after.reduce((sum, now, index) => sum + now.cpuSeconds - before[index], 0);
  const rssBytes = after.reduce((sum, now) => sum + now.rssBytes, 0);
  return {
    result,
    cpuSeconds,
    cpuPercent: (cpuSeconds / seconds) * 100,
    rssMegabytes: rssBytes / 1_048_576,
  };
}

/** Creates sessions through the API as an admin; returns their ids and seat ids. */
export async function createSessions(
  server: BenchServer,
  count: number,
  rows: number,
  seatsPerRow: number,
): Promise<{ id: string; seatIds: string[] }[]> {
  const admin = await server.token('bench-admin', true);
  const sessions = [];
  for (let index = 0; index < count; index += 1) {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({
        query: `mutation ($input: CreateSessionInput!) { createSession(input: $input) { id seats { id } } }`,
        variables: {
          input: {
            movie: `Bench ${index}`,
            room: String(index),
            startsAt: new Date(Date.now() + 86_400_000 + index * 60_000).toISOString(),
            priceCents: 1_000,
            rows,
            seatsPerRow,
          },
        },
      }),
    });
    const body = (await response.json()) as {
      data: { createSession: { id: string; seats: { id: string }[] } };
    };
    sessions.push({
      id: body.data.createSession.id,
      seatIds: body.data.createSession.seats.map((seat) => seat.id),
    });
  }
  return sessions;
}

/** A seat of a bench session, with its place. */
export interface BenchSeat {
  readonly id: string;
  readonly x: number;
  readonly y: number;
}

/** A session made by {@link scheduleSessions}. */
export interface ScheduledBenchSession {
  readonly id: string;
  readonly seatIds: string[];
  readonly seats: BenchSeat[];
}

/**
 * Sessions scheduled in one auditorium of `rows` rows of `seatsPerRow` seats split by a centre
 * aisle, the back quarter PREMIUM, three hours apart (gap rule off unless asked: benches that
 * reserve random single seats would see it refuse many): the cinema model's sessions, as
 * `scheduleSession` makes them.
 */
export async function scheduleSessions(
  server: BenchServer,
  count: number,
  rows: number,
  seatsPerRow: number,
  gapRule: 'OFF' | 'NO_SINGLE_SEAT' = 'OFF',
): Promise<ScheduledBenchSession[]> {
  const admin = await server.token('bench-admin', true);
  const post = async <Data>(query: string, variables: unknown): Promise<Data> => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Data; errors?: unknown };
    if (!body.data) {
      throw new Error(`bench set-up failed: ${JSON.stringify(body.errors)}`);
    }
    return body.data;
  };
  const half = Math.floor(seatsPerRow / 2);
  const row = (symbol: string) => symbol.repeat(half) + '.' + symbol.repeat(seatsPerRow - half);
  const layout = Array.from({ length: rows }, (_, index) => row(index >= (rows * 3) / 4 ? 'P' : 's'));
  const { createAuditorium } = await post<{ createAuditorium: { id: string } }>(
    `mutation ($input: CreateAuditoriumInput!) { createAuditorium(input: $input) { id } }`,
    {
      input: {
        name: `Bench hall ${Date.now()}`,
        legend: [
          { symbol: 's', category: 'STANDARD' },
          { symbol: 'P', category: 'PREMIUM' },
        ],
        rows: layout,
      },
    },
  );
  const sessions = [];
  for (let index = 0; index < count; index += 1) {
    const { scheduleSession } = await post<{ scheduleSession: { id: string; seats: BenchSeat[] } }>(
      `mutation ($input: ScheduleSessionInput!) { scheduleSession(input: $input) { id seats { id x y } } }`,
      {
        input: {
          auditoriumId: createAuditorium.id,
          movie: `Bench scheduled ${index}`,
          startsAt: new Date(Date.now() + 86_400_000 + index * 3 * 3_600_000).toISOString(),
          durationMinutes: 120,
          prices: [
            { category: 'STANDARD', priceCents: 1_000 },
            { category: 'PREMIUM', priceCents: 1_500 },
          ],
          gapRule,
        },
      },
    );
    sessions.push({
      id: scheduleSession.id,
      seatIds: scheduleSession.seats.map((seat) => seat.id),
      seats: scheduleSession.seats,
    });
  }
  return sessions;
}
