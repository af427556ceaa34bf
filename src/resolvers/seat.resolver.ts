import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { type SessionCatalog } from '../caching/session-catalog';
import { type Context } from './context';
import { Session } from '../entities/session.entity';
import { SeatView } from './seat.type';

@Resolver(() => SeatView)
export class SeatResolver {
  /** Sessions never change once created: a seat's `session` is read once per process. */
  constructor(private readonly sessions: SessionCatalog) {}

  @FieldResolver(() => Session, { description: 'The session the seat belongs to.' })
  async session(@Root() seat: SeatView, @Ctx() { loaders }: Context): Promise<Session> {
    return (await this.sessions.load(seat.sessionId, (id) => loaders.sessionById.load(id))) as Session;
  }
}
