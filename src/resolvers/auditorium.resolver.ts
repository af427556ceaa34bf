import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { findAuditorium, listAuditoriums } from '../booking/auditorium-queries';
import { type AuditoriumCreationDependencies, createAuditorium } from '../booking/create-auditorium';
import { Auditorium } from '../entities/auditorium.entity';
import { AuditoriumArgs } from './auditorium.args';
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
}
