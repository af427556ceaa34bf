import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { type Context } from './context';
import { Session } from '../entities/session.entity';
import { SeatView } from './seat.type';

@Resolver(() => SeatView)
export class SeatResolver {
  @FieldResolver(() => Session, { description: 'The session the seat belongs to.' })
  async session(@Root() seat: SeatView, @Ctx() { loaders }: Context): Promise<Session> {
    return (await loaders.sessionById.load(seat.sessionId)) as Session;
  }
}
