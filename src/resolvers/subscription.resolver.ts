import { Args, Ctx, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { type ReservationChangedEvent, type SeatStatusChangedEvent } from '../booking/booking-events';
import { type Context, requireViewer } from '../context';
import { Reservation } from '../entities/reservation.entity';
import { badUserInput, forbidden, notFound } from '../errors/domain-error';
import { isUuid } from '../infra/uuid';
import { ReservationIdArgs } from './reservation.args';
import { SeatStatusChange } from './seat-status-change.type';
import { SessionIdArgs } from './session.args';

type SubscribeData<Args> = SubscribeResolverData<unknown, Args, Context>;

// Subscribe-time checks run once per subscription, before any event: arguments are not
// validated by class-validator on this path, so they are checked here.
function uuidArgument(value: string, field: string): string {
  if (!isUuid(value)) {
    throw badUserInput(field, `${field} must be a UUID.`);
  }
  return value.toLowerCase();
}

@Resolver()
export class SubscriptionResolver {
  @Subscription(() => SeatStatusChange, {
    description:
      "Every committed status change of the session's seats. Apply a seat's change only if its version is newer than yours. No token needed.",
    subscribe: async ({ args, context }: SubscribeData<SessionIdArgs>) => {
      const sessionId = uuidArgument(args.sessionId, 'sessionId');
      if (!(await context.loaders.sessionById.load(sessionId))) {
        throw notFound('Session', sessionId);
      }
      return context.live.subscribe('seat-status-changed', sessionId);
    },
  })
  seatStatusChanged(@Args() _args: SessionIdArgs, @Root() event: SeatStatusChangedEvent): SeatStatusChange {
    return SeatStatusChange.fromEvent(event);
  }

  @Subscription(() => Reservation, {
    description: 'Every committed change of one reservation. Owner or admin only.',
    subscribe: async ({ args, context }: SubscribeData<ReservationIdArgs>) => {
      const viewer = requireViewer(context);
      const reservationId = uuidArgument(args.reservationId, 'reservationId');
      const reservation = await context.loaders.reservationById.load(reservationId);
      if (!reservation) {
        throw notFound('Reservation', reservationId);
      }
      if (reservation.userId !== viewer.userId && !viewer.isAdmin) {
        throw forbidden('This reservation belongs to another user.');
      }
      return context.live.subscribe('reservation-updated', reservationId);
    },
  })
  async reservationUpdated(
    @Args() _args: ReservationIdArgs,
    @Root() event: ReservationChangedEvent,
    @Ctx() { loaders }: Context,
  ): Promise<Reservation> {
    // Read after the event: the reservation is at least as new as the change announced.
    return (await loaders.reservationById.load(event.reservationId)) as Reservation;
  }
}
