import { Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type BookingDependencies } from '../booking/booking-dependencies';
import { type SessionCatalog } from '../caching/session-catalog';
import { refundSale } from '../booking/refund-sale';
import { salesHistory } from '../booking/sales-history';
import { type Context, requireViewer } from './context';
import { SaleStatus } from '../entities/enums';
import { Refund } from '../entities/refund.entity';
import { Reservation } from '../entities/reservation.entity';
import { Sale } from '../entities/sale.entity';
import { Session } from '../entities/session.entity';
import { parseId } from '../infra/uuid';
import { SaleConnection } from './connection.types';
import { RefundSaleArgs } from './refund-sale.args';
import { SalesHistoryArgs } from './sales-history.args';
import { SeatView } from './seat.type';

@Resolver(() => Sale)
export class SaleResolver {
  constructor(
    private readonly booking: BookingDependencies,
    /** Sessions never change once created: a sale's `session` is read once per process. */
    private readonly sessions: SessionCatalog,
  ) {}

  @Authorized()
  @Query(() => SaleConnection, {
    description: "Sales of a user, newest first. userId defaults to you; another user's needs admin.",
  })
  async salesHistory(@Args() args: SalesHistoryArgs, @Ctx() context: Context): Promise<SaleConnection> {
    return salesHistory(context.em, requireViewer(context), { ...args, first: args.first ?? 20 });
  }

  @Authorized()
  @Mutation(() => Sale, {
    description:
      "Refunds a sale (owner or admin): 100 % while more than 24 h remain before the session starts, 50 % while more than 12 h remain, else 0 %. Owners get REFUND_NOT_ALLOWED once the policy gives 0 %; admins may refund any sale at any time and choose the percent (with a reason when it differs from the policy's). Seats go back on sale if the session has not started. Refunding a REFUNDED sale returns it unchanged.",
  })
  async refundSale(
    @Args() { saleId, reason, percent }: RefundSaleArgs,
    @Ctx() context: Context,
  ): Promise<Sale> {
    return refundSale(
      this.booking,
      context.em,
      requireViewer(context),
      { saleId: parseId('saleId', saleId), reason, percent },
      context.deadline,
    );
  }

  @FieldResolver(() => Reservation, { description: 'The confirmed reservation.' })
  async reservation(@Root() sale: Sale, @Ctx() { loaders }: Context): Promise<Reservation> {
    return (await loaders.reservationById.load(sale.reservation.id)) as Reservation;
  }

  @FieldResolver(() => Session, { description: 'The session of the seats.' })
  async session(@Root() sale: Sale, @Ctx() { loaders }: Context): Promise<Session> {
    return (await this.sessions.load(sale.session.id, (id) => loaders.sessionById.load(id))) as Session;
  }

  @FieldResolver(() => [SeatView], {
    description:
      'The seats sold, ordered by row, then number, as they are now (AVAILABLE again once refunded before the start).',
  })
  async seats(@Root() sale: Sale, @Ctx() { loaders }: Context): Promise<SeatView[]> {
    return loaders.seatsByReservation.load(sale.reservation.id);
  }

  @FieldResolver(() => Refund, { nullable: true, description: 'The refund, once REFUNDED; null while PAID.' })
  async refund(@Root() sale: Sale, @Ctx() { loaders }: Context): Promise<Refund | null> {
    return sale.status === SaleStatus.REFUNDED ? loaders.refundBySale.load(sale.id) : null;
  }
}
