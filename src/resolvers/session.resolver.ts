import { type GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Args,
  Authorized,
  Ctx,
  FieldResolver,
  Info,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { createSession, type SessionCreationDependencies } from '../booking/create-session';
import { type SessionCatalog } from '../caching/session-catalog';
import { scheduleSession } from '../booking/schedule-session';
import { Auditorium } from '../entities/auditorium.entity';
import { getSession, listSessions } from '../booking/session-queries';
import { type Context } from './context';
import { Session } from '../entities/session.entity';
import { ADMIN_ROLE } from './auth-checker';
import { SessionConnection } from './connection.types';
import { CreateSessionInput } from './create-session.input';
import { ScheduleSessionInput } from './schedule-session.input';
import { SessionArgs, SessionIdArgs, SessionsArgs } from './session.args';
import { SeatView } from './seat.type';
import { siblingFieldNames } from './sibling-fields';

@Resolver(() => Session)
export class SessionResolver {
  constructor(
    private readonly sessionCreation: SessionCreationDependencies,
    /** Sessions never change once created: a page's nodes are read once per process. */
    private readonly catalog: SessionCatalog,
  ) {}

  @Query(() => SessionConnection, {
    description: 'Sessions ordered by `startsAt`, then id. No token needed.',
  })
  async sessions(@Args() args: SessionsArgs, @Ctx() { em }: Context): Promise<SessionConnection> {
    return listSessions(em, { ...args, first: args.first ?? 20 }, this.catalog.findByIds);
  }

  @Query(() => Session, { nullable: true, description: 'One session; NOT_FOUND if it does not exist.' })
  async session(@Args() { id }: SessionArgs, @Ctx() { em }: Context): Promise<Session> {
    return getSession(em, id, 'id', this.catalog.findByIds);
  }

  @Query(() => [SeatView], { description: "A session's seats, ordered by row, then number." })
  async seats(@Args() { sessionId }: SessionIdArgs, @Ctx() { em, loaders }: Context): Promise<SeatView[]> {
    const session = await getSession(em, sessionId, 'sessionId', this.catalog.findByIds);
    return loaders.seatsBySession.load(session.id);
  }

  @Authorized(ADMIN_ROLE)
  @Mutation(() => Session, {
    description:
      'Creates a one-off session in a rectangular room of STANDARD seats at one price, off the schedule. Admins only.',
    deprecationReason: 'Use scheduleSession.',
  })
  async createSession(
    @Arg('input', () => CreateSessionInput, { description: 'The session to create.' })
    input: CreateSessionInput,
    @Ctx() { em, deadline }: Context,
  ): Promise<Session> {
    return createSession(this.sessionCreation, em, input, deadline);
  }

  @Authorized(ADMIN_ROLE)
  @Mutation(() => Session, {
    description:
      "Schedules a session in an auditorium, with its layout's seats at one price per category. SCHEDULE_CONFLICT when the auditorium is busy then (cleaning buffer included). Admins only.",
  })
  async scheduleSession(
    @Arg('input', () => ScheduleSessionInput, { description: 'The session to schedule.' })
    input: ScheduleSessionInput,
    @Ctx() { em, deadline }: Context,
  ): Promise<Session> {
    return scheduleSession(this.sessionCreation, em, input, deadline);
  }

  @FieldResolver(() => Auditorium, {
    nullable: true,
    description: 'The auditorium it is scheduled in; null for a session made by createSession.',
  })
  async auditorium(@Root() session: Session, @Ctx() { loaders }: Context): Promise<Auditorium | null> {
    return session.auditorium ? loaders.auditoriumById.load(session.auditorium.id) : null;
  }

  @FieldResolver(() => [SeatView], { name: 'seats', description: 'All seats, ordered by row, then number.' })
  async seatsOfSession(@Root() session: Session, @Ctx() { loaders }: Context): Promise<SeatView[]> {
    // With its map version: `session { mapVersion seats }` is one snapshot.
    return (await loaders.seatMapBySession.load(session.id)).seats;
  }

  @FieldResolver(() => Int, {
    description:
      "Grows by exactly one with every committed change of the session's seats. Selected beside `seats` (in the same selection), the two are one snapshot: subscribe to seatStatusChanged(afterMapVersion) from it.",
  })
  async mapVersion(
    @Root() session: Session,
    @Ctx() { loaders }: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<number> {
    if (siblingFieldNames(info).has('seats')) {
      return (await loaders.seatMapBySession.load(session.id)).mapVersion;
    }
    return loaders.mapVersionBySession.load(session.id);
  }

  @FieldResolver(() => Int, { description: 'Seats that can be reserved now (ended holds count as free).' })
  async availableSeats(@Root() session: Session, @Ctx() { loaders }: Context): Promise<number> {
    return loaders.availableSeatsBySession.load(session.id);
  }
}
