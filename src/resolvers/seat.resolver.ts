import { Ctx, FieldResolver, ID, Resolver, Root } from 'type-graphql';
import { effectiveSeatStatus } from '../booking/seat.repository';
import { seatLabel } from '../booking/seat-label';
import { type Context } from '../context';
import { SeatStatus } from '../entities/enums';
import { Seat } from '../entities/seat.entity';
import { Session } from '../entities/session.entity';

@Resolver(() => Seat)
export class SeatResolver {
  @FieldResolver(() => ID, { description: 'UUID of the session the seat belongs to.' })
  sessionId(@Root() seat: Seat): string {
    return seat.session.id;
  }

  @FieldResolver(() => String, { description: 'Row letters and number, e.g. "C7".' })
  label(@Root() seat: Seat): string {
    return seatLabel(seat.row, seat.number);
  }

  @FieldResolver(() => SeatStatus, {
    description: 'Current status; a hold that has ended reads as AVAILABLE.',
  })
  status(@Root() seat: Seat): SeatStatus {
    return effectiveSeatStatus(seat);
  }

  @FieldResolver(() => Session, { description: 'The session the seat belongs to.' })
  async session(@Root() seat: Seat, @Ctx() { loaders }: Context): Promise<Session> {
    return (await loaders.sessionById.load(seat.session.id)) as Session;
  }
}
