import { type GraphQLNamedType, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType } from 'type-graphql';
import { createLivePubSub, type LivePubSub } from '../live/live-pubsub';
import { AuditoriumResolver } from '../resolvers/auditorium.resolver';
import { authChecker } from '../resolvers/auth-checker';
import { ReservationResolver } from '../resolvers/reservation.resolver';
import { SaleResolver } from '../resolvers/sale.resolver';
import { SeatResolver } from '../resolvers/seat.resolver';
import { SessionResolver } from '../resolvers/session.resolver';
import { SubscriptionResolver } from '../resolvers/subscription.resolver';
import { DateTimeScalar } from '../scalars/date-time.scalar';

/** Every resolver class of the API. */
export const RESOLVERS = [
  SessionResolver,
  AuditoriumResolver,
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
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    container,
    pubSub,
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: { forbidUnknownValues: false, stopAtFirstError: false },
  });
  return describeRootTypes(schema);
}

/** What each root type is for: type-graphql has no way to describe them (the contract asks for it: docs/contract.md). */
const ROOT_TYPE_DESCRIPTIONS = {
  query:
    'Reads: sessions and their seat maps, auditoriums (public), your reservations and sales (bearer token).',
  mutation:
    'Changes: holding seats, paying for and cancelling reservations, refunding sales, and (admins) creating sessions and auditoriums. Every mutation needs a bearer token.',
  subscription:
    'Live updates over a websocket (graphql-transport-ws on /graphql): seat maps (public) and your reservations.',
} as const;

function describeRootTypes(schema: GraphQLSchema): GraphQLSchema {
  const config = schema.toConfig();
  const replacements = new Map<GraphQLNamedType, GraphQLObjectType>();
  const described = (type: GraphQLObjectType | null | undefined, description: string) => {
    if (!type) {
      return undefined;
    }
    const replacement = new GraphQLObjectType({ ...type.toConfig(), description });
    replacements.set(type, replacement);
    return replacement;
  };
  return new GraphQLSchema({
    ...config,
    query: described(config.query, ROOT_TYPE_DESCRIPTIONS.query),
    mutation: described(config.mutation, ROOT_TYPE_DESCRIPTIONS.mutation),
    subscription: described(config.subscription, ROOT_TYPE_DESCRIPTIONS.subscription),
    // Same order as before, so the printed SDL only gains the descriptions.
    types: config.types.map((type) => replacements.get(type) ?? type),
  });
}
