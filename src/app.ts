import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { type OverdueCriteria } from './repositories/reservation.repository';
import { type BookingEvent } from './booking/booking-events';
import { HoldBatcher } from './booking/reserve/hold-batcher';
import { type BookingDependencies } from './booking/booking-dependencies';
import { BookingTransactions } from './booking/booking-transaction';
import { expireOverdue } from './booking/expire-overdue';
import { SessionCatalog } from './caching/session-catalog';
import { SessionFactsCache } from './caching/session-facts-cache';
import { type Clock, DATABASE_CLOCK, type ProcessClock, type Scheduler } from './infra/clock';
import { startingStatementTimeout } from './mikro-orm.config';
import { repositoriesOf } from './repositories';
import { type Config } from './config/config';
import { createContextFactory } from './resolvers/context';
import { AmqpConnection } from './infra/amqp';
import { createTokenVerifier } from './infra/auth';
import { connectDatabase, migrate } from './infra/database';
import { createLivePubSub, publishLive } from './live/live-pubsub';
import { createLogger, type Logger } from './infra/logger';
import { Metrics } from './infra/metrics';
import { closeRedisClient, createRedisClient, type RedisClient, redisAnswers } from './infra/redis';
import { countCommittedFacts } from './booking/business-metrics';
import { watchScrapeTimeGauges } from './transports/scrape-gauges';
import { RedisSeatLockGate, SeatLocks } from './infra/seat-locks';
import { type AdmissionClass, AdmissionGate } from './security/admission-gate';
import { AuditoriumResolver } from './resolvers/auditorium.resolver';
import { ReservationResolver } from './resolvers/reservation.resolver';
import { SaleResolver } from './resolvers/sale.resolver';
import { SeatResolver } from './resolvers/seat.resolver';
import { SessionResolver } from './resolvers/session.resolver';
import { SubscriptionResolver } from './resolvers/subscription.resolver';
import { buildGraphQLSchema } from './schema/build-schema';
import { createHttpServer, GRAPHQL_PATH, type GraphQLEndpointOptions } from './transports/http-server';
import { type DependencyHealth } from './transports/health-routes';
import { SubscriptionSignals } from './transports/subscription-signals';
import { assembleGraphQLEndpoint } from './transports/graphql-endpoint';
import { LiveFanout } from './live/live-fanout';
import { SeatMapFeed, seatChangeStoreOf } from './live/seat-map-feed';
import { SessionReadCache } from './caching/session-read-cache';
import { HoldEndIndex } from './caching/hold-ends';
import { OutboxRelay } from './events/outbox-relay';
import { declareTopology, MAX_DELIVERY_ATTEMPTS, topologyNames, type TopologyNames } from './events/topology';
import { type RunningConsumer, startConsumer } from './workers/consumer';
import { ExpirySweeper } from './workers/expiry-sweeper';
import { createExpiryHandler } from './workers/expiry.worker';
import { createReceiptsHandler, RECEIPTS_CONSUMER } from './workers/receipts.worker';
import { RetentionPruner } from './workers/retention-pruner';

/** A running Poltrona process. */
export interface Application {
  readonly config: Config;
  /** The port actually bound (differs from `config.port` when that is 0). */
  readonly port: number;
  readonly orm: MikroORM;
  /** One Redis or a Redis Cluster (`REDIS_CLUSTER_NODES`): seat locks and rate-limit counters. */
  readonly redis: RedisClient;
  readonly logger: Logger;
  /** Exchange and queue names of this process's `AMQP_PREFIX`. */
  readonly topology: TopologyNames;
  /** The expiry backstop (running only in worker roles). */
  readonly sweeper: ExpirySweeper;
  /** Reused results of public session queries (seat maps). */
  readonly sessionCache: SessionReadCache;
  /**
   * Says when each websocket or SSE subscription is registered with the live pub-sub: tests wait on
   * it before committing the events they expect.
   */
  readonly subscriptionSignals: SubscriptionSignals;
  /** Graceful stop: drain HTTP and websockets, then close Redis, RabbitMQ and PostgreSQL. */
  stop(): Promise<void>;
}

