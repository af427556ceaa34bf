import { type GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType } from 'type-graphql';
import { createLivePubSub, type LivePubSub } from '../infra/live-events';
import { authChecker } from '../resolvers/auth-checker';
import { ReservationResolver } from '../resolvers/reservation.resolver';
import { SaleResolver } from '../resolvers/sale.resolver';
import { SeatResolver } from '../resolvers/seat.resolver';
import { SessionResolver } from '../resolvers/session.resolver';
import { SubscriptionResolver } from '../resolvers/subscription.resolver';
import { DateTimeScalar } from './date-time.scalar';

/** Every resolver class of the API. */
export const RESOLVERS = [
  SessionResolver,
  SeatResolver,
  ReservationResolver,
  SaleResolver,
  SubscriptionResolver,
] as const;

// Resolvers are only instantiated when a field is resolved; printing the schema needs none.
const NO_INSTANCES: ContainerType = {
  get: (resolverClass) => {
    throw new Error(`No instance of ${String(resolverClass)}: this schema is for printing only`);
  },
};

/**
 * Builds the executable schema. `container` supplies the resolver instances wired with their
 * services (see `app.ts`); without it the schema can be printed but not executed.
 * Subscriptions read `Context.live`; type-graphql insists on a `pubSub` all the same.
 */
export async function buildGraphQLSchema(
  container: ContainerType = NO_INSTANCES,
  pubSub: LivePubSub = createLivePubSub(),
): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    container,
    pubSub,
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: { forbidUnknownValues: false, stopAtFirstError: false },
  });
}
