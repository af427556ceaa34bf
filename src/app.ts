import { type MikroORM } from '@mikro-orm/postgresql';
import { type Redis } from 'ioredis';
import { type BookingEvent } from './booking/booking-events';
import { BookingTransactions } from './booking/booking-transaction';
import { ReservationRepository } from './booking/reservation.repository';
import { ReservationService } from './booking/reservation.service';
import { SaleRepository } from './booking/sale.repository';
import { SaleService } from './booking/sale.service';
import { SeatRepository } from './booking/seat.repository';
import { SessionRepository } from './booking/session.repository';
import { SessionService } from './booking/session.service';
import { type Config } from './config';
import { createContextFactory } from './context';
import { AmqpConnection } from './infra/amqp';
import { createTokenVerifier } from './infra/auth';
import { loadOrCreateDevKeyPair, signToken } from './infra/dev-keys';
import { connectDatabase, migrate } from './infra/database';
import { createLivePubSub, publishLive } from './infra/live-events';
import { createLogger, type Logger } from './infra/logger';
import { Metrics } from './infra/metrics';
import { createRedisClient } from './infra/redis';
import { SeatLocks } from './infra/seat-locks';
import { ReservationResolver } from './resolvers/reservation.resolver';
import { SaleResolver } from './resolvers/sale.resolver';
import { SeatResolver } from './resolvers/seat.resolver';
import { SessionResolver } from './resolvers/session.resolver';
import { SubscriptionResolver } from './resolvers/subscription.resolver';
import { buildGraphQLSchema } from './schema/build-schema';
import { createHttpServer, type DependencyHealth } from './server';
import { RateLimiter } from './security/rate-limiter';
import { createRequestGuard } from './security/request-guard';
import { createClientAddressResolver } from './security/client-address';
import { LiveFanout } from './events/live-fanout';
import { SessionReadCache } from './caching/session-read-cache';
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
  readonly redis: Redis;
  readonly logger: Logger;
  /** Exchange and queue names of this process's `AMQP_PREFIX`. */
  readonly topology: TopologyNames;
  /** The expiry backstop (running only in worker roles). */
  readonly sweeper: ExpirySweeper;
  /** Reused results of public session queries (seat maps). */
  readonly sessionCache: SessionReadCache;
  /** Graceful stop: drain HTTP and websockets, then close Redis, RabbitMQ and PostgreSQL. */
  stop(): Promise<void>;
}

/**
 * The composition root: connects to PostgreSQL (creating the database and applying
 * migrations), Redis and RabbitMQ, wires repositories, services and resolvers, and serves
 * HTTP on `config.port` as `config.role` says.
 */
