import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import {
  findAuditorium,
  listAuditoriums,
  MAX_SCHEDULE_SESSIONS,
  scheduleRange,
} from '../booking/auditorium-queries';
import { type AuditoriumCreationDependencies, createAuditorium } from '../booking/create-auditorium';
import { Auditorium } from '../entities/auditorium.entity';
import { Session } from '../entities/session.entity';
import { AuditoriumArgs, AuditoriumSessionsArgs } from './auditorium.args';
import { ADMIN_ROLE } from './auth-checker';
import { type Context } from './context';
import { CreateAuditoriumInput } from './create-auditorium.input';

@Resolver(() => Auditorium)
export class AuditoriumResolver {
  constructor(private readonly auditoriumCreation: AuditoriumCreationDependencies) {}

  @Query(() => [Auditorium], { description: 'Every auditorium, by name. No token needed.' })
  async auditoriums(@Ctx() { em }: Context): Promise<Auditorium[]> {
    return listAuditoriums(em);
  }

  @Query(() => Auditorium, {
    nullable: true,
    description: 'One auditorium; NOT_FOUND if it does not exist. No token needed.',
  })
  async auditorium(@Args() { id }: AuditoriumArgs, @Ctx() { em }: Context): Promise<Auditorium> {
    return findAuditorium(em, id);
  }

  @Authorized(ADMIN_ROLE)
  @Mutation(() => Auditorium, { description: 'Creates an auditorium from its seat layout. Admins only.' })
  async createAuditorium(
    @Arg('input', () => CreateAuditoriumInput, { description: 'The auditorium to create.' })
    input: CreateAuditoriumInput,
    @Ctx() { em, deadline }: Context,
  ): Promise<Auditorium> {
    return createAuditorium(this.auditoriumCreation, em, input, deadline);
  }

  @FieldResolver(() => [Session], {
    description: `Its schedule: sessions by startsAt, from inclusive, to exclusive; at most the first ${MAX_SCHEDULE_SESSIONS} (narrow the range for more).`,
  })
  async sessions(
    @Root() auditorium: Auditorium,
    @Args() { from, to }: AuditoriumSessionsArgs,
    @Ctx() { loaders }: Context,
  ): Promise<Session[]> {
    return loaders.sessionsByAuditorium(scheduleRange(from, to)).load(auditorium.id);
  }
}