/** What a test puts in place of a process's clocks; production passes nothing. */
export interface ApplicationOptions {
  /**
   * Booking time and the read cache's time as one clock, so that a test moves a `ManualClock`
   * past a hold's end instead of sleeping: the use cases, the expiry worker, the sweeper and the
   * seat reads judge holds by it (instead of PostgreSQL's `now()`), the session read cache and
   * its hold-end index measure by it (instead of `Date.now()`). Not moved by it: the status of a
   * reservation as read (`Reservation.holdEnded`, `myReservations`), still PostgreSQL's `now()`;
   * Redis TTLs and the broker's delay queue, real time.
   */
  readonly clock?: Clock & ProcessClock;
  /**
   * Arms the expiry consumer's wait for the rest of a hold whose message came early (a timer by
   * default): with a `ManualScheduler` on the same clock, the test fires it by moving the clock.
   */
  readonly schedule?: Scheduler;
}

/**
 * The composition root: connects to PostgreSQL (creating the database and applying
 * migrations), Redis and RabbitMQ, wires repositories, use cases and resolvers, and serves
 * HTTP on `config.port` as `config.role` says.
 */
export async function startApplication(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
  { clock, schedule }: ApplicationOptions = {},
): Promise<Application> {
  const orm = await connectDatabase(config.database);
  const applied = await migrate(orm, config.database.url);
  if (applied.length > 0) {
    logger.info({ migrations: applied }, 'Applied migrations');
  }
  const redis = createRedisClient(config.redis);
  const amqp = new AmqpConnection(config.amqp.url, {
    info: (message, details) => logger.info(details ?? {}, message),
    warn: (message, details) => logger.warn(details ?? {}, message),
  });
  const names = topologyNames(config.amqp.prefix, config.booking.holdSeconds);
  const servesApi = config.role !== 'worker';
  const runsWorkers = config.role !== 'api';

  const live = createLivePubSub();
  const seatMaps = new SeatMapFeed(
    live,
    () => seatChangeStoreOf(repositoriesOf(orm.em.fork()).seatChanges),
    logger,
  );
  const metrics = new Metrics();
  // Every process relays the outbox rows it commits at once; polling picks up the rest.
  const relay = new OutboxRelay(orm, names, logger, {
    confirmTimeoutMilliseconds: config.amqp.confirmTimeoutMilliseconds,
  });
  // The cache's results end with the holds they show, known from the committed events.
  const cacheNow = clock ? () => clock.now() : Date.now;
  const holdEnds = new HoldEndIndex(config.sessionCache.maxAgeMilliseconds, cacheNow);
  const sessionCache = new SessionReadCache(config.sessionCache, {
    nextHoldEnd: holdEnds.nextHoldEnd,
    clock: cacheNow,
  });
  const subscriptionSignals = new SubscriptionSignals();
  // One gate per process: reads are admitted by the operation pipeline, booking transactions
  // of requests by `transactions` (after the seat locks).
  const admissionGate = new AdmissionGate(config.admission);
  metrics.watchAdmission<AdmissionClass>(['mutation', 'read'], (kind) => admissionGate.load(kind));
  const onCommitted = (events: readonly BookingEvent[]) => {
    holdEnds.record(events);
    sessionCache.invalidate(events);
    relay.onCommitted(events);
    countCommittedFacts(metrics, events);
  };
  const transactions = new BookingTransactions(onCommitted, startingStatementTimeout(orm.config), () =>
    admissionGate.enter('mutation'),
  );
  const bookingAlone: BookingDependencies = {
    transactions,
    seatLocks: new RedisSeatLockGate(new SeatLocks(redis), {
      ttlMilliseconds: config.booking.holdSeconds * 1_000,
      logger: { warn: (message, details) => logger.warn(details ?? {}, message) },
      onConflict: () => metrics.lockConflicts.inc(),
    }),
    clock: clock ?? DATABASE_CLOCK,
    holdSeconds: config.booking.holdSeconds,
    holdMaxSeconds: config.booking.holdMaxSeconds,
    sessionFacts: new SessionFactsCache().find,
    observer: { reserved: (outcome) => metrics.reserveOutcomes.inc({ outcome }) },
  };
  const { holdBatch } = config.booking;
  const booking: BookingDependencies = {
    ...bookingAlone,
    holdBatcher:
      holdBatch.maxSize > 1
        ? new HoldBatcher({ ...bookingAlone, transactions: transactions.unadmitted }, holdBatch, (size) =>
            metrics.holdGroupSize.observe(size),
          )
        : undefined,
  };
  // The workers' expiries are never refused admission: they free seats for the requests.
  const workerBooking = {
    ...booking,
    transactions: transactions.unadmitted,
  };
  const expireOverdueNow = (em: EntityManager, criteria: OverdueCriteria) =>
    expireOverdue(workerBooking, em, criteria);
  metrics.gaugeAtScrape('poltrona_outbox_backlog', 'Outbox events not yet published.', async () => {
    const [row] = await orm.em
      .fork()
      .execute<{ count: number }[]>(
        'select count(*)::int as count from outbox_event where published_at is null',
      );
    return row.count;
  });
  metrics.gaugeAtScrape(
    'poltrona_outbox_oldest_age_seconds',
    'Age of the oldest unpublished outbox event.',
    async () => {
      const [row] = await orm.em
        .fork()
        .execute<{ age: number | null }[]>(
          `select extract(epoch from now() - min(created_at))::float8 as age from outbox_event where published_at is null`,
        );
      return row.age ?? 0;
    },
  );
  // The pg Pool behind MikroORM (connected by now): clients checked out are the total minus
  // the idle ones. Read once, so a scrape never opens a connection (or reopens a closed pool).
  const pool = await orm.em.getConnection().getNativeClient();
  metrics.gaugeAtScrape(
    'poltrona_database_pool_used',
    'PostgreSQL connections in use.',
    () => pool.totalCount - pool.idleCount,
  );
  metrics.gaugeAtScrape(
    'poltrona_database_pool_free',
    'PostgreSQL connections idle in the pool.',
    () => pool.idleCount,
  );

  // Run on every (re)connection, in this order: topology, then consumers, then the relay, so
  // the first events published after a reconnection already find their queues.
  await amqp.onConnected(async (connection) => {
    const channel = await connection.createChannel();
    await declareTopology(channel, names, config.booking.holdSeconds);
    await channel.close();
  });
  let liveFanout: LiveFanout | undefined;
  if (servesApi) {
    // Other processes' changes: drop cached reads first, so a subscriber who refetches sees them.
    const deliver = (events: readonly BookingEvent[]) => {
      holdEnds.record(events);
      sessionCache.invalidate(events);
      publishLive(live, events, (change) => seatMaps.deliver(change));
    };
    liveFanout = new LiveFanout(names, deliver, logger, config.amqp.prefix);
    await amqp.onConnected(liveFanout.attach);
    // Changes published while this process had no queue are in the change log: its subscribers
    // get them before any later change.
    await amqp.onConnected(() => seatMaps.catchUp());
    // Events published while this process had no live queue (a broker outage longer than the
    // queue's lifetime) never reach it: after each (re)connection, the running holds come from
    // the data again (and once below for a process that starts without a broker).
    await amqp.onConnected(async () => {
      holdEnds.load(await repositoriesOf(orm.em.fork()).reservations.findRunningHolds());
    });
  }
  let consumers: RunningConsumer[] = [];
  const sweeper = new ExpirySweeper(orm, expireOverdueNow, logger);
  const pruner = new RetentionPruner(orm, logger, {
    ...config.retention,
    onPruned: ({ outboxRows, inboxRows, seatChangeRows }) => {
      metrics.prunedRows.inc({ table: 'outbox_event' }, outboxRows);
      metrics.prunedRows.inc({ table: 'consumed_message' }, inboxRows);
      metrics.prunedRows.inc({ table: 'seat_change' }, seatChangeRows);
    },
  });
  if (runsWorkers) {
    const common = {
      deadLetterExchange: names.deadLetterExchange,
      maxAttempts: MAX_DELIVERY_ATTEMPTS,
      ackDelayMilliseconds: config.faults.ackDelayMilliseconds,
    };
    await amqp.onConnected(async (connection) => {
      // A reconnection replaces the consumers: the old ones died with their connection.
      consumers = [
        await startConsumer(
          connection,
          {
            ...common,
            name: 'expiry',
            queue: names.expiryQueue,
            prefetch: 32,
            handle: createExpiryHandler(orm, expireOverdueNow, {
              // The end of a hold extended since its message was sent, when the extension's own
              // message may come late (the hold's cap cut it short).
              onLongEarly: (remaining) => sweeper.sweepIn(remaining),
              clock: booking.clock,
              wait:
                schedule &&
                ((milliseconds) =>
                  new Promise<void>((resolve) => {
                    schedule(milliseconds, resolve);
                  })),
            }),
          },
          logger,
          metrics,
        ),
        await startConsumer(
          connection,
          {
            ...common,
            name: RECEIPTS_CONSUMER,
            queue: names.receiptsQueue,
            prefetch: 32,
            handle: createReceiptsHandler(orm, logger),
          },
          logger,
          metrics,
        ),
      ];
    });
    sweeper.start();
    pruner.start();
  }
  // Business and infrastructure gauges read at scrape (bounded, time-limited, never failing).
  await watchScrapeTimeGauges(metrics, {
    orm,
    redis,
    amqp,
    names,
    liveQueue: liveFanout?.queue,
    reportsGlobalFacts: runsWorkers,
  });
  await amqp.onConnected(relay.attach);
  relay.start();
  await amqp.start();
  if (servesApi && !amqp.isConnected) {
    // Without a broker at start the connection step above has not loaded the running holds yet:
    // load them once now; later ones come with this process's own commits, and the broker's
    // events once it answers (which loads them again).
    holdEnds.load(await repositoriesOf(orm.em.fork()).reservations.findRunningHolds());
  }

  const health = async (): Promise<DependencyHealth> => {
    const [postgres, redisUp] = await Promise.all([
      orm.checkConnection().then((result) => result.ok),
      redisAnswers(redis),
    ]);
    return { postgres, redis: redisUp, rabbitmq: amqp.isConnected };
  };
  metrics.watchDependencies(health);

  let graphql: GraphQLEndpointOptions | undefined;
  if (servesApi) {
    // Sessions never change once created: the reads that show them share one catalog.
    const sessionCatalog = new SessionCatalog();
    const resolvers = new Map<unknown, object>([
      [
        SessionResolver,
        new SessionResolver({ transactions, onCreated: sessionCache.sessionCreated }, sessionCatalog),
      ],
      [AuditoriumResolver, new AuditoriumResolver({ transactions })],
      [SeatResolver, new SeatResolver(sessionCatalog)],
      [ReservationResolver, new ReservationResolver(booking, sessionCatalog)],
      [SaleResolver, new SaleResolver(booking, sessionCatalog)],
      [SubscriptionResolver, new SubscriptionResolver()],
    ]);
    const schema = await buildGraphQLSchema({ get: (resolverClass) => resolvers.get(resolverClass) }, live);
    const verifyToken = await createTokenVerifier(config.auth, config.tokenCache);
    graphql = assembleGraphQLEndpoint({
      config,
      schema,
      redis,
      verifyToken,
      createContext: createContextFactory(orm, verifyToken, repositoriesOf, live, seatMaps, booking.clock),
      sessionCache,
      subscriptionSignals,
      admissionGate,
    });
  }
  const server = await createHttpServer({ logger, metrics, health, graphql });
  const port = await server.listen(config.port);
  logger.info(
    { port, role: config.role, node: process.version },
    `Poltrona listening on http://localhost:${port}${GRAPHQL_PATH}`,
  );

  let stopping: Promise<void> | null = null;
  return {
    config,
    port,
    orm,
    redis,
    logger,
    topology: names,
    sweeper,
    sessionCache,
    subscriptionSignals,
    stop: () => {
      stopping ??= (async () => {
        await server.close();
        await sweeper.stop();
        await pruner.stop();
        await Promise.allSettled(consumers.map((consumer) => consumer.stop()));
        // Last of the writers: what they committed meanwhile is published now or, if the relay
        // is stopped first, by the next process's relay (the rows wait in the outbox).
        await relay.stop();
        await Promise.allSettled([closeRedisClient(redis), amqp.close()]);
        await orm.close();
      })();
      return stopping;
    },
  };
}
