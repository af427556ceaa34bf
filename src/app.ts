import { type MikroORM } from '@mikro-orm/postgresql';
import { type Redis } from 'ioredis';
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
import { connectDatabase, migrate } from './infra/database';
import { createLivePubSub, publishLive } from './infra/live-events';
import { createLogger, type Logger } from './infra/logger';
import { createRedisClient } from './infra/redis';
import { SeatLocks } from './infra/seat-locks';
import { ReservationResolver } from './resolvers/reservation.resolver';
import { SaleResolver } from './resolvers/sale.resolver';
import { SeatResolver } from './resolvers/seat.resolver';
import { SessionResolver } from './resolvers/session.resolver';
import { SubscriptionResolver } from './resolvers/subscription.resolver';
import { buildGraphQLSchema } from './schema/build-schema';
import { createHttpServer, type ReadinessReport } from './server';

/** A running Poltrona process. */
export interface Application {
  readonly config: Config;
  /** The port actually bound (differs from `config.port` when that is 0). */
  readonly port: number;
  readonly orm: MikroORM;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly reservations: ReservationService;
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
  const orm = await connectDatabase(config.database.url, config.database.poolSize);
  const applied = await migrate(orm, config.database.url);
  if (applied.length > 0) {
    logger.info({ migrations: applied }, 'Applied migrations');
  }
  const redis = createRedisClient(config.redis.url);
  const amqp = new AmqpConnection(config.amqp.url, {
    info: (message, details) => logger.info(details ?? {}, message),
    warn: (message, details) => logger.warn(details ?? {}, message),
  });
  await amqp.start();

  const repositories = {
    sessions: new SessionRepository(),
    seats: new SeatRepository(),
    reservations: new ReservationRepository(),
    sales: new SaleRepository(),
  };
  const live = createLivePubSub();
  const transactions = new BookingTransactions((events) => publishLive(live, events));
  const sessionService = new SessionService(repositories.sessions);
  const saleService = new SaleService(repositories.sales);
  const reservationService = new ReservationService({
    ...repositories,
    transactions,
    seatLocks: new SeatLocks(redis),
    holdSeconds: config.booking.holdSeconds,
    logger: { warn: (message, details) => logger.warn(details ?? {}, message) },
  });

  const readiness = async (): Promise<ReadinessReport> => {
    const [postgres, redisUp] = await Promise.all([
      orm.checkConnection().then((result) => result.ok),
      redis.ping().then(
        () => true,
        () => false,
      ),
    ]);
    return { postgres, redis: redisUp, rabbitmq: amqp.isConnected };
  };

  let graphql;
  if (config.role !== 'worker') {
    const resolvers = new Map<unknown, object>([
      [SessionResolver, new SessionResolver(sessionService)],
      [SeatResolver, new SeatResolver()],
      [ReservationResolver, new ReservationResolver(reservationService)],
      [SaleResolver, new SaleResolver(saleService)],
      [SubscriptionResolver, new SubscriptionResolver()],
    ]);
    const schema = await buildGraphQLSchema({ get: (resolverClass) => resolvers.get(resolverClass) }, live);
    const verifyToken = await createTokenVerifier(config.auth);
    graphql = { schema, createContext: createContextFactory(orm, verifyToken, repositories, live) };
  }
  const server = await createHttpServer({ logger, readiness, graphql });
  const port = await server.listen(config.port);
  logger.info({ port, role: config.role }, `Poltrona listening on http://localhost:${port}/graphql`);

  let stopping: Promise<void> | null = null;
  return {
    config,
    port,
    orm,
    redis,
    logger,
    reservations: reservationService,
    stop: () => {
      stopping ??= (async () => {
        await server.close();
        await Promise.allSettled([redis.quit(), amqp.close()]);
        await orm.close();
      })();
      return stopping;
    },
  };
}
