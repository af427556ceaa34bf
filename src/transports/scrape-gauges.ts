import { type MikroORM } from '@mikro-orm/postgresql';
import { QueueDepthProbe, watchedQueues } from '../events/queue-depth';
import { type TopologyNames } from '../events/topology';
import { type AmqpConnection } from '../infra/amqp';
import { type Metrics, SCRAPE_READ_TIMEOUT_MILLISECONDS, sharedPerScrape } from '../infra/metrics';
import { type RedisClient } from '../infra/redis';
import { readRedisMemory } from '../infra/redis-memory';
import {
  OCCUPANCY_MAX_SESSIONS,
  OCCUPANCY_WINDOW_HOURS,
  readSessionOccupancy,
} from '../repositories/session-occupancy';

/** What the scrape-time gauges read. */
export interface ScrapeSources {
  readonly orm: MikroORM;
  /** A single Redis or a Redis Cluster. */
  readonly redis: RedisClient;
  readonly amqp: AmqpConnection;
  readonly names: TopologyNames;
  /** This process's live fan-out queue (API roles). */
  readonly liveQueue?: string;
  /**
   * Whether this process reports the facts that are the same from every process (session
   * occupancy): the worker roles do, so a fleet of API processes does not repeat the query.
   */
  readonly reportsGlobalFacts: boolean;
}

/**
 * Registers the gauges read at scrape time: Redis memory, the application's RabbitMQ queue
 * depths and, in worker roles, the occupancy of the sessions on sale. Each read is one cheap
 * round trip (or one bounded statement), shared by the gauges it feeds, limited in time; a
 * dependency that is down makes its gauges report no sample (and counts
 * `poltrona_scrape_read_failures_total`), never a made-up 0 nor a failed scrape
 * (`poltrona_dependency_up` says which). Call after the topology's connection setup, so the
 * queue probe's channel opens on a connection whose queues exist.
 */
export async function watchScrapeTimeGauges(metrics: Metrics, sources: ScrapeSources): Promise<void> {
  const redisMemory = sharedPerScrape(() => readRedisMemory(sources.redis));
  metrics.gaugeAtScrape(
    'poltrona_redis_memory_used_bytes',
    'Redis used_memory (summed over the masters of a cluster); no sample while Redis does not answer.',
    async () => (await redisMemory()).usedBytes,
  );
  metrics.gaugeAtScrape(
    'poltrona_redis_memory_max_bytes',
    'Redis maxmemory (summed over the masters of a cluster); 0 when any master is unlimited (maxmemory 0), no sample while Redis does not answer.',
    async () => (await redisMemory()).maxBytes,
  );
  metrics.gaugeAtScrape(
    'poltrona_redis_memory_max_ratio',
    'Largest used_memory / maxmemory among the Redis masters (a single Redis: its own); 0 when any master is unlimited (maxmemory 0), no sample while Redis does not answer.',
    async () => (await redisMemory()).maxRatio,
  );

  const queueProbe = new QueueDepthProbe(
    watchedQueues(sources.names, sources.liveQueue),
    SCRAPE_READ_TIMEOUT_MILLISECONDS,
  );
  await sources.amqp.onConnected(queueProbe.attach);
  const queueDepths = sharedPerScrape(() => queueProbe.read());
  metrics.labelledGaugeAtScrape(
    'poltrona_rabbitmq_queue_messages',
    "Messages ready in each of the application's queues (checkQueue); no series while RabbitMQ is away.",
    ['queue'],
    async () => (await queueDepths()).map(({ queue, messages }) => ({ labels: { queue }, value: messages })),
  );
  metrics.labelledGaugeAtScrape(
    'poltrona_rabbitmq_queue_consumers',
    "Consumers of each of the application's queues (checkQueue); no series while RabbitMQ is away.",
    ['queue'],
    async () =>
      (await queueDepths()).map(({ queue, consumers }) => ({ labels: { queue }, value: consumers })),
  );

  if (!sources.reportsGlobalFacts) {
    return;
  }
  const occupancy = sharedPerScrape(() =>
    readSessionOccupancy(sources.orm.em.fork(), SCRAPE_READ_TIMEOUT_MILLISECONDS),
  );
  const bound = `at most ${OCCUPANCY_MAX_SESSIONS} sessions not ended that start within ${OCCUPANCY_WINDOW_HOURS} h, soonest first`;
  metrics.labelledGaugeAtScrape(
    'poltrona_session_occupancy_ratio',
    `Share of a session's seats sold or held (running holds), for ${bound}.`,
    ['session_id'],
    async () =>
      (await occupancy()).sessions.map((session) => ({
        labels: { session_id: session.sessionId },
        value: session.capacity === 0 ? 0 : (session.sold + session.held) / session.capacity,
      })),
  );
  metrics.labelledGaugeAtScrape(
    'poltrona_session_seats',
    `Seats by state (sold, held, available: they add up to poltrona_session_capacity_seats) of the same sessions: ${bound}.`,
    ['session_id', 'state'],
    async () =>
      (await occupancy()).sessions.flatMap((session) =>
        (
          [
            ['sold', session.sold],
            ['held', session.held],
            ['available', session.capacity - session.sold - session.held],
          ] as const
        ).map(([state, value]) => ({ labels: { session_id: session.sessionId, state }, value })),
      ),
  );
  metrics.labelledGaugeAtScrape(
    'poltrona_session_capacity_seats',
    `Seats in all of the same sessions: ${bound}.`,
    ['session_id'],
    async () =>
      (await occupancy()).sessions.map((session) => ({
        labels: { session_id: session.sessionId },
        value: session.capacity,
      })),
  );
  metrics.gaugeAtScrape(
    'poltrona_sessions_in_occupancy_window',
    `Sessions not ended that start within ${OCCUPANCY_WINDOW_HOURS} h, before the cap of ${OCCUPANCY_MAX_SESSIONS}: above the cap, the occupancy gauges leave the latest out.`,
    async () => (await occupancy()).sessionsInWindow,
  );
}