export async function startApplication(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
): Promise<Application> {
  const orm = await connectDatabase(config.database);
  const applied = await migrate(orm, config.database.url);
  if (applied.length > 0) {
    logger.info({ migrations: applied }, 'Applied migrations');
  }
  const redis = createRedisClient(config.redis.url);
  const amqp = new AmqpConnection(config.amqp.url, {
    info: (message, details) => logger.info(details ?? {}, message),
    warn: (message, details) => logger.warn(details ?? {}, message),
  });
  const names = topologyNames(config.amqp.prefix, config.booking.holdSeconds);
  const servesApi = config.role !== 'worker';
  const runsWorkers = config.role !== 'api';

  const repositories = {
    sessions: new SessionRepository(),
    seats: new SeatRepository(),
    reservations: new ReservationRepository(),
    sales: new SaleRepository(),
  };
  const live = createLivePubSub();
  const metrics = new Metrics();
  // Every process relays the outbox rows it commits at once; polling picks up the rest.
  const relay = new OutboxRelay(orm, names, logger, {
    confirmTimeoutMilliseconds: config.amqp.confirmTimeoutMilliseconds,
  });
  const sessionCache = new SessionReadCache(config.sessionCache);
  const transactions = new BookingTransactions((events) => {
    sessionCache.invalidate(events);
    relay.onCommitted(events);
  });
  const sessionService = new SessionService(repositories.sessions, sessionCache.sessionCreated);
  const saleService = new SaleService(repositories.sales);
  const reservationService = new ReservationService({
    ...repositories,
    transactions,
    seatLocks: new SeatLocks(redis),
    holdSeconds: config.booking.holdSeconds,
    logger: { warn: (message, details) => logger.warn(details ?? {}, message) },
    observer: {
      reserved: (outcome) => metrics.reserveOutcomes.inc({ outcome }),
      lockConflict: () => metrics.lockConflicts.inc(),
    },
  });
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
  if (servesApi) {
    // Other processes' changes: drop cached reads first, so a subscriber who refetches sees them.
    const deliver = (events: readonly BookingEvent[]) => {
      sessionCache.invalidate(events);
      publishLive(live, events);
    };
    await amqp.onConnected(new LiveFanout(names, deliver, logger, config.amqp.prefix).attach);
  }
  let consumers: RunningConsumer[] = [];
  const sweeper = new ExpirySweeper(orm, reservationService, logger);
  const pruner = new RetentionPruner(orm, logger, {
    ...config.retention,
    onPruned: ({ outboxRows, inboxRows }) => {
      metrics.prunedRows.inc({ table: 'outbox_event' }, outboxRows);
      metrics.prunedRows.inc({ table: 'consumed_message' }, inboxRows);
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
            handle: createExpiryHandler(orm, reservationService),
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
  await amqp.onConnected(relay.attach);
  relay.start();
  await amqp.start();

  const health = async (): Promise<DependencyHealth> => {
    const [postgres, redisUp] = await Promise.all([
      orm.checkConnection().then((result) => result.ok),
      redis.ping().then(
        () => true,
        () => false,
      ),
    ]);
    return { postgres, redis: redisUp, rabbitmq: amqp.isConnected };
  };
  metrics.watchDependencies(health);

  let graphql;
  if (servesApi) {
    const resolvers = new Map<unknown, object>([
      [SessionResolver, new SessionResolver(sessionService)],
      [SeatResolver, new SeatResolver()],
      [ReservationResolver, new ReservationResolver(reservationService)],
      [SaleResolver, new SaleResolver(saleService)],
      [SubscriptionResolver, new SubscriptionResolver()],
    ]);
    const schema = await buildGraphQLSchema({ get: (resolverClass) => resolvers.get(resolverClass) }, live);
    const verifyToken = await createTokenVerifier(config.auth);
    const rateLimiter = new RateLimiter(redis, config.amqp.prefix, {
      mutation: config.rateLimit.mutationsPerMinute,
      read: config.rateLimit.readsPerMinute,
    });
    graphql = {
      schema,
      verifyToken,
      createContext: createContextFactory(orm, verifyToken, repositories, live),
      sessionCache,
      guard: createRequestGuard(schema, config.limits, rateLimiter),
      limits: config.limits,
      corsOrigins: config.corsOrigins,
      clientAddress: createClientAddressResolver(config.trustedProxies),
      websocket: config.websocket,
      issueDevToken:
        config.auth.key.kind === 'devKey'
          ? (userId: string, admin: boolean) =>
              signToken(loadOrCreateDevKeyPair().privateKeyPem, {
                userId,
                admin,
                issuer: config.auth.issuer,
                audience: config.auth.audience,
              })
          : undefined,
    };
  }
  const server = await createHttpServer({ logger, metrics, health, graphql });
  const port = await server.listen(config.port);
  logger.info(
    { port, role: config.role, node: process.version },
    `Poltrona listening on http://localhost:${port}/graphql`,
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
    stop: () => {
      stopping ??= (async () => {
        await server.close();
        relay.stop();
        await sweeper.stop();
        await pruner.stop();
        await Promise.allSettled(consumers.map((consumer) => consumer.stop()));
        // While Redis is unreachable, quit() is refused (no offline queue) and the client would
        // go on reconnecting for ever: then drop it, which also stops the reconnection timer.
        await Promise.allSettled([redis.quit().catch(() => redis.disconnect()), amqp.close()]);
        await orm.close();
      })();
      return stopping;
    },
  };
}
