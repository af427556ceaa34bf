import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type BookingDependencies } from '../booking/booking-dependencies';
import { type SessionCatalog } from '../caching/session-catalog';
import { cancelReservation } from '../booking/cancel-reservation';
import { confirmPayment } from '../booking/confirm-payment';
import { extendReservation } from '../booking/extend-reservation';
import { getReservation, listMyReservations } from '../booking/reservation-queries';
import { reserve } from '../booking/reserve/reserve';
import { reserveBestAvailable } from '../booking/reserve/reserve-best-available';
import { type Context, requireViewer } from './context';
import { ReservationStatus } from '../entities/enums';
import { reservationStatusAsRead } from '../entities/hold-rules';
import { Reservation } from '../entities/reservation.entity';
import { Sale } from '../entities/sale.entity';
import { Session } from '../entities/session.entity';
import { parseId } from '../infra/uuid';
import { type ReservationRoot, reservationRootOf } from './reservation-root';
import { MyReservationsArgs, ReservationArgs, ReservationIdArgs } from './reservation.args';
import { BestAvailableInput, ReserveInput } from './reserve.input';
import { SeatView } from './seat.type';

@Resolver(() => Reservation)
export class ReservationResolver {
  constructor(
    private readonly booking: BookingDependencies,
    /** Sessions never change once created: a reservation's `session` is read once per process. */
    private readonly sessions: SessionCatalog,
  ) {}

  @Authorized()
  @Query(() => Reservation, {
    nullable: true,
    description: 'One reservation: your own, or any for admins. NOT_FOUND if it does not exist.',
  })
  async reservation(@Args() { id }: ReservationArgs, @Ctx() context: Context): Promise<Reservation> {
    return getReservation(context.em, requireViewer(context), parseId('id', id));
  }

  @Authorized()
  @Query(() => [Reservation], { description: 'Your reservations, newest first (at most 200).' })
  async myReservations(
    @Args() { status }: MyReservationsArgs,
    @Ctx() context: Context,
  ): Promise<ReservationRoot[]> {
    const listings = await listMyReservations(context.em, requireViewer(context), status ?? undefined);
    // The seats came with the reservations (same statement, same clock): `seats` reads them
    // from the loader instead of two more queries.
    for (const listing of listings) {
      context.loaders.seatsByReservation.prime(
        listing.id,
        listing.seats.map((seat) => SeatView.of(seat)),
      );
    }
    return listings.map(reservationRootOf);
  }

  @Authorized()
  @Mutation(() => Reservation, {
    description: 'Holds 1-10 seats of one session for HOLD_SECONDS, all or none.',
  })
  async reserve(
    @Arg('input', () => ReserveInput, { description: 'What to hold.' }) input: ReserveInput,
    @Ctx() context: Context,
  ): Promise<Reservation> {
    return reserve(this.booking, context.em, requireViewer(context), input, context.deadline);
  }

  @Authorized()
  @Mutation(() => Reservation, {
    description:
      'Holds the best free seats side by side in one row, chosen by the server (nearest two thirds of the depth, centred), as reserve does. SEAT_UNAVAILABLE with reason NO_ADJACENT_BLOCK when no such block is free.',
  })
  async reserveBestAvailable(
    @Arg('input', () => BestAvailableInput, { description: 'How many seats, of which kind.' })
    input: BestAvailableInput,
    @Ctx() context: Context,
  ): Promise<Reservation> {
    return reserveBestAvailable(this.booking, context.em, requireViewer(context), input, context.deadline);
  }

  @Authorized()
  @Mutation(() => Sale, {
    description: 'Pays your PENDING reservation: its seats become SOLD. Repeating it returns the same Sale.',
  })
  async confirmPayment(@Args() { reservationId }: ReservationIdArgs, @Ctx() context: Context): Promise<Sale> {
    return confirmPayment(
      this.booking,
      context.em,
      requireViewer(context),
      parseId('reservationId', reservationId),
      context.deadline,
    );
  }

  @Authorized()
  @Mutation(() => Reservation, { description: 'Cancels your PENDING reservation and frees its seats.' })
  async cancelReservation(
    @Args() { reservationId }: ReservationIdArgs,
    @Ctx() context: Context,
  ): Promise<Reservation> {
    return cancelReservation(
      this.booking,
      context.em,
      requireViewer(context),
      parseId('reservationId', reservationId),
      context.deadline,
    );
  }

  @Authorized()
  @Mutation(() => Reservation, {
    description:
      'Extends your PENDING hold: it then ends HOLD_SECONDS from now, but never later than HOLD_MAX_SECONDS after `createdAt`. LIMIT_EXCEEDED once it already ends there.',
  })
  async extendReservation(
    @Args() { reservationId }: ReservationIdArgs,
    @Ctx() context: Context,
  ): Promise<Reservation> {
    return extendReservation(
      this.booking,
      context.em,
      requireViewer(context),
      parseId('reservationId', reservationId),
      context.deadline,
    );
  }

  @FieldResolver(() => ReservationStatus, {
    description: 'Current status; a PENDING reservation past `expiresAt` reads as EXPIRED.',
  })
  status(@Root() reservation: ReservationRoot): ReservationStatus {
    return reservationStatusAsRead(reservation);
  }

  @FieldResolver(() => Session, { description: 'The session of the seats.' })
  async session(@Root() reservation: ReservationRoot, @Ctx() { loaders }: Context): Promise<Session> {
    return (await this.sessions.load(reservation.session.id, (id) =>
      loaders.sessionById.load(id),
    )) as Session;
  }

  @FieldResolver(() => [SeatView], {
    description: 'The seats it holds (or held), ordered by row, then number.',
  })
  async seats(@Root() reservation: ReservationRoot, @Ctx() { loaders }: Context): Promise<SeatView[]> {
    return loaders.seatsByReservation.load(reservation.id);
  }

  @FieldResolver(() => Sale, { nullable: true, description: 'The sale, once CONFIRMED.' })
  async sale(@Root() reservation: ReservationRoot, @Ctx() { loaders }: Context): Promise<Sale | null> {
    return loaders.saleByReservation.load(reservation.id);
  }
}
