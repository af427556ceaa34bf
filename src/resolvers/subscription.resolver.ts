import { Args, Ctx, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { type SeatStatusChangedEvent } from '../booking/booking-events';
import { type ReservationUpdate } from '../live/live-pubsub';
import { type Context, requireViewer } from './context';
import { Reservation } from '../entities/reservation.entity';
import { mayRead } from '../booking/reservation-queries';
import { badUserInput, forbidden, notFound } from '../errors/domain-error';
import { parseId } from '../infra/uuid';
import { ReservationIdArgs } from './reservation.args';
import { SeatStatusChange } from './seat-status-change.type';
import { SeatStatusChangedArgs } from './session.args';

type SubscribeData<Args> = SubscribeResolverData<unknown, Args, Context>;

// Subscribe-time checks run once per subscription, before any event.
@Resolver()
export class SubscriptionResolver {
  @Subscription(() => SeatStatusChange, {
    description:
      "Every committed status change of the session's seats, in mapVersion order (consecutive: a gap means a missed change). Apply a seat's change only if its version is newer than yours. With afterMapVersion, the changes after it first. No token needed.",
    subscribe: async ({ args, context }: SubscribeData<SeatStatusChangedArgs>) => {
      const sessionId = parseId('sessionId', args.sessionId);
      const { afterMapVersion } = args;
      if (afterMapVersion !== undefined && afterMapVersion !== null && afterMapVersion < 0) {
        throw badUserInput('afterMapVersion', 'afterMapVersion must be 0 or more.');
      }
      if (!(await context.loaders.sessionById.load(sessionId))) {
        throw notFound('Session', sessionId);
      }
      return context.seatMaps.subscribe(sessionId, afterMapVersion);
    },
  })
  seatStatusChanged(
    @Args() _args: SeatStatusChangedArgs,
    @Root() event: SeatStatusChangedEvent,
  ): SeatStatusChange {
    return SeatStatusChange.fromEvent(event);
  }

  @Subscription(() => Reservation, {
    description:
      'Every committed change of one reservation, and of its sale (a refund). Owner or admin only.',
    subscribe: async ({ args, context }: SubscribeData<ReservationIdArgs>) => {
      const viewer = requireViewer(context);
      const reservationId = parseId('reservationId', args.reservationId);
      const reservation = await context.loaders.reservationById.load(reservationId);
      if (!reservation) {
        throw notFound('Reservation', reservationId);
      }
      if (!mayRead(viewer, reservation)) {
        throw forbidden('This reservation belongs to another user.');
      }
      return context.live.subscribe('reservation-updated', reservationId);
    },
  })
  async reservationUpdated(
    @Args() _args: ReservationIdArgs,
    @Root() event: ReservationUpdate,
    @Ctx() { loaders }: Context,
  ): Promise<Reservation> {
    // Read after the event: the reservation is at least as new as the change announced.
    return (await loaders.reservationById.load(event.reservationId)) as Reservation;
  }
}
