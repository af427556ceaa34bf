import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { type Context } from '../context';
import { Seat } from '../entities/seat.entity';
import { Session } from '../entities/session.entity';

@Resolver(() => Seat)
export class SeatResolver {
  @FieldResolver(() => Session, { description: 'The session the seat belongs to.' })
  async session(@Root() seat: Seat, @Ctx() { loaders }: Context): Promise<Session> {
    return (await loaders.sessionById.load(seat.session.id)) as Session;
  }
}
