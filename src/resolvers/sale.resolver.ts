import { Args, Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { salesHistory } from '../booking/sales-history';
import { type Context, requireViewer } from './context';
import { Reservation } from '../entities/reservation.entity';
import { Sale } from '../entities/sale.entity';
import { Session } from '../entities/session.entity';
import { SaleConnection } from './connection.types';
import { SalesHistoryArgs } from './sales-history.args';
import { SeatView } from './seat.type';

@Resolver(() => Sale)
export class SaleResolver {
  @Authorized()
  @Query(() => SaleConnection, {
    description: "Sales of a user, newest first. userId defaults to you; another user's needs admin.",
  })
  async salesHistory(@Args() args: SalesHistoryArgs, @Ctx() context: Context): Promise<SaleConnection> {
    return salesHistory(context.em, requireViewer(context), { ...args, first: args.first ?? 20 });
  }

  @FieldResolver(() => Reservation, { description: 'The confirmed reservation.' })
  async reservation(@Root() sale: Sale, @Ctx() { loaders }: Context): Promise<Reservation> {
    return (await loaders.reservationById.load(sale.reservation.id)) as Reservation;
  }

  @FieldResolver(() => Session, { description: 'The session of the seats.' })
  async session(@Root() sale: Sale, @Ctx() { loaders }: Context): Promise<Session> {
    return (await loaders.sessionById.load(sale.session.id)) as Session;
  }

  @FieldResolver(() => [SeatView], { description: 'The seats sold, ordered by row, then number.' })
  async seats(@Root() sale: Sale, @Ctx() { loaders }: Context): Promise<SeatView[]> {
    return loaders.seatsByReservation.load(sale.reservation.id);
  }
}
